"""What every seed reproduction shares: the table row, the context, the spread over seeds, verdicts, formatting."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import RunConfig
from ..train import run

SEEDS = (0, 1, 2, 3, 4)  # stochastic figures (random init, data drawn from the seed, shuffling) use these seeds
DETERMINISTIC = "–"  # the seeds cell of an experiment with nothing random in it


@dataclass
class Row:
    doc: str
    experiment: str
    published: str
    ours: str
    difference: str
    verdict: str
    seeds: str  # the seeds behind 'ours': DETERMINISTIC, or a label such as "0-4"; never left to a default


COLUMNS = (("document", "doc"), ("experiment", "experiment"), ("seeds", "seeds"), ("published", "published"),
           ("ours", "ours"), ("difference", "difference"), ("verdict", "verdict"))


@dataclass
class Context:
    data_dir: str | None
    out: Path  # folder for figures
    notes: list  # paragraphs written under the table


def _cfg(ctx: Context, **kw) -> RunConfig:
    return RunConfig(device="cpu", data_dir=ctx.data_dir, **kw)


def seeds_label(seeds) -> str:
    """"0-4" for a run of consecutive seeds, else the seeds listed."""
    seeds = list(seeds)
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


S = seeds_label(SEEDS)  # the seeds cell of a row over SEEDS


def _toy_w(ctx: Context, **kw) -> float:
    """The weight w of toy-linear at the end of a run (documents 001 and 004)."""
    seen = {}
    run(_cfg(ctx, workload="toy-linear", eval_every=10**9, **kw),
        observe=lambda m, p: seen.update(w=m[0].weight.item()))
    return seen["w"]


@dataclass(frozen=True)
class Spread:
    """One figure over several seeds: its median and range (min to max)."""
    values: tuple

    @classmethod
    def of(cls, values) -> "Spread":
        return cls(tuple(float(v) for v in values))

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def lo(self) -> float:
        return min(self.values)

    @property
    def hi(self) -> float:
        return max(self.values)

    def text(self, fmt: str = ".6f", stat: str = "median") -> str:
        centre = self.median if stat == "median" else self.mean
        return f"{stat} {centre:{fmt}} (range {self.lo:{fmt}} to {self.hi:{fmt}})"

    def overlaps(self, other: "Spread") -> bool:
        return self.lo <= other.hi and other.lo <= self.hi


def _within(ours: float, published: float, tol: float, spread: Spread | None = None) -> str:
    """The verdict on a published figure against our median (and the range over seeds, when there is one)."""
    inside = spread is not None and spread.lo <= published <= spread.hi
    if abs(ours - published) <= tol or inside:
        how = "inside the range over seeds" if inside and abs(ours - published) > tol else f"within ±{tol:g}"
        return f"reproduced ({how})"
    return f"not reproduced (tolerance ±{tol:g})"


def ulps_below(value: float, ref: float) -> int:
    """How many float32 numbers lie between `value` and `ref` (ref > value > 0), counting `ref`: the float32 steps
    from value up to ref. Positive float32s are ordered like their bit patterns read as integers."""
    a, b = np.float32(value), np.float32(ref)
    if not 0 < a <= b:
        raise ValueError(f"ulps_below needs 0 < value <= ref, got {value!r}, {ref!r}")
    return int(b.view(np.int32)) - int(a.view(np.int32))


def fmt_acc(v: float | None) -> str:
    return "none" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4f}"


def fmt_samples(v: float | None) -> str:
    return "not reached" if v is None or (isinstance(v, float) and math.isinf(v)) else f"{v:,.0f}"
