"""`gdcore compare BASE NEW`: changes in time and in quality between two runs, and a gate that can fail CI.

A time fails the gate only when its change is past the limit AND its timed rounds are slower than BASE's by more
than the limit, by a one-sided Mann-Whitney U test at level ALPHA (of NEW against BASE x (1 + limit): a test against
"no change" would, over the ~60 cases of a run, cry wolf once or twice per compare on round noise alone). Each time is
shown with the Hodges-Lehmann ratio NEW/BASE of the rounds and its 1 - 2 ALPHA interval (the interval that inverts the
test). Quality figures are single numbers and are gated on the limit alone.

Rounds of one run share that run's state of the machine, so they cannot see drift between runs: on a 2-core VM,
whole runs of unchanged code differed by up to 22 % (geometric mean over cases) and millisecond cases by up to 2x.
BASE and NEW may therefore each be several runs (comma-separated). With two or more runs on both sides, a time is
judged by the same test over the runs' medians instead of the rounds: its change is the median over NEW's runs
against the median over BASE's runs, and one slow run is outvoted.
"""
from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_right
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigError
from .results import STATS, Row, load_file, number, warn

QUALITY = ("samples_to_target", "steps_to_target", "seconds_to_target", "final_train_loss", "final_test_loss",
           "final_test_metric")
SHOWN = ("median", "samples_to_target", "final_train_loss", "final_test_metric")
SPEC_HELP = "comma-separated METRIC:PERCENT%, e.g. median:10%,samples_to_target:15%"
ALPHA = 0.05  # one-sided level of the test; the interval shown is the 90 % one that inverts it
ROUNDED = ("epoch_time", "scaling_reference")  # kinds whose seconds_per_epoch are the benchmark's timed rounds
EXACT_SPLITS = 20000  # up to this many splits of the pooled rounds the test is exact, beyond it normal


def parse_spec(spec: str | None) -> dict[str, float]:
    """'median:10%,samples_to_target:15%' -> {'median': 0.10, 'samples_to_target': 0.15}; None -> {} (no gate)."""
    if spec is None:
        return {}
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        m = re.fullmatch(r"([a-z_]+):(\d+(?:\.\d+)?)%", part)
        if not m or m.group(1) not in STATS + QUALITY:
            raise ConfigError(f"invalid --fail-on item {part!r}; allowed: {SPEC_HELP}, "
                              f"metrics: {', '.join(STATS + QUALITY)}")
        if m.group(1) in out:
            raise ConfigError(f"--fail-on names {m.group(1)} twice; allowed: each metric once")
        out[m.group(1)] = float(m.group(2)) / 100
    if not out:
        raise ConfigError(f"--fail-on {spec!r} names no metric, which would turn the gate off; allowed: {SPEC_HELP} "
                          "(leave --fail-on out to compare without a gate)")
    return out


def resolve(arg: str, storage: Path = Path(".benchmarks")) -> Path:
    """A JSON file, or an autosave number (like 0001) looked up under .benchmarks/."""
    p = Path(arg)
    if p.is_file():
        return p
    if p.is_dir():
        raise ConfigError(f"{arg} is a folder; allowed: a JSON file or an autosave number like 0001")
    if re.fullmatch(r"\d+", arg):
        found = sorted(storage.rglob(f"{int(arg):04d}_*.json"))
        if found:
            return found[-1]
        raise ConfigError(f"no autosaved run {int(arg):04d} under {storage.resolve()}; "
                          "allowed: a JSON file or the number of a run saved by --benchmark-autosave")
    raise ConfigError(f"{arg}: no such file; allowed: a JSON file or an autosave number like 0001")


def value(row: Row, key: str):
    """The row's metric `key` as a finite number, or None (null, NaN, absent)."""
    return number(row.stats.get(key) if key in STATS else row.info.get(key))


def worse_by(base: "Side", new: "Side", key: str) -> float | None:
    """How much worse NEW is than BASE (each the median over its runs), as a fraction (negative: better); inf when
    NEW lost a value BASE had (a target no longer reached, a diverged loss), -inf when it gained a reached target;
    None when not comparable."""
    a, b = base.value(key), new.value(key)
    if a is None:
        return -math.inf if b is not None and key.endswith("_to_target") else None
    if b is None:
        return math.inf
    higher_is_worse = not (key == "final_test_metric" and new.rows[0].metric_name == "test_accuracy")
    change = (b - a) / abs(a) if a else (0.0 if b == a else math.copysign(math.inf, b - a))
    return change if higher_is_worse else -change


def rounds(row: Row) -> list[float]:
    """The row's timed rounds: stats.data (--benchmark-json), else an epoch-time record's epochs (autosaves keep no
    data); non-positive or non-numeric entries dropped."""
    data = row.stats.get("data")
    if not isinstance(data, list):
        data = row.info.get("seconds_per_epoch") if row.info.get("kind") in ROUNDED else None
    return [v for v in data or [] if (number(v) or 0) > 0]


@lru_cache(maxsize=None)
def u_cdf(m: int, n: int):
    """u -> P(U <= u) for the Mann-Whitney U of m against n untied values: exact (every split of the ranks) up to
    EXACT_SPLITS splits, else the normal approximation with continuity correction."""
    if math.comb(m + n, m) <= EXACT_SPLITS:
        us = sorted(sum(c) - m * (m - 1) // 2 for c in combinations(range(m + n), m))
        return lambda u: bisect_right(us, u) / len(us)
    normal = statistics.NormalDist(m * n / 2, math.sqrt(m * n * (m + n + 1) / 12))
    return lambda u: normal.cdf(u + 0.5)


class Shift(NamedTuple):
    """NEW's rounds against BASE's."""

    ratio: float  # Hodges-Lehmann estimate of NEW/BASE: the median of every ratio (NEW round / BASE round)
    low: float  # the 1 - 2 ALPHA interval of that ratio (Moses): the k-th smallest and k-th largest ratio
    high: float
    p: float  # one-sided Mann-Whitney p-value of "NEW/BASE <= 1 + limit": P(U >= u), u = #(ratio > 1 + limit) + #ties/2


def shift(base: list[float], new: list[float], limit: float = 0.0) -> Shift | None:
    """NEW against BASE from their rounds; None when they are too few for any result to be significant at ALPHA."""
    m, n = len(base), len(new)
    if not m or not n:
        return None
    cdf, k = u_cdf(m, n), 0
    while cdf(k) <= ALPHA:  # k: how many ratios each tail of the interval leaves out
        k += 1
    if k == 0:
        return None
    ratios = sorted(y / x for x in base for y in new)
    u = sum((r > 1 + limit) + 0.5 * (r == 1 + limit) for r in ratios)
    return Shift(statistics.median(ratios), ratios[k - 1], ratios[-k], cdf(math.floor(m * n - u)))  # U symmetric


class Side(NamedTuple):
    """One case on one side: its row in each run of that side."""

    rows: list

    def value(self, key: str):
        """The median over the runs of the metric (one run: its value); None when no run has it."""
        vs = [v for v in (value(r, key) for r in self.rows) if v is not None]
        return statistics.median(vs) if vs else None

    def samples(self, key: str) -> list[float]:
        """What a time is judged on: each run's value with several runs, else the one run's rounds."""
        if len(self.rows) > 1:
            return [v for v in (value(r, key) for r in self.rows) if v is not None and v > 0]
        return rounds(self.rows[0])


def match(base: list[list[Row]], new: list[list[Row]]) -> tuple[list[tuple], list[str], list[str]]:
    """([(name, BASE Side, NEW Side)] for the cases of every run on both sides, names only in BASE, names only in
    NEW); each side is a list of runs, each a list of rows. ConfigError when no name matches."""
    def by_name(runs):
        names = [{r.name: r for r in run} for run in runs]
        return {n: Side([d[n] for d in names]) for n in names[0] if all(n in d for d in names)}

    b_by, n_by = by_name(base), by_name(new)
    pairs = [(n, b_by[n], n_by[n]) for n in b_by if n in n_by]
    if not pairs:
        raise ConfigError(f"no case of BASE matches a case of NEW (BASE has {len(b_by)}, e.g. {next(iter(b_by))}; "
                          f"NEW has {len(n_by)}, e.g. {next(iter(n_by))}); allowed: two runs of the same cases")
    return pairs, [n for n in b_by if n not in n_by], [n for n in n_by if n not in b_by]


def unchecked(pairs: list[tuple], fail_on: dict[str, float]) -> dict[str, str]:
    """The gated metrics the matched cases cannot check, each with the reason: NEW has no value of it anywhere, or
    BASE has none to compare with (a target first reached in NEW still counts as checked: an improvement)."""
    out = {}
    for key in fail_on:
        if all(n.value(key) is None for _, _, n in pairs):
            side = "NEW"
        elif all(b.value(key) is None for _, b, n in pairs):
            side = "BASE"
        else:
            continue
        out[key] = f"{side} has no usable {key} in any of the {len(pairs)} matched case(s) (all null or NaN)"
    return out


def regression(name: str, key: str, w: float, limit: float, interval: str = "") -> str:
    """One line of the regression list."""
    how = f"worse by {w:.1%}" if math.isfinite(w) else "target lost" if key.endswith("_to_target") \
        else "no usable value in NEW (null or NaN)"
    return f"{name}: {key} {how}{interval} (limit {limit:.0%})"


def interval(s: Shift | None, n_base: int, n_new: int, runs: bool = False) -> str:
    """How a time's change reads from the rounds (or the runs): ratio, interval and p-value, or why there is none."""
    if s is None:
        return f"; {n_base} vs {n_new} {'run(s)' if runs else 'round(s)'}: too few to judge"
    return (f"; {'runs' if runs else 'rounds'} NEW/BASE {s.ratio:.3f}, {1 - 2 * ALPHA:.0%} interval "
            f"{s.low:.3f}-{s.high:.3f}, p={s.p:.2g}")


def verdict(s: Shift | None) -> str:
    """What a time change past its limit is: a regression only when significant over the rounds."""
    return "too few rounds to judge" if s is None else "not significant" if s.p > ALPHA else "regression"


def compare(pairs: list[tuple], fail_on: dict[str, float], unchecked_keys=()) -> tuple[list[str], list[str], dict]:
    """(lines of the change table, regressions past the limits of the metrics that can be checked, the names of the
    time changes past a limit not failed, by reason: {"not significant": [...], "too few rounds to judge": [...]})."""
    lines, regressions, spared = [], [], {"not significant": [], "too few rounds to judge": []}
    for name, rb, rn in pairs:
        cells = []
        for key in dict.fromkeys(SHOWN + tuple(fail_on)):
            a, b, w = rb.value(key), rn.value(key), worse_by(rb, rn, key)
            if a is None and b is None:
                continue
            timed = key in STATS and a is not None and b is not None  # a time in both: judged over the rounds
            s, why = None, ""
            if timed:
                base_rounds, new_rounds = rb.samples(key), rn.samples(key)
                s = shift(base_rounds, new_rounds, fail_on.get(key, 0.0))
                why = interval(s, len(base_rounds), len(new_rounds), runs=len(rb.rows) > 1)
            flag = ""
            if key in fail_on and key not in unchecked_keys and w is not None and w > fail_on[key]:
                v = verdict(s) if timed else "regression"
                if v == "regression":
                    flag = " REGRESSION"
                    regressions.append(regression(name, key, w, fail_on[key], why))
                else:
                    flag = f" (past the limit, not failed: {v})"
                    spared[v].append(name)
            change = "" if w is None or math.isinf(w) else f" ({'+' if w > 0 else ''}{w:.1%} worse{why})" if w > 0 \
                else f" ({-w:.1%} better{why})" if w < 0 else f" (same{why})"
            cells.append(f"{key} {_fmt(a)} -> {_fmt(b)}{change}{flag}")
        lines.append(f"{name}\n    " + "\n    ".join(cells))
    return lines, regressions, spared


def _fmt(v) -> str:
    return "none" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def runs(arg: str) -> list[list[Row]]:
    """The runs named by a comma-separated list of JSON files or autosave numbers."""
    names = [a.strip() for a in arg.split(",")]
    if not all(names):
        raise ConfigError(f"{arg!r} has an empty item; allowed: JSON files or autosave numbers, comma-separated")
    return [load_file(resolve(a)) for a in names]


def run_compare(base_arg: str, new_arg: str, fail_on_spec: str | None, print_=print) -> int:
    """Prints the change table; 0 when the gate passes, 1 on a regression or a gated metric that cannot be checked,
    ConfigError (exit 2) when nothing can be compared."""
    fail_on = parse_spec(fail_on_spec)
    base, new = runs(base_arg), runs(new_arg)
    pairs, only_base, only_new = match(base, new)
    if (len(base) > 1) != (len(new) > 1):
        raise ConfigError(f"BASE has {len(base)} run(s) and NEW {len(new)}; allowed: one run on each side, or two or "
                          "more on each (comma-separated)")
    gaps = unchecked(pairs, fail_on)
    lines, regressions, spared = compare(pairs, fail_on, gaps)
    unit = "the runs' medians" if len(base) > 1 else "the rounds"
    print_(f"BASE {', '.join(run[0].file for run in base)}\nNEW  {', '.join(run[0].file for run in new)}\n"
           f"times: NEW/BASE over {unit} (Hodges-Lehmann), its {1 - 2 * ALPHA:.0%} interval, and p: the one-sided "
           f"Mann-Whitney p-value of NEW being at most the --fail-on limit slower (no slower where not gated)\n")
    if len(base) == 1:
        print_("one run on each side: the rounds share their run's machine state, so drift between runs (up to 22 % "
               "over whole runs on a 2-core VM) is not covered; pass several runs per side (comma-separated)\n")
    for line in lines:
        print_(line)
    for label, names in (("only in BASE", only_base), ("only in NEW", only_new)):
        if names:
            print_(f"\n{label} ({len(names)}): " + ", ".join(names))
    if gaps and len(gaps) == len(fail_on):
        raise ConfigError(f"nothing could be compared for --fail-on: {'; '.join(gaps.values())}")
    for key, why in gaps.items():
        warn(f"--fail-on {key} cannot be checked: {why}; failing (exit 1), the other limits were checked")
    reasons = {"not significant": f"not slower than the limit over the rounds at p <= {ALPHA:g}",
               "too few rounds to judge": f"no result could reach p <= {ALPHA:g}; 3 rounds against 3 can"}
    for reason, names in spared.items():
        if names:
            print_(f"\n{len(names)} time change(s) past the limit not failed, {reason} ({reasons[reason]})")
    if regressions:
        print_(f"\n{len(regressions)} regression(s) past the --fail-on limits:\n  " + "\n  ".join(regressions))
    if regressions or gaps:
        return 1
    print_(f"\n{len(lines)} matched case(s); no regression past the limits" + (f" ({fail_on_spec})" if fail_on else ""))
    return 0
