"""Reading pytest-benchmark JSON files written by the suite into flat case rows, telling the user what was skipped.
Shared by `gdcore report` and `gdcore compare`: every check of an input file's shape and values lives here."""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .record import Record, check_type

STATS = ("min", "max", "mean", "median")  # the timing statistics read; each a number >= 0, or None (null, NaN)


@dataclass
class Row:
    """One benchmark of one file: its name, timing statistics, gdcore's extra_info, and the machine it ran on."""

    name: str
    machine: str
    file: str
    stats: dict
    info: dict = field(default_factory=dict)
    when: str = ""  # the run's date (pytest-benchmark's "datetime"), to tell runs of one machine apart

    def __getattr__(self, key):  # row.workload, row.batch_size, ... read extra_info
        try:
            return self.__dict__["info"][key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def median(self) -> float | None:
        return self.stats.get("median")


def warn(message: str) -> None:
    """One line on stderr, prefixed like every gdcore message."""
    print(f"gdcore: {message}", file=sys.stderr)


def json_kind(v) -> str:
    """How a JSON value reads in a message: 'a string', 'a list', 'null', ..."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def number(v) -> float | int | None:
    """`v` when it is a finite number (a bool is not one), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if math.isfinite(v) else None


def machine_label(info: dict) -> str:
    """CPU model, and the GPU when one was present: what tells machines apart in a hardware comparison."""
    cpu = info.get("cpu") if isinstance(info.get("cpu"), dict) else {}
    name = cpu.get("brand_raw") or info.get("processor") or info.get("node") or "unknown machine"
    gpu = info.get("gpu_name")
    return f"{name} + {gpu}" if gpu else str(name)


REPORT_MANIFEST = ".gdcore-report"  # gdcore.report's list of the files it wrote in a folder


def written_by_report(f: Path) -> bool:
    try:
        return f.name in json.loads((f.parent / REPORT_MANIFEST).read_text()).get("files", [])
    except (OSError, ValueError, AttributeError, TypeError):
        return False


def find_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """JSON files named directly, or found under named folders; and a problem line for each path that is missing."""
    out: list[Path] = []
    missing = []
    for p in map(Path, paths):
        if p.is_dir():  # a report's own summary.json (listed in its folder's manifest) is not an input
            out += sorted(f for f in p.rglob("*.json") if f.is_file() and not written_by_report(f))
        elif p.exists():
            out.append(p)
        else:
            missing.append(f"{p}: no such file or folder")
    return out, missing


def read_json(path: Path):
    """The parsed file; ConfigError with a one-line reason if it is unreadable, empty, binary, not UTF-8 or not JSON."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror or e.__class__.__name__})") from None
    if not data.strip():
        raise ConfigError(f"{path}: empty file; allowed: a pytest-benchmark JSON file")
    if b"\0" in data:
        raise ConfigError(f"{path}: a binary file, not JSON text; allowed: a pytest-benchmark JSON file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
                          "allowed: a JSON file in UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON, perhaps truncated ({e.msg} at line {e.lineno})") from None
    except (ValueError, RecursionError) as e:  # a number with thousands of digits, or lists nested thousands deep
        raise ConfigError(f"{path}: not usable JSON ({str(e).splitlines()[0] or e.__class__.__name__})") from None


def document_problem(doc) -> str | None:
    """Why a parsed file is not a pytest-benchmark document, or None when it is one."""
    if not isinstance(doc, dict):
        return f"the top level is {json_kind(doc)}, not an object"
    for key, want, kind in (("benchmarks", list, "a list"), ("machine_info", dict, "an object")):
        if key not in doc:
            return f"no {key!r} key"
        if not isinstance(doc[key], want):
            return f"{key!r} is {json_kind(doc[key])}, not {kind}"
    return None


def clean_stats(stats) -> dict:
    """The benchmark's statistics, each of STATS a number >= 0 or None (null, NaN, absent); else ConfigError."""
    if not isinstance(stats, dict):
        raise ConfigError(f"'stats' is {json_kind(stats)}, not an object")
    out = dict(stats)
    for key in STATS:
        v = stats.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            raise ConfigError(f"stats.{key} is {v!r}; allowed: a number >= 0, or null")
        out[key] = number(v)
    return out


def check_values(rec: Record) -> Record:
    """The record, when its values (not only their types) make sense to chart and compare; else ConfigError."""
    if rec.batch_size < 1:
        raise ConfigError(f"record field 'batch_size' is {rec.batch_size}; allowed: an integer >= 1")
    return rec


def peak_of(roofline, device: str) -> dict | None:
    """The device's measured peak from machine_info.gdcore_roofline; None unless it holds positive gflops and gbps."""
    peak = roofline.get(device) if isinstance(roofline, dict) else None
    if not isinstance(peak, dict) or not all((number(peak.get(k)) or 0) > 0 for k in ("gflops", "gbps")):
        return None
    return peak


def read_benchmark(b, path: Path, machine_info: dict) -> Row:
    """One benchmark as a Row; ConfigError saying what is wrong with it."""
    if not isinstance(b, dict):
        raise ConfigError(f"is {json_kind(b)}, not an object")
    stats = clean_stats(b.get("stats"))
    info = b.get("extra_info")
    if not isinstance(info, dict) or "kind" not in info:
        raise ConfigError("no gdcore record in extra_info")
    if "schema_version" in info:  # checked first: Record.from_dict compares it with a number before checking it
        check_type("schema_version", info["schema_version"], int)
    rec = check_values(Record.from_dict(info))
    peak = peak_of(machine_info.get("gdcore_roofline"), rec.device)
    return Row(str(b.get("name", "?")), machine_label(machine_info), str(path), stats, {**rec.to_dict(), "peak": peak})


def load_file(path: Path) -> list[Row]:
    """The gdcore rows of one file; raises ConfigError with a one-line reason when none is usable."""
    doc = read_json(path)
    problem = document_problem(doc)
    if problem:
        raise ConfigError(f"{path}: not a pytest-benchmark JSON file: {problem}")
    if not doc["benchmarks"]:
        raise ConfigError(f"{path}: holds no benchmarks ('benchmarks' is an empty list)")
    rows, skipped = [], []
    for i, b in enumerate(doc["benchmarks"]):
        try:
            rows.append(read_benchmark(b, path, doc["machine_info"]))
            rows[-1].when = str(doc.get("datetime") or "")
        except ConfigError as e:
            name = b.get("name", f"#{i}") if isinstance(b, dict) else f"#{i}"
            skipped.append(f"{name}: {e}")
    if not rows:
        raise ConfigError(f"{path}: no benchmark holds a valid gdcore record (first of {len(skipped)}: {skipped[0]})")
    if skipped:
        warn(f"{path}: skipped {len(skipped)} benchmark(s) that fail the record schema (first: {skipped[0]})")
    return rows


def load(paths: list[str]) -> list[Row]:
    """Every usable row of every file; one warning line per unusable path; ConfigError when nothing is usable (the
    one problem itself when there was only one)."""
    files, problems = find_files(paths)
    rows: list[Row] = []
    from .progress import bar  # inside gdcore.progress.shown() only, and once reading has taken a while

    for f in bar(files, desc="reading", unit="file"):
        try:
            rows += load_file(f)
        except ConfigError as e:
            problems.append(str(e))
    if not rows and len(problems) == 1:
        raise ConfigError(problems[0])
    for p in problems:
        warn(f"skipping {p}")
    if not rows:
        where = ", ".join(paths)
        raise ConfigError(f"no usable gdcore benchmark JSON in {where} ({len(files)} JSON file(s) found); "
                          "run `pytest bench --benchmark-autosave` first or name the files")
    return rows


def latest_per_machine(rows: list[Row]) -> list[Row]:
    """The rows of each machine's newest file (by the run's date, then the file name); one line names the older
    files left out, so that no table shows one case twice without saying which run it came from."""
    newest: dict[str, tuple] = {}
    for r in rows:
        newest[r.machine] = max(newest.get(r.machine, ("", "")), (r.when, r.file))
    dropped = sorted({(r.machine, r.file) for r in rows if (r.when, r.file) != newest[r.machine]})
    for machine in dict.fromkeys(m for m, _ in dropped):
        files = [f for m, f in dropped if m == machine]
        warn(f"{machine}: reporting its newest run ({newest[machine][1]}); left out {len(files)} older: "
             f"{', '.join(files[:3])}{', ...' if len(files) > 3 else ''} (pass --all-runs to keep every run)")
    return [r for r in rows if (r.when, r.file) == newest[r.machine]]
