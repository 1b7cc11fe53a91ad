"""Document 000: mnist-seed-logreg by SGD and GD, and its batch sizes at its fixed learning rate 0.001 (rows, notes,
chart); each batch size at its best learning rate comes from doc000_best_lr.py."""
from __future__ import annotations

import math
import statistics

from ..train import run
from .common import SEEDS, S, Context, Row, Spread, _cfg, _within, fmt_acc, fmt_samples
from .doc000_best_lr import BEST_LR_GRID, FINE, SEED_TARGET, _best_lr, _best_rows, _best_verdict, _count, _resolved

# Document 000 at its fixed lr 0.001: batch -> (budget in samples, samples between full evaluations). Batch 1 runs
# the post's 5 epochs; the others run past the sample count where the post reads them (none for batch 4).
FIXED = {1: (300_000, 7_500), 4: (200_000, 20_000), 8: (400_000, 20_000), 20: (1_000_000, 20_000)}
# The post's figures: batch -> (published samples, the counts it could mean, its own evaluation spacing in samples).
# Batch 1 evaluates every 1500 steps and is "high" at the 25th evaluation; batch 8 every 2000 steps (4 per epoch of
# 7500, so its 20th evaluation is at 300000, though it writes 20 · 2000 · 8 = 320000); batch 20 every 500 steps.
POST = {1: (37_500, (37_500,), 1_500), 8: (320_000, (300_000, 320_000), 16_000), 20: (1_000_000, (1_000_000,), 10_000)}
COLOURS = {1: "C0", 4: "C1", 8: "C2", 20: "C3", 64: "C4"}  # one colour per batch size in every panel


def _first_at_or_above(points: list[tuple[int, int, float]], level: float):
    """(samples, steps, samples at the evaluation before) where accuracy first reaches `level`, or Nones."""
    for i, (n, k, acc) in enumerate(points):
        if acc is not None and acc >= level:
            return n, k, points[i - 1][0] if i else None
    return None, None, None


def _fixed_run(ctx: Context, bs: int, seed: int) -> dict:
    """One run of document 000 at lr 0.001: its curve on the fine schedule (the train loss at full evaluations)."""
    budget, every = FIXED[bs]
    r = run(_cfg(ctx, workload="mnist-seed-logreg", batch_size=bs, lr=0.001, samples=budget, step="closed-form",
                 eval_every=every, resolution=FINE, seed=seed))
    return {"points": [(p["samples"], p["steps"], p["test_metric"]) for p in r["curve"]],
            "loss": [(p["samples"], p["train_loss"]) for p in r["curve"] if p["train_loss"] is not None],
            "final": r["final_test_metric"]}


def _accuracy_at(points, samples: int) -> float:
    return next(acc for n, _, acc in points if n >= samples)


def _fixed_study(ctx: Context) -> tuple[dict, float]:
    """Every batch size of FIXED over the seeds, and the reference accuracy: batch 1's (median) at 37500 samples."""
    runs = {bs: [_fixed_run(ctx, bs, s) for s in SEEDS] for bs in FIXED}
    ref = statistics.median(_accuracy_at(r["points"], POST[1][0]) for r in runs[1])
    return runs, ref


def _reach(runs: list[dict], level: float) -> dict:
    """Samples and steps to `level` over the seeds (inf where not reached), and the worst resolution."""
    hits = [_first_at_or_above(r["points"], level) for r in runs]
    samples = Spread.of(math.inf if n is None else n for n, _, _ in hits)
    steps = Spread.of(math.inf if k is None else k for _, k, _ in hits)
    res = max((1 - lo / n for n, _, lo in hits if n and lo is not None), default=math.nan)
    return {"samples": samples, "steps": steps, "resolution": res}


def _draw_batches(runs: dict, ref: float):
    """Document 000 at lr 0.001: test accuracy against samples and against steps, and the train loss against
    samples; medians over the seeds with their range as a band, one colour per batch size in every panel. (The
    post draws the distance of A and b from their final values instead: it reaches 0 at the end by definition.)"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (ax_s, ax_k, ax_l) = plt.subplots(1, 3, figsize=(15, 4.4))
    for bs, seeds in runs.items():
        colour = COLOURS[bs]
        n = min(len(r["points"]) for r in seeds)
        samples = np.array([p[0] for p in seeds[0]["points"][:n]], dtype=float)
        steps = np.array([p[1] for p in seeds[0]["points"][:n]], dtype=float)
        acc = np.array([[np.nan if p[2] is None else p[2] for p in r["points"][:n]] for r in seeds])
        keep = samples > 0  # a log axis has no 0: the initial evaluation is left out
        for ax, x in ((ax_s, samples), (ax_k, steps)):
            ax.plot(x[keep], np.median(acc, 0)[keep], color=colour, label=f"batch {bs}", gid=f"batch {bs}")
            ax.fill_between(x[keep], acc.min(0)[keep], acc.max(0)[keep], color=colour, alpha=0.2, lw=0)
        m = min(len(r["loss"]) for r in seeds)
        at = np.array([n for n, _ in seeds[0]["loss"][:m]], dtype=float)
        loss = np.array([[np.nan if v is None else v for _, v in r["loss"][:m]] for r in seeds])
        keep = at > 0
        ax_l.plot(at[keep], np.median(loss, 0)[keep], "o-", ms=2.5, color=colour, label=f"batch {bs}",
                  gid=f"batch {bs}")
        ax_l.fill_between(at[keep], loss.min(0)[keep], loss.max(0)[keep], color=colour, alpha=0.2, lw=0)
        if bs in POST:
            ax_s.plot(POST[bs][1], [ref] * len(POST[bs][1]), "x", color=colour, ms=9, mew=2, gid=f"batch {bs}",
                      label=f"batch {bs}: the post's figure")
    for ax in (ax_s, ax_k):
        ax.axhline(ref, color="k", ls=":", lw=1, label=f"batch 1's accuracy at 37500 samples ({ref:.3f})")
        ax.set(xscale="log", ylabel="test accuracy")
    ax_s.set(xlabel="samples seen", title="Document 000, lr 0.001: accuracy against samples")
    ax_k.set(xlabel="optimizer steps", title="... against optimizer steps")
    ax_l.set(xscale="log", xlabel="samples seen", ylabel="cross-entropy on the training set",
             title="Train loss against samples")
    for ax in (ax_s, ax_k, ax_l):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.text(0.5, 0.005, f"median over seeds {S}, band: their range; accuracy evaluated at every {100 * FINE:g} % "
             "more samples, the train loss less often (dots)", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def seed000(ctx: Context) -> list[Row]:
    """Document 000: SGD's accuracy and the post's batch figures at its fixed lr 0.001 (and the chart), then its
    claim and its advice at each batch size's best lr."""
    runs, ref = _fixed_study(ctx)
    fig = _draw_batches(runs, ref)
    fig.savefig(ctx.out / "seeds_000_batches.png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    reach = {bs: _reach(seeds, ref) for bs, seeds in runs.items()}
    best = _best_lr(ctx)
    ctx.notes += _notes(reach, ref, best)
    return _batch1_rows(runs) + [_post_row(bs, runs[bs], reach[bs], ref) for bs in (8, 20)] + \
        [_fixed_claim_row(reach, ref)] + _best_rows(best)


def _batch1_rows(runs: dict) -> list[Row]:
    """Batch 1 at lr 0.001: the accuracy after 5 epochs, and after the 37500 samples where the post calls it high."""
    final = Spread.of(r["final"] for r in runs[1])
    at = Spread.of(_accuracy_at(r["points"], POST[1][0]) for r in runs[1])
    to80 = _reach(runs[1], SEED_TARGET)
    gap = final.median - at.median
    return [Row("000", "mnist-seed-logreg (Linear, Sigmoid, Softmax, CrossEntropyLoss), manual update, SGD batch 1, "
                "lr 0.001, 5 epochs: test accuracy", "0.836", final.text(".4f"), f"{final.median - 0.836:+.4f}",
                _within(final.median, 0.836, 0.015, final), S),
            Row("000", "batch 1, lr 0.001: test accuracy after 37500 samples (the post's 25th evaluation, every "
                "1500 steps); its median is the reference accuracy of the next rows",
                "about 37500 samples: accuracy already high",
                f"{at.text('.4f')}; after 5 epochs {final.median:.4f}; samples to {SEED_TARGET}: "
                f"{_count(to80['samples'])}", f"{-gap:+.4f} (against 5 epochs)",
                ("reproduced: within 0.05 of its 5-epoch accuracy" if gap <= 0.05 else
                 f"not reproduced: {gap:.3f} below what it reaches after 5 epochs, and still rising"), S)]


def _post_row(bs: int, runs: list, reach: dict, ref: float) -> Row:
    """The post's figure for batch 8 or 20: the samples at which it matches batch 1's accuracy at 37500."""
    pub, counts, spacing = POST[bs]
    sp, steps = reach["samples"], reach["steps"]
    acc = "; ".join(f"accuracy at {c:,}: {Spread.of(_accuracy_at(r['points'], c) for r in runs).text('.4f')}"
                    for c in counts)
    close = min(counts, key=lambda c: abs(c - sp.median))
    ok = any(abs(c - sp.median) <= spacing or sp.lo <= c <= sp.hi < math.inf for c in counts)  # all seeds reached
    verdict = (f"reproduced (within the post's evaluation spacing, {spacing:,} samples, or inside our range)" if ok
               else f"not reproduced (further than the post's evaluation spacing, {spacing:,} samples): at lr 0.001 "
               f"{fmt_samples(steps.median)} steps of batch {bs} match batch 1's 37,500")
    return Row("000", f"batch {bs}, lr 0.001: samples to batch 1's accuracy at 37500 samples ({ref:.4f}), budget "
               f"{FIXED[bs][0]:,} samples",
               f"about {pub:,}" + (f" ({counts[0]:,} given its evaluation spacing)" if len(counts) > 1 else "")
               + ": accuracy similar to batch 1's", f"{_count(sp)}, steps {_count(steps)}; {acc}",
               "not reached" if math.isinf(sp.median) else f"{sp.median - close:+,.0f}",
               verdict + _resolved(reach["resolution"]), S)


def _fixed_claim_row(reach: dict, ref: float) -> Row:
    """The post's claim at its own fixed lr: smaller batches need fewer samples to the same accuracy."""
    order = sorted(reach, key=lambda b: reach[b]["samples"].median)
    apart = all(not reach[a]["samples"].overlaps(reach[b]["samples"]) for a, b in zip(order, order[1:]))
    holds = order == sorted(reach) and apart and not math.isinf(reach[order[-1]]["samples"].median)
    return Row("000", f"batch {', '.join(map(str, FIXED))}, lr 0.001: samples to the reference accuracy {ref:.4f}; "
               "accuracy against samples and steps, train loss: seeds_000_batches.png",
               "claim: at one fixed step size, smaller batches reach a given accuracy after fewer samples",
               "; ".join(f"batch {b}: {_count(reach[b]['samples'])}" for b in reach),
               "steps: " + "; ".join(f"batch {b}: {fmt_samples(v['steps'].median)}" for b, v in reach.items()),
               ("claim holds at lr 0.001, beyond the seed spread (the ranges do not overlap). " if holds else
                "claim does not hold beyond the seed spread at lr 0.001. ") + _steps_sentence(reach), S)


def _steps_sentence(reach: dict) -> str:
    """Whether the steps to the reference accuracy depend on the batch size at the fixed lr."""
    steps = [v["steps"].median for v in reach.values()]
    if any(math.isinf(s) for s in steps):
        return "Not every batch size reached it within its budget."
    ratio = max(steps) / min(steps)
    if ratio <= 1.5:
        return (f"The steps to that accuracy differ by at most a factor {ratio:.2f} between batch sizes, so at that "
                "step size the samples grow with the batch, as the post found.")
    return f"The steps to that accuracy differ by a factor {ratio:.1f} between batch sizes."


def _notes(reach: dict, ref: float, best: dict) -> list[str]:
    fixed = "; ".join(f"batch {b}: {_count(v['samples'])} samples, {fmt_samples(v['steps'].median)} steps"
                      for b, v in reach.items())
    at_best = "; ".join(f"batch {b}: {_count(v['samples'])} samples at lr {v['lr']:g}" for b, v in best.items())
    return ["## Document 000's claim: smaller batches are better", "",
            f"At its fixed learning rate 0.001, to batch 1's accuracy after 37500 samples ({ref:.4f}, the level the "
            f"post compares at), over seeds {S} with evaluation resolved to within {100 * FINE:g} %: {fixed}. "
            + _steps_sentence(reach) + " A batch of B averages B gradients, so it needs a larger step to move as far "
            f"per sample. Each at its own best learning rate (grid {BEST_LR_GRID[0]:g} to {BEST_LR_GRID[-1]:g}, one "
            f"epoch, chosen by the median), samples to {SEED_TARGET}: {at_best}. " + _best_verdict(best) + ".",
            "", "![Document 000's batch study](seeds_000_batches.png)", ""]


def seed000_gd(ctx: Context) -> list[Row]:
    r = run(_cfg(ctx, workload="mnist-seed-logreg", batch_size="full", lr=0.05, epochs=5000, step="closed-form",
                 eval_every=1000 * 60000))
    acc = {p["samples"] // 60000: p["test_metric"] for p in r["curve"]}
    ours = ", ".join(f"{e} epochs: {fmt_acc(acc.get(e))}" for e in (1000, 2000, 5000))
    return [Row("000", "mnist-seed-logreg, GD (batch 60000), lr 0.05, 5000 epochs: test accuracy",
                "a curve, no figure", ours, "–",
                f"no number to compare; GD at lr 0.05 is still below SGD's 0.836 after 5000 epochs. One seed only: "
                f"a run took {r['train_seconds']:.0f} s of optimization here, for a row with no published figure",
                "0")]
