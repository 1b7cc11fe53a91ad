"""Reading pytest-benchmark JSON files written by the suite into flat case rows, telling the user what was skipped."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError

REQUIRED = ("kind", "workload", "device", "path", "impl", "batch_size")
OPTIONAL = {"lr": None, "samples_to_target": None, "steps_to_target": None, "seconds_to_target": None,
            "final_train_loss": None, "final_test_metric": None, "final_test_loss": None, "metric_name": None,
            "target": None, "best_lr": None, "curve": [], "seconds_per_epoch": [], "train_seconds": None,
            "diverged": False, "profile": None, "torch_version": None, "threads": None, "device_name": None,
            "epoch_flops": None, "epoch_bytes": None, "samples_seen": None}


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
    cpu = info.get("cpu") or {}
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
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list) or "machine_info" not in doc:
        raise ConfigError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list and 'machine_info')")
    machine = machine_label(doc["machine_info"] or {})
    roofline = (doc["machine_info"] or {}).get("gdcore_roofline") or {}
    rows, skipped = [], 0
    for b in doc["benchmarks"]:
        info = b.get("extra_info") or {}
        if not all(k in info for k in REQUIRED) or not isinstance(b.get("stats"), dict):
            skipped += 1
            continue
        peak = roofline.get(info["device"]) if isinstance(roofline, dict) else None
        rows.append(Row(b.get("name", "?"), machine, str(path), b["stats"], {**OPTIONAL, **info, "peak": peak}))
    if not rows:
        raise ConfigError(f"{path}: no benchmark has gdcore's extra_info ({', '.join(REQUIRED)}): "
                          "not written by gdcore's suite")
    if skipped:
        warn(f"{path}: skipped {skipped} benchmark(s) without gdcore's extra_info fields ({', '.join(REQUIRED)})")
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
