"""`gdcore compare BASE NEW`: changes in time and in quality between two runs, and a gate that can fail CI."""
from __future__ import annotations

import math
import re
from pathlib import Path

from .errors import ConfigError
from .results import Row, load_file

STATS = ("min", "max", "mean", "median")
QUALITY = ("samples_to_target", "steps_to_target", "seconds_to_target", "final_train_loss", "final_test_loss",
           "final_test_metric")
SHOWN = ("median", "samples_to_target", "final_train_loss", "final_test_metric")
SPEC_HELP = "comma-separated METRIC:PERCENT%, e.g. median:10%,samples_to_target:15%"


def parse_spec(spec: str | None) -> dict[str, float]:
    """'median:10%,samples_to_target:15%' -> {'median': 0.10, 'samples_to_target': 0.15}."""
    out: dict[str, float] = {}
    for part in filter(None, (spec or "").split(",")):
        m = re.fullmatch(r"\s*([a-z_]+):(\d+(?:\.\d+)?)%\s*", part)
        if not m or m.group(1) not in STATS + QUALITY:
            raise ConfigError(f"invalid --fail-on item {part!r}; allowed: {SPEC_HELP}, "
                              f"metrics: {', '.join(STATS + QUALITY)}")
        out[m.group(1)] = float(m.group(2)) / 100
    return out


def resolve(arg: str, storage: Path = Path(".benchmarks")) -> Path:
    """A JSON file, or an autosave number (like 0001) looked up under .benchmarks/."""
    p = Path(arg)
    if p.is_file():
        return p
    if re.fullmatch(r"\d+", arg):
        found = sorted(storage.rglob(f"{int(arg):04d}_*.json"))
        if found:
            return found[-1]
        raise ConfigError(f"no autosaved run {int(arg):04d} under {storage.resolve()}; "
                          "allowed: a JSON file or the number of a run saved by --benchmark-autosave")
    raise ConfigError(f"{arg}: no such file; allowed: a JSON file or an autosave number like 0001")


def value(row: Row, key: str):
    v = row.stats.get(key) if key in STATS else getattr(row, key)
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def worse_by(row_base: Row, row_new: Row, key: str) -> float | None:
    """How much worse NEW is than BASE, as a fraction (negative: better); inf when a target is no longer reached."""
    a, b = value(row_base, key), value(row_new, key)
    if a is None and b is None:
        return None
    if a is None or b is None:  # reached -> not reached is a regression; the converse an improvement
        missing_is_bad = key.endswith("_to_target")
        return (math.inf if b is None else -math.inf) if missing_is_bad else None
    higher_is_worse = not (key == "final_test_metric" and row_new.metric_name == "test_accuracy")
    change = (b - a) / abs(a) if a else (0.0 if b == a else math.copysign(math.inf, b - a))
    return change if higher_is_worse else -change


def compare(base: list[Row], new: list[Row], fail_on: dict[str, float]):
    """(lines of the change table, regressions, names only in BASE, names only in NEW)."""
    b_by, n_by = {r.name: r for r in base}, {r.name: r for r in new}
    lines, regressions = [], []
    for name in [n for n in b_by if n in n_by]:
        cells = []
        for key in dict.fromkeys(SHOWN + tuple(fail_on)):
            a, b, w = value(b_by[name], key), value(n_by[name], key), worse_by(b_by[name], n_by[name], key)
            if a is None and b is None:
                continue
            flag = ""
            if key in fail_on and w is not None and w > fail_on[key]:
                flag = " REGRESSION"
                regressions.append(f"{name}: {key} worse by {'target lost' if math.isinf(w) else f'{w:.1%}'}"
                                   f" (limit {fail_on[key]:.0%})")
            change = "" if w is None or math.isinf(w) else f" ({'+' if w > 0 else ''}{w:.1%} worse)" if w > 0 \
                else f" ({-w:.1%} better)" if w < 0 else " (same)"
            cells.append(f"{key} {_fmt(a)} -> {_fmt(b)}{change}{flag}")
        lines.append(f"{name}\n    " + "\n    ".join(cells))
    return lines, regressions, [n for n in b_by if n not in n_by], [n for n in n_by if n not in b_by]


def _fmt(v) -> str:
    return "none" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def run_compare(base_arg: str, new_arg: str, fail_on_spec: str | None, print_=print) -> int:
    fail_on = parse_spec(fail_on_spec)
    base, new = load_file(resolve(base_arg)), load_file(resolve(new_arg))
    lines, regressions, only_base, only_new = compare(base, new, fail_on)
    print_(f"BASE {base[0].file}\nNEW  {new[0].file}\n")
    for line in lines:
        print_(line)
    for label, names in (("only in BASE", only_base), ("only in NEW", only_new)):
        if names:
            print_(f"\n{label} ({len(names)}): " + ", ".join(names))
    if regressions:
        print_(f"\n{len(regressions)} regression(s) past the --fail-on limits:\n  " + "\n  ".join(regressions))
        return 1
    print_(f"\n{len(lines)} matched case(s); no regression past the limits" + (f" ({fail_on_spec})" if fail_on else ""))
    return 0
