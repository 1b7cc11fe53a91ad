"""`gdcore report`: benchmark JSON files in, PNG charts and report.md out. Reads only the JSON files.

The report owns its --out folder: it writes a manifest (MANIFEST) listing the files it wrote, refuses a non-empty
folder without one, and before writing deletes exactly the files the previous report listed, so no chart of an
earlier report lingers and no file the user put there is overwritten or deleted."""
from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from pathlib import Path

from . import charts, charts_compare
from .errors import ConfigError
from .report_html import write_html
from .results import REPORT_MANIFEST, Row, latest_per_machine, load, warn
from .summary import quality_md, speed_md, summarize
from .tables import md_table

CHARTS = [  # (file stem, title, function): one function per chart
    ("epoch_time", "Seconds per epoch against batch size", charts.epoch_time),
    ("samples_to_target", "Samples and steps to target (best lr per batch size)", charts.samples_to_target),
    ("final_loss", "Final train loss and test metric after a fixed budget", charts.final_loss),
    ("critical_batch", "The critical batch size, two ways", charts.critical_batch),
    ("curves", "Convergence curves at the best learning rates", charts.curves),
    ("speedups", "Speedups: data path and step implementation", charts_compare.speedups),
    ("scaling", "Data-parallel scaling on several processes", charts.scaling),
    ("epoch_time_series", "Seconds per epoch over runs (--all-runs)", charts_compare.epoch_time_series),
]
# Not *.json: a report written under a folder of inputs must not be read back as one of them.
MANIFEST = REPORT_MANIFEST
OWN = re.compile(rf"(?:{'|'.join(stem for stem, _, _ in CHARTS)})(?:-m\d+)?\.png|hardware\.png|report\.(?:md|html)|summary\.json")
NEW_FOLDER = "choose a new or empty folder"


def machines(rows: list[Row]) -> list[str]:
    return list(dict.fromkeys(r.machine for r in rows))


def create_out(out: Path) -> list[Path]:
    """Makes the folder `out` if needed; returns the folders created, deepest first; ConfigError when it cannot be."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; allowed: a folder, new, empty or holding an earlier report")
    created, p = [], out
    while not p.exists() and p != p.parent:
        created, p = created + [p], p.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--out {out}: cannot create the folder ({e.strerror or e.__class__.__name__}); "
                          "allowed: a folder you can create and write") from None
    return created


def remove_created(created: list[Path]) -> None:
    """Removes the folders create_out made, deepest first, as long as they are still empty."""
    for p in created:
        try:
            p.rmdir()
        except OSError:
            return


def check_writable(out: Path) -> None:
    """ConfigError unless a file can be created (and removed) in the folder `out`."""
    try:
        fd, probe = tempfile.mkstemp(dir=out, prefix=".gdcore-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ConfigError(f"--out {out} is not writable ({e.strerror or e.__class__.__name__}); "
                          "allowed: a folder you can write") from None


def previous_files(out: Path) -> list[str]:
    """The files the previous report listed in the manifest; ConfigError when `out` holds files gdcore did not write."""
    try:
        entries = sorted(p.name for p in out.iterdir())
    except OSError as e:
        raise ConfigError(f"--out {out} cannot be listed ({e.strerror}); allowed: a folder you can read") from None
    if MANIFEST not in entries:
        if entries:
            raise ConfigError(f"--out {out} holds files gdcore did not write ({', '.join(entries[:3])}"
                              f"{', ...' if len(entries) > 3 else ''}) and no {MANIFEST}; {NEW_FOLDER}")
        return []
    listed = read_manifest(out / MANIFEST)
    foreign = [n for n in entries if OWN.fullmatch(n) and n not in listed]
    if foreign:
        raise ConfigError(f"--out {out} holds {foreign[0]}, which the earlier report there did not write and this "
                          f"one would overwrite; move it away or {NEW_FOLDER}")
    return [n for n in listed if OWN.fullmatch(n)]


def read_manifest(path: Path) -> list[str]:
    """The file names a manifest lists; ConfigError when it is not one gdcore wrote."""
    try:
        files = json.loads(path.read_text()).get("files")
        if isinstance(files, list) and all(isinstance(f, str) for f in files):
            return files
    except (OSError, ValueError, AttributeError):
        pass
    raise ConfigError(f"--out {path.parent}: {MANIFEST} is not a list of files gdcore wrote; {NEW_FOLDER}")


def write_manifest(out: Path, names: list[str]) -> None:
    """Lists `names` as this report's files, replacing the previous list in one step."""
    tmp = out / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"written_by": "gdcore report", "files": sorted(set(names))}, indent=1) + "\n")
    os.replace(tmp, out / MANIFEST)


def prepare_out(out: Path) -> tuple[list[Path], list[str]]:
    """Checks --out before anything is read or drawn: (folders created for it, files of the previous report)."""
    created = create_out(out)
    try:
        check_writable(out)
        return created, previous_files(out)
    except ConfigError:
        remove_created(created)
        raise


def planned(n_machines: int) -> list[str]:
    """Every file a report on this many machines may write."""
    suffixes = [""] if n_machines == 1 else [f"-m{i + 1}" for i in range(n_machines)]
    return [f"{stem}{s}.png" for s in suffixes for stem, _, _ in CHARTS] + ["hardware.png", "report.md", "report.html",
                                                                                  "summary.json"]


def draw(fn, rows: list[Row], png: Path):
    """fn(rows, png), with any warning the plotting library raises turned into one gdcore line naming the chart."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")  # a library's deprecations are not the user's business
        for category in (UserWarning, RuntimeWarning):  # "no positive values to log-scale", "invalid value", ...
            warnings.simplefilter("always", category)
        table = fn(rows, png)
    for message in dict.fromkeys(str(w.message).splitlines()[0] for w in caught):
        warn(f"{png.name}: {message}")
    return table


def sections(rows: list[Row], out: Path) -> tuple[list[str], list[str]]:
    """Draws every chart into `out`: (the lines of report.md, the names of the files written)."""
    ms = machines(rows)
    summary = summarize(rows)
    parts = ["# gdcore benchmark report", "",
             f"Sources: {', '.join(sorted({r.file for r in rows}))}.", "",
             "## Summary", "", *speed_md(rows), *quality_md(summary),
             "Every figure comes with the charts and the full tables below; summary.json holds the same in JSON.", ""]
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    written = ["summary.json"]
    for i, m in enumerate(ms):
        mrows = [r for r in rows if r.machine == m]
        suffix = "" if len(ms) == 1 else f"-m{i + 1}"
        torch_v = sorted({str(r.torch_version) for r in mrows})
        parts += [f"## {m}" if len(ms) > 1 else f"Machine: {m}", "",
                  f"torch {', '.join(torch_v)}; devices {', '.join(sorted({r.device for r in mrows}))}; "
                  f"{len(mrows)} benchmarks.", ""]
        for stem, title, fn in CHARTS:
            png = out / f"{stem}{suffix}.png"
            table = draw(fn, mrows, png)
            if table is None:
                continue
            written.append(png.name)
            parts += [f"### {title}", "", f"![{title}]({png.name})", "", "<details><summary>The table behind it"
                      f" ({len(table[1])} rows)</summary>", "", md_table(*table), "", "</details>", ""]
    hw = draw(charts_compare.hardware, rows, out / "hardware.png")
    if hw is not None:
        written.append("hardware.png")
        parts += ["## Hardware comparison", "", "![Hardware comparison](hardware.png)", "",
                  "Each cell is the first machine's seconds per epoch divided by the other's, on the same workload, "
                  "training-set size, feed, step, batch size, lr and world size: above 1, the other machine is faster.",
                  "", md_table(*hw), ""]
    alone = charts_compare.unpaired(rows)
    if alone is not None:
        parts += ["### Cases without a partner" if hw else "## No hardware comparison", "",
                  f"{len(alone[1])} case(s) ran on one machine only (or not on the first), so they have no ratio"
                  f"{'' if hw else ', and no case ran alike on two machines'}.", "",
                  "<details><summary>The cases</summary>", "", md_table(*alone), "", "</details>", ""]
    return parts, written


def write_report(paths: list[str], out: Path, all_runs: bool = False) -> Path:
    """Writes the charts and report.md into `out`, replacing the previous report there; returns the report's path.
    Each machine's newest run only, unless all_runs."""
    created, previous = prepare_out(out)
    try:
        rows = load(paths)
        rows = rows if all_runs else latest_per_machine(rows)
    except ConfigError:
        remove_created(created)
        raise
    report = out / "report.md"
    try:
        for name in previous:
            (out / name).unlink(missing_ok=True)
        write_manifest(out, planned(len(machines(rows))))  # covers whatever a failure halfway leaves behind
        parts, written = sections(rows, out)
        report.write_text("\n".join(parts))
        write_manifest(out, written + [report.name, write_html(report).name])
    except OSError as e:
        raise ConfigError(f"--out {out}: cannot write {Path(e.filename or '?').name} "
                          f"({e.strerror or e.__class__.__name__})") from None
    return report
