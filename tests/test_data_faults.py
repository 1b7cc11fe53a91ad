"""Every fault in the real data ends in one line naming the file or folder, what is wrong and what to do.

Each row of FAULTS builds a broken copy of the data folder in tmp_path (links to the real files, the broken one
written as a file of its own) and states words the one-line message must hold. Rows that make a path unreadable run
in a subprocess without the capabilities that let root read anything, since these tests run as root in CI."""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import warnings
from collections import namedtuple
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

import gdcore
from gdcore.data import MNIST_FILES, DataError, load_airfoil, load_mnist, missing_reason, present

TRAIN_IMAGES, TRAIN_LABELS, T10K_IMAGES, T10K_LABELS = (f"MNIST/raw/{f}" for f in MNIST_FILES)
AIRFOIL = "airfoil/airfoil_self_noise.dat"
LOADERS = {"mnist-logreg": load_mnist, "airfoil-linreg": load_airfoil}
WHAT_TO_DO = "point the project at a copy with --data-dir DIR or GDCORE_DATA_DIR=DIR holding "
LIBRARY_WORDS = ("download=True", "AssertionError", "Traceback")  # torchvision's advice and bare asserts
# Python run in a subprocess loads the data as the API does and prints the error's type and message.
API_SCRIPT = """
import sys
from gdcore.data import load_airfoil, load_mnist
try:
    {"mnist-logreg": load_mnist, "airfoil-linreg": load_airfoil}[sys.argv[1]](sys.argv[2], sys.argv[3:] == ["download"])
except ValueError as e:
    print(type(e).__name__, e, sep="|")
else:
    print("loaded")
"""

Fault = namedtuple("Fault", "workload build expect cli")


def row(id, workload, build, *expect, cli=False):
    """One fault: `build(d, real)` breaks the copy `d` of the data folder `real` and returns the paths to make
    unreadable (chmod 000), if any; `expect` are words of the message, {d} the copy; `cli`: end to end too."""
    return pytest.param(Fault(workload, build, expect, cli), id=id)


def _own(d: Path, rel: str, data: bytes) -> Path:
    """Replace the link `rel` in `d` by a file of its own holding `data`."""
    p = d / rel
    p.unlink()
    p.write_bytes(data)
    return p


def edit(rel: str, change):
    """A builder that writes change(the real bytes of `rel`) in place of the link."""
    def build(d, real):
        _own(d, rel, change((real / rel).read_bytes()))
    return build


def cell(r: int, c: int, text: str):
    """A change to the airfoil file: the value in row r, column c (both from 1) becomes `text`."""
    def change(data: bytes) -> bytes:
        lines = data.decode().split("\n")
        cells = lines[r - 1].split("\t")
        cells[c - 1] = text
        lines[r - 1] = "\t".join(cells)
        return "\n".join(lines).encode()
    return change


def swap(a: str, b: str):
    """A builder that exchanges two files of the copy."""
    def build(d, real):
        (d / a).unlink()
        (d / b).unlink()
        (d / a).symlink_to(real / b)
        (d / b).symlink_to(real / a)
    return build


def remove(rel: str):
    """A builder that deletes `rel` ("" for the data folder itself)."""
    def build(d, real):
        if (d / rel).is_dir() and not (d / rel).is_symlink():
            shutil.rmtree(d / rel)
        else:
            (d / rel).unlink()
    return build


def replace_by(rel: str, kind: str):
    """A builder that puts a "file", a "folder" or a "dangling" link where `rel` ("" for the data folder) was."""
    def build(d, real):
        remove(rel)(d, real)
        {"file": lambda p: p.write_text("not a folder\n"), "folder": lambda p: p.mkdir(),
         "dangling": lambda p: p.symlink_to(d / "gone")}[kind](d / rel)
    return build


def lock(*rels: str):
    """A builder that makes `rels` unreadable; a file first becomes a copy of its own, so that chmod does not follow
    the link to the real file."""
    def build(d, real):
        for rel in rels:
            if (d / rel).is_symlink():
                _own(d, rel, (real / rel).read_bytes())
        return [d / rel for rel in rels]
    return build


AIRFOIL_AT = "airfoil file {d}/airfoil/airfoil_self_noise.dat is corrupt"
FAULTS = [
    # MNIST files that exist but cannot be parsed: "corrupt", the file, the reason
    row("mnist-truncated", "mnist-logreg", edit(TRAIN_IMAGES, lambda b: b[:1000]),
        "MNIST file {d}/MNIST/raw/train-images-idx3-ubyte is corrupt (truncated: expected 47040016 bytes, found 1000)",
        cli=True),
    row("mnist-cut-in-header", "mnist-logreg", edit(T10K_IMAGES, lambda b: b[:10]),
        "{d}/MNIST/raw/t10k-images-idx3-ubyte is corrupt (truncated: expected 7840016 bytes, found 10)"),
    row("mnist-labels-header-only", "mnist-logreg", edit(T10K_LABELS, lambda b: b[:8]),
        "{d}/MNIST/raw/t10k-labels-idx1-ubyte is corrupt (truncated: expected 10008 bytes, found 8)"),
    row("mnist-too-long", "mnist-logreg", edit(TRAIN_LABELS, lambda b: b + bytes(12)),
        "{d}/MNIST/raw/train-labels-idx1-ubyte is corrupt (12 bytes too long: expected 60008 bytes, found 60020)"),
    row("mnist-bad-magic", "mnist-logreg", edit(T10K_LABELS, lambda b: bytes.fromhex("12345678") + b[4:]),
        "{d}/MNIST/raw/t10k-labels-idx1-ubyte is corrupt (bad magic number 305419896, expected 2049 for labels)"),
    row("mnist-image-magic-in-labels", "mnist-logreg", edit(TRAIN_LABELS, lambda b: (2051).to_bytes(4, "big") + b[4:]),
        "{d}/MNIST/raw/train-labels-idx1-ubyte is corrupt (bad magic number 2051, expected 2049 for labels; "
        "the magic number of an idx images file)"),
    row("mnist-empty", "mnist-logreg", edit(T10K_LABELS, lambda b: b""),
        "MNIST file {d}/MNIST/raw/t10k-labels-idx1-ubyte is corrupt (empty: 0 bytes)", cli=True),
    row("mnist-gzipped", "mnist-logreg", edit(T10K_LABELS, gzip.compress),
        "{d}/MNIST/raw/t10k-labels-idx1-ubyte is corrupt (gzip-compressed: it must be unpacked, e.g. with gunzip)"),
    row("mnist-images-not-28x28", "mnist-logreg",
        edit(T10K_IMAGES, lambda b: b[:8] + (32).to_bytes(4, "big") * 2 + b[16:]),
        "{d}/MNIST/raw/t10k-images-idx3-ubyte is corrupt (images of 32x32 pixels, expected 28x28)"),
    row("mnist-label-out-of-range", "mnist-logreg", edit(T10K_LABELS, lambda b: b[:8] + b"\x0c" + b[9:]),
        "MNIST file {d}/MNIST/raw/t10k-labels-idx1-ubyte is corrupt (label 12 outside 0..9)"),
    # MNIST files from the wrong split: the file whose count is wrong, and the counts expected
    row("mnist-labels-swapped", "mnist-logreg", swap(TRAIN_LABELS, T10K_LABELS),
        "MNIST file {d}/MNIST/raw/train-labels-idx1-ubyte holds 10000 labels, expected 60000 "
        "(train-labels-idx1-ubyte: 60000, t10k-labels-idx1-ubyte: 10000; it looks like t10k-labels-idx1-ubyte: "
        "are the two swapped?)", cli=True),
    row("mnist-images-swapped", "mnist-logreg", swap(TRAIN_IMAGES, T10K_IMAGES),
        "MNIST file {d}/MNIST/raw/train-images-idx3-ubyte holds 10000 images, expected 60000"),
    # missing with download off: what is missing, that download is off, how to point at a copy
    row("mnist-missing-no-download", "mnist-logreg", remove(T10K_LABELS),
        "MNIST not found in {d}/MNIST/raw (missing t10k-labels-idx1-ubyte); download is off (--no-download)", cli=True),
    row("airfoil-missing-no-download", "airfoil-linreg", remove(AIRFOIL),
        "airfoil file {d}/airfoil/airfoil_self_noise.dat not found; download is off (--no-download)"),
    row("data-dir-missing", "mnist-logreg", remove(""),
        "MNIST not found in {d}/MNIST/raw (the data folder {d} does not exist); download is off (--no-download)"),
    # paths of the wrong kind
    row("data-dir-is-a-file", "airfoil-linreg", replace_by("", "file"), "the data folder {d} is a file, not a folder",
        cli=True),
    row("mnist-raw-is-a-file", "mnist-logreg", replace_by("MNIST/raw", "file"),
        "{d}/MNIST/raw is a file, not a folder"),
    row("airfoil-file-is-a-folder", "airfoil-linreg", replace_by(AIRFOIL, "folder"),
        "{d}/airfoil/airfoil_self_noise.dat is a folder, not a file"),
    row("mnist-dangling-link", "mnist-logreg", replace_by(TRAIN_IMAGES, "dangling"),
        "{d}/MNIST/raw/train-images-idx3-ubyte is a link to {d}/gone, which does not exist"),
    # airfoil files that cannot be parsed: the row and column at fault, or that it is empty
    row("airfoil-nan", "airfoil-linreg", edit(AIRFOIL, cell(5, 3, "nan")),
        AIRFOIL_AT + " (non-finite value nan in row 5, column 3)", cli=True),
    row("airfoil-inf", "airfoil-linreg", edit(AIRFOIL, cell(1500, 6, "-inf")),
        AIRFOIL_AT + " (non-finite value -inf in row 1500, column 6)"),
    row("airfoil-not-a-number", "airfoil-linreg", edit(AIRFOIL, cell(2, 2, "bad")),
        AIRFOIL_AT + " (row 2, column 2: 'bad' is not a number)"),
    row("airfoil-empty", "airfoil-linreg", edit(AIRFOIL, lambda b: b""), AIRFOIL_AT + " (empty: 0 bytes)", cli=True),
    row("airfoil-blank", "airfoil-linreg", edit(AIRFOIL, lambda b: b"\n \n\n"),
        AIRFOIL_AT + " (empty: 4 bytes of blank space)"),
    row("airfoil-cut-mid-row", "airfoil-linreg", edit(AIRFOIL, lambda b: b[:-20]),
        AIRFOIL_AT + " (row 1503 has 4 tab-separated values, expected 6)"),
    row("airfoil-too-few-rows", "airfoil-linreg", edit(AIRFOIL, lambda b: b"".join(b.splitlines(True)[:1000])),
        AIRFOIL_AT + " (too few rows: 1000, expected at least 1500"),
    row("airfoil-binary", "airfoil-linreg", edit(AIRFOIL, lambda b: b"\x89PNG\r\n" + b),
        AIRFOIL_AT + " (not a text file: byte 0x89 at offset 0)"),
    # unreadable folders and files: "cannot read PATH: permission denied", never a PermissionError
    row("unreadable-data-dir-mnist", "mnist-logreg", lock(""),
        "cannot read {d}: permission denied; make it readable (chmod), or ", cli=True),
    row("unreadable-data-dir-airfoil", "airfoil-linreg", lock(""),
        "cannot read {d}: permission denied; make it readable (chmod), or "),
    row("unreadable-MNIST", "mnist-logreg", lock("MNIST"), "cannot read {d}/MNIST: permission denied"),
    row("unreadable-MNIST-raw", "mnist-logreg", lock("MNIST/raw"), "cannot read {d}/MNIST/raw: permission denied",
        cli=True),
    row("unreadable-mnist-file", "mnist-logreg", lock(T10K_LABELS),
        "cannot read {d}/MNIST/raw/t10k-labels-idx1-ubyte: permission denied", cli=True),
    row("unreadable-airfoil-folder", "airfoil-linreg", lock("airfoil"), "cannot read {d}/airfoil: permission denied"),
    row("unreadable-airfoil-file", "airfoil-linreg", lock(AIRFOIL),
        "cannot read {d}/airfoil/airfoil_self_noise.dat: permission denied", cli=True),
]


def _copy_of(real: Path, d: Path) -> Path:
    """`d` laid out as the real data folder, each file a link to the real one."""
    for rel in (TRAIN_IMAGES, TRAIN_LABELS, T10K_IMAGES, T10K_LABELS, AIRFOIL):
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).symlink_to(real / rel)
    return d


@pytest.fixture(scope="session")
def unprivileged(tmp_path_factory) -> list[str]:
    """A command prefix under which chmod 000 keeps a file unreadable: none for a user other than root, else setpriv
    dropping the capabilities that let root read anything; skips when neither works."""
    probe = tmp_path_factory.mktemp("probe") / "unreadable"
    probe.write_text("secret")
    probe.chmod(0)
    try:
        candidates = [[]] if os.geteuid() != 0 else []
        if shutil.which("setpriv"):
            candidates.append(["setpriv", "--bounding-set=-dac_override,-dac_read_search"])
        for prefix in candidates:
            r = subprocess.run([*prefix, sys.executable, "-c", f"open({str(probe)!r})"], capture_output=True, text=True)
            if "PermissionError" in r.stderr:
                return prefix
    finally:
        probe.chmod(0o600)
    pytest.skip("chmod 000 does not keep files from this user (root), and setpriv cannot drop its capabilities")


def _env() -> dict:
    """The environment for a subprocess that imports this very gdcore."""
    return {**os.environ, "PYTHONPATH": str(Path(gdcore.__file__).resolve().parents[1])}


def _broken(fault: Fault, tmp_path: Path, real: Path, request) -> tuple[Path, list[str], list[str] | None]:
    """The broken copy of the data folder, the expected words, and the command prefix under which its locks hold
    (None: there are none); the locks are undone when the test ends."""
    d = _copy_of(real, tmp_path / "data")
    locks = fault.build(d, real) or []
    prefix = request.getfixturevalue("unprivileged") if locks else None
    for p in locks:
        request.addfinalizer(lambda p=p: p.chmod(0o755 if p.is_dir() else 0o644))  # so that tmp_path can be removed
        p.chmod(0)
    shown = os.path.realpath(d)
    return d, [w.format(d=shown) for w in fault.expect], prefix


def _assert_one_line(msg: str, expect: list[str], workload: str) -> None:
    """The message is one line holding the expected words and what to do, and no library's words."""
    assert "\n" not in msg, msg
    for words in expect:
        assert words in msg, f"{words!r} not in {msg!r}"
    held = "MNIST/raw/" if workload.startswith("mnist") else AIRFOIL
    assert msg.endswith(WHAT_TO_DO + held), msg
    assert not any(w in msg for w in LIBRARY_WORDS), msg


@pytest.mark.parametrize("fault", FAULTS)
def test_api_raises_one_line(fault, tmp_path, data_root, request, capfd):
    d, expect, prefix = _broken(fault, tmp_path, data_root, request)
    if prefix is not None:  # as root, only a process without its capabilities sees the chmod
        r = subprocess.run([*prefix, sys.executable, "-c", API_SCRIPT, fault.workload, str(d)],
                           capture_output=True, text=True, env=_env())
        kind, _, msg = r.stdout.strip().partition("|")
        assert (r.returncode, kind, r.stderr) == (0, "DataError", ""), r.stdout + r.stderr
    else:
        with warnings.catch_warnings(record=True) as caught, pytest.raises(ValueError) as e:
            warnings.simplefilter("always")
            LOADERS[fault.workload](str(d), False)
        assert isinstance(e.value, DataError)
        assert [str(w.message) for w in caught] == []
        msg = str(e.value)
    _assert_one_line(msg, expect, fault.workload)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("fault", [p for p in FAULTS if p.values[0].cli])
def test_cli_one_line(fault, tmp_path, data_root, request):
    d, expect, prefix = _broken(fault, tmp_path, data_root, request)
    prefix = prefix or []
    cmd = [sys.executable, "-m", "gdcore.cli", "run", "--workload", fault.workload, "--data-dir", str(d),
           "--no-download", "--quiet", "--samples", "10"]
    r = subprocess.run([*prefix, *cmd], capture_output=True, text=True, env=_env())
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("gdcore: error: "), r.stderr
    _assert_one_line(r.stderr[len("gdcore: error: "):-1], expect, fault.workload)


def test_present_says_false_and_why_for_an_unreadable_folder(tmp_path, data_root, request):
    d, _, prefix = _broken(Fault("mnist-logreg", lock("MNIST/raw"), (), False), tmp_path, data_root, request)
    script = "import sys; from gdcore.data import present, missing_reason as m; d = sys.argv[1]; " \
             "print(present(d), m(d, 'mnist'), m(d, 'airfoil'), sep='|')"
    r = subprocess.run([*prefix, sys.executable, "-c", script, str(d)], capture_output=True, text=True, env=_env())
    assert r.returncode == 0 and r.stderr == "", r.stderr
    have, why_mnist, why_airfoil = r.stdout.strip().split("|")
    assert have == "{'mnist': False, 'airfoil': True}"
    assert why_mnist == f"cannot read {os.path.realpath(d)}/MNIST/raw: permission denied"
    assert why_airfoil == "None"


@pytest.mark.parametrize("kind", ["file", "folder", "dangling"])
def test_present_never_raises(tmp_path, data_root, kind):
    d = _copy_of(data_root, tmp_path / "data")
    replace_by("MNIST", kind)(d, data_root)
    (tmp_path / "file").write_text("not a folder\n")
    assert present(d) == {"mnist": False, "airfoil": True}
    assert present(tmp_path / "file") == {"mnist": False, "airfoil": False}
    assert present(tmp_path / "nowhere") == {"mnist": False, "airfoil": False}
    assert "not found" in missing_reason(tmp_path / "nowhere", "mnist")
    shown = os.path.realpath(tmp_path / "file")
    assert missing_reason(tmp_path / "file", "airfoil") == f"the data folder {shown} is a file, not a folder"


def test_the_real_data_are_present_and_read_as_before(data_root):
    assert present(data_root) == {"mnist": True, "airfoil": True}
    assert missing_reason(data_root, "mnist") is None and missing_reason(data_root, "airfoil") is None
    table = np.loadtxt(data_root / AIRFOIL, delimiter="\t", dtype=np.float64, ndmin=2)  # how it was read before
    table = torch.from_numpy(((table - table.mean(axis=0)) / table.std(axis=0))[:1500]).float()
    d = load_airfoil(str(data_root), False)
    assert torch.equal(d.train_x, table[:, :5]) and torch.equal(d.train_y, table[:, 5:])


def _offline(monkeypatch) -> None:
    """Make every download fail as it would offline, after writing part of the file it fetches."""
    from torchvision.datasets import utils

    def fail(url, filename, *args, **kwargs):
        Path(filename).write_bytes(b"partial")
        raise URLError("offline (test)")

    monkeypatch.setattr(utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(utils, "_urlretrieve", fail)


def _served_from(real: Path, monkeypatch) -> list[str]:
    """Make downloads serve the real files (MNIST's gzipped, as its mirrors do); returns the names fetched."""
    from torchvision.datasets import utils

    fetched = []

    def serve(url, filename, *args, **kwargs):
        name = url.rsplit("/", 1)[1]
        fetched.append(name)
        if name.endswith(".gz"):
            Path(filename).write_bytes(gzip.compress((real / "MNIST" / "raw" / name[:-3]).read_bytes()))
        else:
            shutil.copy(real / AIRFOIL, filename)

    monkeypatch.setattr(utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(utils, "_urlretrieve", serve)
    monkeypatch.setattr(utils, "check_md5", lambda *a, **k: True)  # our gzip is not byte for byte the mirrors'
    return fetched


def _tree(root: Path) -> list[str]:
    """Every path under `root`, relative to it."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("workload", ["mnist-logreg", "airfoil-linreg"])
def test_failed_download_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch, workload):
    _offline(monkeypatch)
    d = tmp_path / "new"
    with pytest.raises(ValueError) as e:
        LOADERS[workload](str(d), True)
    msg = str(e.value)
    assert "\n" not in msg and "the download failed" in msg and "offline (test)" in msg, msg
    assert not d.exists(), _tree(d)


def test_download_fetches_only_the_missing_files(tmp_path, monkeypatch, data_root, capfd):
    fetched = _served_from(data_root, monkeypatch)
    d = _copy_of(data_root, tmp_path / "data")
    (d / T10K_LABELS).unlink()
    shutil.rmtree(d / "airfoil")
    mnist, airfoil = load_mnist(str(d), True), load_airfoil(str(d), True)
    assert fetched == ["t10k-labels-idx1-ubyte.gz", "airfoil_self_noise.dat"]
    assert torch.equal(mnist.test_y, load_mnist(str(data_root), False).test_y)
    assert torch.equal(airfoil.train_x, load_airfoil(str(data_root), False).train_x)
    assert capfd.readouterr().out == ""  # torchvision's progress goes to stderr: stdout holds the run's JSON


def test_download_into_a_read_only_folder_says_so(tmp_path, request):
    prefix = request.getfixturevalue("unprivileged")
    d = tmp_path / "data"
    d.mkdir(mode=0o555)
    request.addfinalizer(lambda: d.chmod(0o755))
    r = subprocess.run([*prefix, sys.executable, "-c", API_SCRIPT, "mnist-logreg", str(d), "download"],
                       capture_output=True, text=True, env=_env())
    kind, _, msg = r.stdout.strip().partition("|")
    assert (r.returncode, kind) == (0, "DataError"), r.stdout + r.stderr
    assert f"and the download failed (cannot write {os.path.realpath(d)}/MNIST: permission denied)" in msg
    assert "\n" not in msg and msg.endswith(WHAT_TO_DO + "MNIST/raw/")
    assert os.listdir(d) == []


@pytest.mark.parametrize("workload", ["mnist-logreg", "airfoil-linreg"])
def test_failed_download_keeps_what_was_there(tmp_path, monkeypatch, data_root, workload):
    _offline(monkeypatch)
    d = tmp_path / "data"
    (d / "MNIST" / "raw").mkdir(parents=True)
    (d / "MNIST" / "raw" / "notes.txt").write_text("mine")
    (d / TRAIN_IMAGES).symlink_to(data_root / TRAIN_IMAGES)
    before = _tree(d)
    with pytest.raises(ValueError, match="the download failed"):
        LOADERS[workload](str(d), True)
    assert _tree(d) == before  # no airfoil/, no partial .gz, the user's files untouched
