"""Reading pytest-benchmark JSON files written by the suite into flat case rows, telling the user what was skipped."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .record import Record


@dataclass
class Row:
    """One benchmark of one file: its name, timing statistics, gdcore's extra_info, and the machine it ran on."""

    name: str
    machine: str
    file: str
    stats: dict
    info: dict = field(default_factory=dict)

    def __getattr__(self, key):  # row.workload, row.batch_size, ... read extra_info
        try:
            return self.__dict__["info"][key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def median(self) -> float | None:
        return self.stats.get("median")


def machine_label(info: dict) -> str:
    """CPU model, and the GPU when one was present: what tells machines apart in a hardware comparison."""
    cpu = info.get("cpu") if isinstance(info.get("cpu"), dict) else {}
    name = cpu.get("brand_raw") or info.get("processor") or info.get("node") or "unknown machine"
    gpu = info.get("gpu_name")
    return f"{name} + {gpu}" if gpu else name


def find_files(paths: list[str]) -> list[Path]:
    """JSON files named directly, or found under named folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.rglob("*.json"))
        elif p.exists():
            out.append(p)
        else:
            warn(f"{p}: no such file or folder")
    return out


def warn(message: str) -> None:
    print(f"gdcore: {message}", file=sys.stderr)


def load_file(path: Path) -> list[Row]:
    """The gdcore rows of one file; raises ConfigError with a one-line reason when none is usable."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot be read ({e.__class__.__name__})") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON, perhaps truncated ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list) \
            or not isinstance(doc.get("machine_info"), dict):
        raise ConfigError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list and 'machine_info' object)")
    machine = machine_label(doc["machine_info"])
    roofline = doc["machine_info"].get("gdcore_roofline") or {}
    rows, skipped = [], []
    for i, b in enumerate(doc["benchmarks"]):
        try:
            if not isinstance(b, dict) or not isinstance(b.get("stats"), dict):
                raise ConfigError("no 'stats' object")
            median = b["stats"].get("median")
            if isinstance(median, bool) or not isinstance(median, (int, float)):
                raise ConfigError(f"stats.median is {median!r}; allowed: a number")
            info = b.get("extra_info")
            if not isinstance(info, dict) or "kind" not in info:
                raise ConfigError("no gdcore record in extra_info")
            rec = Record.from_dict(info)
        except ConfigError as e:
            skipped.append(f"{b.get('name', f'#{i}') if isinstance(b, dict) else f'#{i}'}: {e}")
            continue
        peak = roofline.get(rec.device) if isinstance(roofline, dict) else None
        rows.append(Row(str(b.get("name", "?")), machine, str(path), b["stats"], {**rec.to_dict(), "peak": peak}))
    if not rows:
        why = f" (first: {skipped[0]})" if skipped else ""
        raise ConfigError(f"{path}: no benchmark holds a valid gdcore record{why}: not written by gdcore's suite")
    if skipped:
        warn(f"{path}: skipped {len(skipped)} benchmark(s) that fail the record schema (first: {skipped[0]})")
    return rows


def load(paths: list[str]) -> list[Row]:
    """Every usable row of every file; one warning line per unusable file; ConfigError when nothing is usable."""
    files = find_files(paths)
    rows: list[Row] = []
    for f in files:
        try:
            rows += load_file(f)
        except ConfigError as e:
            warn(f"skipping {e}")
    if not rows:
        where = ", ".join(paths)
        raise ConfigError(f"no usable gdcore benchmark JSON in {where} ({len(files)} JSON file(s) found); "
                          "run `pytest bench --benchmark-autosave` first or name the files")
    return rows
