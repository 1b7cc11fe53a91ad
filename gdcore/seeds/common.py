"""What every seed reproduction shares: the table row, the context, tolerances and formatting."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..config import RunConfig

SEEDS = (0, 1, 2, 3, 4)  # stochastic figures (random init, shuffling) are compared with the spread over these seeds


@dataclass
class Row:
    doc: str
    experiment: str
    published: str
    ours: str
    difference: str
    verdict: str


@dataclass
class Context:
    data_dir: str | None
    out: Path  # folder for figures
    notes: list  # paragraphs written under the table


def _cfg(ctx: Context, **kw) -> RunConfig:
    return RunConfig(device="cpu", data_dir=ctx.data_dir, **kw)


def _within(ours: float, published: float, tol: float, spread: tuple[float, float] | None = None) -> str:
    inside = spread is not None and spread[0] <= published <= spread[1]
    if abs(ours - published) <= tol or inside:
        how = "inside the spread over seeds" if inside and abs(ours - published) > tol else f"within ±{tol:g}"
        return f"reproduced ({how})"
    return f"not reproduced (tolerance ±{tol:g})"


def _spread(values: list[float]) -> tuple[str, float, tuple[float, float]]:
    mean = statistics.fmean(values)
    return f"{mean:.6f} (seeds 0-4: {min(values):.6f} to {max(values):.6f})", mean, (min(values), max(values))


def fmt_acc(v: float | None) -> str:
    return "none" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4f}"
