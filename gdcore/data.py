"""Datasets as CPU tensors: MNIST and airfoil from a data directory, the synthetic ones from the run's seed.

Every fault in the real data (missing, unreadable, not a folder, corrupt, a failed download) ends in one DataError
line that names the file or folder, says what is wrong with it and what to do."""
from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import stat
import sys
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .errors import DataError

AIRFOIL_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat"
AIRFOIL_MD5 = "3972a8c9356256d50f350a799a381fb3"
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
AIRFOIL_FILE = "airfoil_self_noise.dat"
HOW_TO_POINT = "point the project at a copy with --data-dir DIR or GDCORE_DATA_DIR=DIR"
# Where each real data set lives under the data folder, and the files the loaders read there.
LAYOUT = {"mnist": ("MNIST/raw", MNIST_FILES), "airfoil": ("airfoil", (AIRFOIL_FILE,))}
HOLDING = {"mnist": "MNIST/raw/", "airfoil": f"airfoil/{AIRFOIL_FILE}"}
# idx files: big-endian uint32 magic and count (images: then rows and cols), then one byte per pixel or label.
IDX = {"images": (2051, 16, 28 * 28), "labels": (2049, 8, 1)}  # kind: (magic, header bytes, bytes per item)
MNIST_COUNTS = {"train": 60000, "t10k": 10000}
AIRFOIL_MIN_ROWS = 1500
CHMOD = "make it readable (chmod), or "  # the fix for "permission denied", before HOW_TO_POINT


@dataclass(frozen=True)
class Data:
    """Train and test tensors (float features, labels as the loss wants them); test_* are None without a test set."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor | None
    test_y: torch.Tensor | None
    per_sample: Callable[[], torch.utils.data.Dataset] | None = None  # the seed documents' Dataset (MNIST)

    @property
    def n(self) -> int:
        return self.train_x.shape[0]

    def dataset(self) -> torch.utils.data.Dataset:
        """The per-sample Dataset the dataloader path reads: torchvision's for MNIST, else a TensorDataset."""
        if self.per_sample is not None:
            return self.per_sample()
        return torch.utils.data.TensorDataset(self.train_x, self.train_y)

    def head(self, n: int) -> "Data":
        """The first n training samples (the test set stays whole)."""
        if n >= self.n:
            return self
        per_sample = self.per_sample
        if per_sample is not None:
            per_sample = lambda full=self.per_sample: torch.utils.data.Subset(full(), range(n))  # noqa: E731
        return Data(self.train_x[:n], self.train_y[:n], self.test_x, self.test_y, per_sample)


# ---- where the data are, and why they cannot be read ----------------------------------------------------------


@dataclass(frozen=True)
class _Fault:
    """Why one path of a data set's layout cannot be used."""

    path: Path
    text: str  # a clause that names the path, e.g. "cannot read /d/MNIST: permission denied"
    missing: bool = False  # only a path that does not exist is something a download can mend
    fix: str = ""  # what the user can do about it, before the usual "point the project at a copy"


def _why(e: BaseException) -> str:
    """A short reason for an OS or network error in our own words, never a library's advice."""
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP error {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return _why(e.reason) if isinstance(e.reason, BaseException) else str(e.reason)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror[0].lower() + e.strerror[1:]
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def _failure(e: BaseException) -> str:
    """Why a download failed: the file or folder it could not write, else the reason the fetch gave."""
    if isinstance(e, OSError) and not isinstance(e, urllib.error.URLError) and e.filename:
        return f"cannot write {e.filename}: {_why(e)}"
    return _why(e)


def _blocker(path: Path) -> Path:
    """The deepest folder above `path` that can be looked at: the one whose permissions keep `path` out of reach."""
    for p in path.parents:
        try:
            os.stat(p)
            return p
        except OSError:
            continue
    return path.parent


def _probe(path: Path, folder: bool, label: str = "") -> _Fault | None:
    """Why `path` cannot serve as a folder (or as a readable file), or None when it can; never raises."""
    try:
        st = os.stat(path)
    except PermissionError:  # the folder above cannot be searched: name the one the user must fix
        return _Fault(path, f"cannot read {_blocker(path)}: permission denied", fix=CHMOD)
    except FileNotFoundError:
        if os.path.islink(path):  # "does not exist" would send the user looking for a file that is there
            return _Fault(path, f"{label}{path} is a link to {os.readlink(path)}, which does not exist")
        return _Fault(path, f"{label}{path} does not exist", missing=True)
    except NotADirectoryError:  # only for the data folder: a part of its path is a file
        return _Fault(path, f"{label}{path} does not exist ({_blocker(path)} is a file, not a folder)")
    except OSError as e:  # a link loop, an I/O error
        return _Fault(path, f"cannot read {path}: {_why(e)}")
    if folder and not stat.S_ISDIR(st.st_mode):
        return _Fault(path, f"{label}{path} is a file, not a folder")
    if folder:
        return None
    if stat.S_ISDIR(st.st_mode):
        return _Fault(path, f"{path} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):  # opening a FIFO would block
        return _Fault(path, f"{path} is not a regular file")
    try:
        with open(path, "rb"):
            return None
    except OSError as e:
        return _Fault(path, f"cannot read {path}: {_why(e)}", fix=CHMOD if isinstance(e, PermissionError) else "")


def _faults(root: Path, name: str) -> list[_Fault]:
    """What keeps data set `name` in `root` from being read: the first bad folder on the way, else each bad file."""
    sub, files = LAYOUT[name]
    if fault := _probe(root, folder=True, label="the data folder "):
        return [fault]
    folder = root
    for part in Path(sub).parts:
        folder = folder / part
        if fault := _probe(folder, folder=True):
            return [fault]
    return [fault for f in files if (fault := _probe(folder / f, folder=False))]


def _not_found(root: Path, name: str, faults: list[_Fault]) -> str:
    """'MNIST not found in DIR (missing FILES)' or 'airfoil file FILE not found', for faults of missing paths only."""
    sub, files = LAYOUT[name]
    folder = root / sub
    lost = [f.path.name for f in faults if f.path.parent == folder]
    if name == "airfoil":
        head = f"airfoil file {folder / files[0]} not found"
        return head if lost else f"{head} ({faults[0].text})"
    return f"MNIST not found in {folder} ({'missing ' + ', '.join(lost) if lost else faults[0].text})"


def _reason(root: Path, name: str, faults: list[_Fault]) -> str:
    """One clause saying why data set `name` cannot be read, naming the path at fault."""
    if all(f.missing for f in faults):
        return _not_found(root, name, faults)
    return next(f.text for f in faults if not f.missing)


def _root(root: str | Path) -> Path:
    """The data folder as an absolute path for messages; realpath, unlike Path.resolve, never raises on a link loop."""
    return Path(os.path.realpath(root))


def missing_reason(root: Path, name: str) -> str | None:
    """Why data set `name` ("mnist" or "airfoil") cannot be read from `root`, in one clause, or None when it can."""
    base = _root(root)
    faults = _faults(base, name)
    return _reason(base, name, faults) if faults else None


def present(root: Path) -> dict[str, bool]:
    """Which of the real data sets are in `root`, in the layout the loaders read and readable; never raises."""
    return {name: missing_reason(root, name) is None for name in LAYOUT}


def data_dir(explicit: str | None) -> Path:
    """--data-dir, else $GDCORE_DATA_DIR, else ./data."""
    return Path(explicit or os.environ.get("GDCORE_DATA_DIR") or "data")


# ---- fetching missing files -------------------------------------------------------------------------------------


def _remove(path: Path) -> None:
    """Delete a file, link or folder tree that a failed download left; a leftover is no reason for a second error."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


@contextlib.contextmanager
def _undone_on_failure(folder: Path):
    """On any failure inside, remove what the block added: new entries in `folder` and the folders it created."""
    created = []  # the folders on the way to `folder` that do not exist yet, deepest first
    p = folder
    while not os.path.lexists(p):
        created.append(p)
        p = p.parent
    before = None  # None: the entries cannot be listed, so none is removed
    with contextlib.suppress(OSError):
        before = set(os.listdir(folder)) if not created else set()
    try:
        yield
    except BaseException:  # Ctrl-C too: a half-written file would later read as corrupt
        if before is not None:
            with contextlib.suppress(OSError):  # cleaning up must not hide why the download failed
                for entry in set(os.listdir(folder)) - before:
                    _remove(folder / entry)
        for p in created:
            with contextlib.suppress(OSError):
                os.rmdir(p)  # rmdir, not rmtree: whatever else appeared there stays
        raise


def _fetch_mnist(raw: Path, names: list[str]) -> None:
    """Download and unpack the named MNIST files into `raw`, trying torchvision's mirrors in turn."""
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import download_and_extract_archive

    md5 = dict(MNIST.resources)
    for name in names:
        gz, failures = f"{name}.gz", []
        for mirror in MNIST.mirrors:
            try:
                download_and_extract_archive(mirror + gz, str(raw), filename=gz, md5=md5[gz])
                break
            except Exception as e:
                failures.append(f"{mirror}{gz}: {_failure(e)}")
        else:
            raise RuntimeError(", ".join(failures))


def _fetch_airfoil(folder: Path, names: list[str]) -> None:
    """Download the airfoil file from the UCI repository into `folder`."""
    from torchvision.datasets.utils import download_url

    try:
        download_url(AIRFOIL_URL, str(folder), AIRFOIL_FILE, md5=AIRFOIL_MD5)
    except Exception as e:
        raise RuntimeError(f"{AIRFOIL_URL}: {_failure(e)}") from None


FETCH = {"mnist": _fetch_mnist, "airfoil": _fetch_airfoil}


def _ensure(root: Path, name: str, download: bool) -> None:
    """Raise the DataError for data set `name` in `root` unless all its files are readable, fetching missing ones first
    when `download` is on; a failed download leaves the data folder as it was."""
    faults = _faults(root, name)
    point = f"{HOW_TO_POINT} holding {HOLDING[name]}"
    if faults and all(f.missing for f in faults) and download:
        sub, files = LAYOUT[name]
        folder = root / sub
        names = [f for f in files if not os.path.lexists(folder / f)]
        try:
            with _undone_on_failure(folder), contextlib.redirect_stdout(sys.stderr):  # stdout holds our JSON
                os.makedirs(folder, exist_ok=True)
                FETCH[name](folder, names)
        except Exception as e:
            failed = f"{_not_found(root, name, faults)} and the download failed ({_failure(e)})"
            raise DataError(f"{failed}; {point}") from None
        faults = _faults(root, name)
    if not faults:
        return
    if all(f.missing for f in faults):
        raise DataError(f"{_not_found(root, name, faults)}; download is off (--no-download): "
                        f"run without it to fetch the files, or {point}")
    fault = next(f for f in faults if not f.missing)
    raise DataError(f"{fault.text}; {fault.fix}{point}")


def _read_bytes(path: Path, limit: int = -1) -> tuple[bytes, int]:
    """Up to `limit` bytes of `path` (all with -1) and its size; a DataError naming the path when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(limit), os.fstat(f.fileno()).st_size
    except OSError as e:
        fix = CHMOD if isinstance(e, PermissionError) else ""
        point = f"{HOW_TO_POINT} holding {HOLDING[_set_of(path)]}"
        raise DataError(f"cannot read {path}: {_why(e)}; {fix}{point}") from None


def _set_of(path: Path) -> str:
    """Which data set a file belongs to, for the advice at the end of a message."""
    return "airfoil" if path.name == AIRFOIL_FILE else "mnist"


def _corrupt(path: Path, why: str) -> DataError:
    """The DataError for a data file whose content is wrong."""
    what = "airfoil file" if _set_of(path) == "airfoil" else "MNIST file"
    return DataError(f"{what} {path} is corrupt ({why}); delete it to have it fetched again, "
                     f"or {HOW_TO_POINT} holding {HOLDING[_set_of(path)]}")


# ---- MNIST ------------------------------------------------------------------------------------------------------


def _wrong_count(path: Path, kind: str, count: int) -> DataError:
    """The DataError for an MNIST file holding the wrong number of items, with a hint when it is the other split's."""
    split = path.name.split("-")[0]
    other = "t10k" if split == "train" else "train"
    twin = path.name.replace(split, other, 1)
    counts = f"{path.name}: {MNIST_COUNTS[split]}, {twin}: {MNIST_COUNTS[other]}"
    hint = f"; it looks like {twin}: are the two swapped?" if count == MNIST_COUNTS[other] else ""
    return DataError(f"MNIST file {path} holds {count} {kind}, expected {MNIST_COUNTS[split]} ({counts}{hint}); "
                     f"put the right file in its place, or {HOW_TO_POINT} holding MNIST/raw/")


def _check_idx(path: Path) -> None:
    """Raise a DataError naming `path` unless its idx header and size are those of that MNIST file: torchvision's own
    checks are bare asserts that say neither which file nor what is wrong."""
    split, kind = path.name.split("-")[:2]  # "train" or "t10k", "images" or "labels"
    magic, header, item = IDX[kind]
    size_wanted = header + MNIST_COUNTS[split] * item
    head, size = _read_bytes(path, header)
    truncated = f"truncated: expected {size_wanted} bytes, found {size}"
    if size == 0:
        raise _corrupt(path, "empty: 0 bytes")
    if head[:2] == b"\x1f\x8b":  # the .gz as downloaded, under the unpacked name
        raise _corrupt(path, "gzip-compressed: it must be unpacked, e.g. with gunzip")
    if len(head) < 4:
        raise _corrupt(path, truncated)
    found = int.from_bytes(head[:4], "big")
    if found != magic:
        other = next((k for k, v in IDX.items() if v[0] == found), None)
        looks = f"; the magic number of an idx {other} file" if other else ""
        raise _corrupt(path, f"bad magic number {found}, expected {magic} for {kind}{looks}")
    if len(head) < header:
        raise _corrupt(path, truncated)
    count = int.from_bytes(head[4:8], "big")
    if count != MNIST_COUNTS[split]:
        raise _wrong_count(path, kind, count)
    if kind == "images" and (head[8:12], head[12:16]) != ((28).to_bytes(4, "big"),) * 2:
        rows, cols = int.from_bytes(head[8:12], "big"), int.from_bytes(head[12:16], "big")
        raise _corrupt(path, f"images of {rows}x{cols} pixels, expected 28x28")
    if size < size_wanted:
        raise _corrupt(path, truncated)
    if size > size_wanted:
        raise _corrupt(path, f"{size - size_wanted} bytes too long: expected {size_wanted} bytes, found {size}")


@functools.lru_cache(maxsize=4)
def load_mnist(root: str, download: bool) -> Data:
    """MNIST's 60000 training and 10000 test images from root/MNIST/raw, fetched first when missing and allowed."""
    base = _root(root)
    raw = base / "MNIST" / "raw"
    _ensure(base, "mnist", download)
    for f in MNIST_FILES:
        _check_idx(raw / f)
    import torchvision  # only now: a fault above is reported without the seconds this import takes
    from torchvision import transforms

    def make(train: bool, transform=None):
        with contextlib.redirect_stdout(sys.stderr):  # stdout holds our JSON
            return torchvision.datasets.MNIST(str(base), train=train, transform=transform, download=False)

    try:
        train, test = make(True), make(False)
    except Exception as e:  # the headers and sizes were right: a file changed under us, or an I/O error
        # torchvision's own texts advise download=True, which is no gdcore option: give only the kind of error
        why = _why(e) if isinstance(e, OSError) else f"torchvision raised {type(e).__name__}"
        raise DataError(f"cannot read the MNIST files in {raw} ({why}); {HOW_TO_POINT} holding MNIST/raw/") from None
    for f, labels in ((MNIST_FILES[1], train.targets), (MNIST_FILES[3], test.targets)):
        if int(labels.max()) > 9:
            raise _corrupt(raw / f, f"label {int(labels.max())} outside 0..9")
    flat = lambda x: (x.reshape(x.shape[0], -1).float() / 255)  # noqa: E731  # exactly ToTensor's scaling
    per_sample = lambda: make(True, transform=transforms.ToTensor())  # noqa: E731
    return Data(flat(train.data), train.targets.long(), flat(test.data), test.targets.long(), per_sample)


# ---- airfoil ----------------------------------------------------------------------------------------------------


def _parse_airfoil(path: Path) -> np.ndarray:
    """The airfoil table: rows of 6 finite tab-separated numbers, read here rather than by np.loadtxt so that a fault
    names its row and column, and an empty file gives no numpy warning on stderr."""
    data, size = _read_bytes(path)
    if not data.strip():
        raise _corrupt(path, "empty: 0 bytes" if size == 0 else f"empty: {size} bytes of blank space")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        raise _corrupt(path, f"not a text file: byte 0x{data[e.start]:02x} at offset {e.start}") from None
    rows = []
    for r, line in enumerate(text.split("\n"), 1):  # not splitlines(): it also splits at \f and \v, skewing r
        if not line.strip():
            continue  # np.loadtxt skipped blank lines too
        cells = line.split("\t")
        if len(cells) != 6:
            raise _corrupt(path, f"row {r} has {len(cells)} tab-separated values, expected 6")
        row = []
        for c, cell in enumerate(cells, 1):
            try:
                value = float(cell)
            except ValueError:
                raise _corrupt(path, f"row {r}, column {c}: {cell.strip()!r} is not a number") from None
            if not math.isfinite(value):
                raise _corrupt(path, f"non-finite value {cell.strip()} in row {r}, column {c}")
            row.append(value)
        rows.append(row)
    if len(rows) < AIRFOIL_MIN_ROWS:
        raise _corrupt(path, f"too few rows: {len(rows)}, expected at least {AIRFOIL_MIN_ROWS} (the UCI file has 1503)")
    return np.array(rows, dtype=np.float64)


@functools.lru_cache(maxsize=2)
def load_airfoil(root: str, download: bool) -> Data:
    """The UCI airfoil self-noise table, standardized as seed 002 does, fetched first when missing and allowed."""
    base = _root(root)
    _ensure(base, "airfoil", download)
    table = _parse_airfoil(base / "airfoil" / AIRFOIL_FILE)
    table = (table - table.mean(axis=0)) / table.std(axis=0)  # as seed 002: standardize all 1503 rows, keep 1500
    t = torch.from_numpy(table[:1500]).float()
    return Data(t[:, :5].contiguous(), t[:, 5:].contiguous(), None, None)
