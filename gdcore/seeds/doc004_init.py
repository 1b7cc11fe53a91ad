"""Document 004's initialisation claims: zeros for linear and logistic regression, zeros, Xavier and He for an MLP."""
from __future__ import annotations

from ..train import RunSetup, run
from .common import SEEDS, S, Context, Row, Spread, _cfg, _toy_w
from .doc004 import _exec
from .doc004_listings import LINREG_LISTING


def seed004_zeros_linear(ctx: Context) -> list[Row]:
    """Document 004's claim that zeros are a fine start for linear regression: its NumPy listing, gdcore on the
    same toy problem, and airfoil-linreg from zeros against N(0, 0.01)."""
    printed, err, _, _ = _exec(LINREG_LISTING, "<004 section 5>")
    post_w = float(printed.split()[-1])
    ours_w = _toy_w(ctx, batch_size="full", lr=0.1, epochs=10, dtype="float64", init="zeros")
    final = {}
    for init in ("zeros", "normal:0.01"):
        final[init] = Spread.of(run(_cfg(ctx, workload="airfoil-linreg", batch_size=10, lr=0.05, epochs=2, init=init,
                                         seed=s, eval_every=10**9))["final_train_loss"] for s in SEEDS)
    z, r = final["zeros"], final["normal:0.01"]
    holds = abs(post_w - 2) < 1e-6 and abs(ours_w - post_w) < 1e-9 and (z.overlaps(r) or z.median <= r.median)
    return [Row("004", "linear regression from zeros: the post's NumPy listing (y = 2x, w = 0, lr 0.1, 10 epochs) and "
                "gdcore toy-linear; airfoil-linreg batch 10, lr 0.05, 2 epochs from zeros and from N(0, 0.01)",
                "claim: zeros work for linear regression",
                f"w after 10 epochs {post_w:.12f} (NumPy), {ours_w:.12f} (gdcore); airfoil final loss from zeros "
                f"{z.text()}, from N(0, 0.01) {r.text()}", f"{z.median - r.median:+.6f} (airfoil, zeros − random)",
                ("claim holds: from zeros w reaches 2 within "
                 f"{abs(post_w - 2):.0e}, and airfoil ends where a random start does (the ranges overlap); a linear "
                 "model has no hidden units whose symmetry zeros could lock" if holds else
                 "claim does not hold here"), S)]


def seed004_init(ctx: Context) -> list[Row]:
    """Document 004's initialisations on mnist-mlp, one epoch each, over the seeds."""
    accs, spread, largest = {}, [], []
    for init in ("zeros", "normal:0.01", "xavier", "he"):
        accs[init] = []
        for seed in SEEDS:
            tr = RunSetup(_cfg(ctx, workload="mnist-mlp", batch_size=64, lr=0.1, epochs=1, init=init,
                               step="closed-form", seed=seed))
            step = tr.fresh()
            tr.epoch(step)
            accs[init].append(tr.evaluate()[2])
            if init == "zeros":
                W1 = tr.model[0].weight.detach()
                spread.append((W1 - W1[0]).abs().max().item())
                largest.append(W1.abs().max().item())
    acc = {k: Spread.of(v) for k, v in accs.items()}
    rows = [Row("004", "mnist-mlp, all weights zero, batch 64, lr 0.1, 1 epoch: do hidden units differ?",
                "claim: zeros make every hidden unit learn the same thing",
                f"largest difference between two hidden units' weights: {max(spread):.1e}; largest weight in W1 "
                f"{max(largest):.1e} in absolute value (every seed); test accuracy {acc['zeros'].text('.4f')}", "–",
                "claim holds, and more: with W2 = 0 no gradient reaches W1 and H = 0 gives W2 none, so only the "
                "output bias learns" if max(spread) == 0 else "claim does not hold: hidden units differ", S)]
    x, h = acc["xavier"], acc["he"]
    top = max(acc, key=lambda k: acc[k].mean)
    rows.append(Row("004", "mnist-mlp, batch 64, lr 0.1, 1 epoch: test accuracy by initialisation",
                    "claim: Xavier cannot handle ReLU; He initialisation suits it",
                    "; ".join(f"{k}: {v.text('.4f', 'mean')}" for k, v in acc.items()),
                    f"He − Xavier: {h.mean - x.mean:+.4f} (means)",
                    (f"not borne out: no difference between He and Xavier, their ranges over seeds {S} overlap "
                     f"(highest mean: {top}); in this 2-layer ReLU net Xavier does as well" if x.overlaps(h) else
                     f"{'He' if h.mean > x.mean else 'Xavier'} is better for every seed (ranges do not overlap)"), S))
    return rows


def seed004_zeros_logistic(ctx: Context) -> list[Row]:
    """Document 004's claim that zeros are a fine start for logistic regression: mnist-logreg from zeros and from
    nn.Linear's init."""
    acc = {init: Spread.of(run(_cfg(ctx, workload="mnist-logreg", batch_size=64, lr=0.1, epochs=1, init=init,
                                    step="closed-form", eval_every=10**9, seed=s))["final_test_metric"] for s in SEEDS)
           for init in ("zeros", "default")}
    z, d = acc["zeros"], acc["default"]
    return [Row("004", "logistic (softmax) regression from zeros: mnist-logreg, batch 64, lr 0.1, 1 epoch: test "
                "accuracy from zeros and from nn.Linear's init", "claim: zeros work for logistic regression",
                f"zeros {z.text('.4f')}; nn.Linear's init {d.text('.4f')}", f"{z.median - d.median:+.4f}",
                ("claim holds: from zeros it ends where a random start does (the ranges overlap); each class's "
                 "weights get their own gradient, so there is no symmetry to break" if z.overlaps(d) or
                 z.median >= d.median else "claim does not hold: zeros end lower beyond the seed spread"), S)]
