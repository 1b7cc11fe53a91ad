"""Document 000's claim at each batch size's best learning rate: samples, steps and seconds to a target accuracy."""
from __future__ import annotations

import math

from ..train import run
from .common import SEEDS, S, Context, Row, Spread, _cfg, fmt_samples

SEED_TARGET = 0.80  # mnist-seed-logreg's default target: "a given accuracy" for the best-lr study
FINE = 0.05  # evaluate on a geometric schedule: a sample count to a target is resolved to within 5 % (or a step)
BEST_LR_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # the model's gradients are small (a softmax of sigmoids)
BEST_LR_BATCHES = (1, 4, 8, 20, 64)


def _resolved(res: float) -> str:
    """How finely a sample count was resolved: the evaluation before it saw at least (1 - res) as many samples."""
    return "" if math.isnan(res) else f"; resolved to within {100 * res:.0f} %"


def _count(sp: Spread) -> str:
    return f"median {fmt_samples(sp.median)} (range {fmt_samples(sp.lo)} to {fmt_samples(sp.hi)})"


def _best_lr(ctx: Context) -> dict:
    """Samples, steps and seconds to SEED_TARGET at every lr of the grid over the seeds; per batch size the lr
    with the fewest samples (median; a run that does not reach the target in one epoch counts as infinite)."""
    best = {}
    for bs in BEST_LR_BATCHES:
        trials = {}
        for lr in BEST_LR_GRID:
            rs = [run(_cfg(ctx, workload="mnist-seed-logreg", batch_size=bs, lr=lr, epochs=1, step="closed-form",
                           eval_every=2000, resolution=FINE, target=SEED_TARGET, stop_at_target=True, seed=s))
                  for s in SEEDS]
            get = lambda k: Spread.of(math.inf if r[k] is None else r[k] for r in rs)  # noqa: E731
            hit = [r for r in rs if r["samples_to_target"]]
            trials[lr] = {"samples": get("samples_to_target"), "steps": get("steps_to_target"),
                          "seconds": get("seconds_to_target"),
                          "resolution": max((1 - (r["samples_to_target_lower"] or 0) / r["samples_to_target"]
                                             for r in hit), default=math.nan)}
        lr = min(trials, key=lambda k: trials[k]["samples"].median)
        if math.isinf(trials[lr]["samples"].median):
            continue
        i = BEST_LR_GRID.index(lr)
        interior = 0 < i < len(BEST_LR_GRID) - 1
        best[bs] = {"lr": lr, "interior": interior, **trials[lr]}
    return best


def _tied(best: dict, key: str) -> list[int]:
    """The batch sizes whose range over seeds overlaps the range of the one with the lowest median."""
    top = min(best, key=lambda b: best[b][key].median)
    return [b for b in best if best[b][key].overlaps(best[top][key])]


def _best_verdict(best: dict) -> str:
    if not best:
        return "no batch size reached the target within one epoch at any lr of the grid: the claim cannot be judged"
    meds = {b: v["samples"].median for b, v in best.items()}
    tied = _tied(best, "samples")
    edge = [b for b, v in best.items() if not v["interior"]]
    ratio = max(meds.values()) / min(meds.values())
    low, high = min(meds, key=meds.get), max(meds, key=meds.get)
    text = (f"Medians from {meds[low]:,.0f} (batch {low}) to {meds[high]:,.0f} (batch {high}) samples, a factor "
            f"{ratio:.1f}; ")
    if len(tied) == len(best):
        text += (f"but every batch size's range over seeds {S} overlaps that of batch {low}, so these seeds do not "
                 f"show any batch size from {min(best)} to {max(best)} needing fewer samples at its best lr: the "
                 "post's 'smaller is better' is a property of its fixed step size")
    else:
        text += (f"fewest samples at batch {', '.join(map(str, tied))} (ranges overlapping the best); "
                 f"{', '.join(str(b) for b in best if b not in tied)} need more beyond the seed spread")
    if edge:
        text += f"; best lr at the edge of the grid for batch {', '.join(map(str, edge))}, so not bracketed there"
    else:
        text += "; every best lr is interior to the grid"
    return text


def _best_rows(best: dict) -> list[Row]:
    """The claim and the post's advice (batch about 8), each batch size at its best lr."""
    res = max(v["resolution"] for v in best.values()) if best else math.nan
    rows = [Row("000", f"the same claim, each batch size at its best lr (grid {BEST_LR_GRID[0]:g} to "
                f"{BEST_LR_GRID[-1]:g}, chosen by the median): samples to {SEED_TARGET}, 1 epoch",
                "(not tested by the post)",
                "; ".join(f"batch {b}: {_count(v['samples'])} (lr {v['lr']:g})" for b, v in best.items()),
                _resolved(res).lstrip("; ") or "–", _best_verdict(best), S)]
    if best:
        tied = {k: _tied(best, k) for k in ("samples", "steps", "seconds")}
        fewest = "; ".join(f"fewest {k}: batch {', '.join(map(str, t))}" for k, t in tied.items())
        missing = [k for k, t in tied.items() if 8 not in t]
        rows.append(Row("000", f"the post's advice, batch about 8: samples, steps and seconds of optimization to "
                        f"{SEED_TARGET} at each batch size's best lr", "advice: a moderate batch, generally batch = 8",
                        "; ".join(f"batch {b}: {v['steps'].median:,.0f} steps, {v['seconds'].median:.3f} s"
                                  for b, v in best.items()), "–",
                        fewest + " (ranges overlapping the best); batch 8 is "
                        + ("among the best on all three" if not missing else
                           f"not among the best on {', '.join(missing)}"), S))
    return rows
