"""The quick seed experiments: documents 001, 002 and 004's loss sequence (seconds)."""
from __future__ import annotations

import statistics

import numpy as np
import torch

from ..train import RunSetup, run
from .common import SEEDS, Context, Row, _cfg, _spread, _within

def seed001(ctx: Context) -> list[Row]:
    """toy-linear: GD from w = 1, lr 0.01, 100 epochs; then SGD (one sample per update)."""
    rows, final = [], {}
    for bs, dtype in (("full", "float64"), (1, "float32"), (1, "float64")):
        cfg = _cfg(ctx, workload="toy-linear", batch_size=bs, lr=0.01, epochs=100, dtype=dtype)
        run(cfg, observe=lambda m, p, k=(bs, dtype): final.__setitem__(k, 4 * m[0].weight.item()))
    gd, sgd32, sgd64 = final[("full", "float64")], final[(1, "float32")], final[(1, "float64")]
    rows.append(Row("001", "toy-linear, GD, w from 1.0, lr 0.01, 100 epochs: prediction at x = 4", "7.999998569",
                    f"{gd:.9f}", f"{gd - 7.999998569:+.2e}",
                    "not reproduced: the GD code shown gives 4·(2 − 0.90667^100) = 7.999778 exactly; the published "
                    f"7.999998569 is what float32 SGD prints (ours, float32 SGD: {sgd32:.9f}), where w stalls one "
                    "float32 step below 2"))
    rows.append(Row("001", "toy-linear, SGD (one sample per update), lr 0.01, 100 epochs: prediction at x = 4",
                    "no figure; claim: SGD converges faster", f"{sgd64:.12f} (float64), {sgd32:.9f} (float32)",
                    f"GD error {abs(8 - gd):.1e}, SGD error {abs(8 - sgd64):.1e}",
                    "claim reproduced: after the same 100 epochs SGD is far closer (3 updates per epoch against 1)"))
    return rows


def _airfoil(ctx: Context, impl: str, init: str, runs: list, times: bool) -> list[tuple]:
    out = []
    for label, bs, lr, epochs, published, tol in runs:
        finals, secs, starts = [], [], []
        for seed in SEEDS:
            cfg = _cfg(ctx, workload="airfoil-linreg", batch_size=bs, lr=lr, epochs=epochs, step=impl, init=init,
                       seed=seed, feed="dataloader" if times else "preloaded", eval_every=10**9)
            r = run(cfg)
            finals.append(r["final_train_loss"])
            starts.append(r["curve"][0]["train_loss"])
            secs += r["seconds_per_epoch"]
        out.append((label, bs, lr, epochs, published, tol, finals, statistics.median(secs), starts))
    return out


def seed002(ctx: Context) -> list[Row]:
    """airfoil-linreg: the three methods with a manual update, then with torch.optim.SGD."""
    manual = [("GD", "full", 1.0, 6, 0.245426, 0.002), ("SGD", 1, 0.005, 2, 0.246051, 0.005),
              ("mini-batch", 10, 0.05, 2, 0.242805, 0.005)]
    rows, res = [], _airfoil(ctx, "autograd", "normal:0.01", manual, times=True)
    for label, bs, lr, epochs, pub, tol, finals, *_ in res:
        text, mean, sp = _spread(finals)
        rows.append(Row("002", f"airfoil-linreg, {label}, batch {1500 if bs == 'full' else bs}, lr {lr:g}, {epochs} "
                        "epochs, weights N(0, 0.01): final loss", f"{pub}", text, f"{mean - pub:+.6f}",
                        _within(mean, pub, tol, sp)))
    pub_t = {"GD": 0.0135, "SGD": 0.531, "mini-batch": 0.0788}
    ours_t = {r[0]: r[7] for r in res}
    rows.append(Row("002", "seconds per epoch (DataLoader + autograd, as the post), GD / SGD / mini-batch",
                    " / ".join(f"{pub_t[k]:g}" for k in pub_t), " / ".join(f"{ours_t[k]:.4g}" for k in pub_t),
                    "other machine: compare ratios",
                    f"ratio SGD/GD theirs {pub_t['SGD'] / pub_t['GD']:.1f}, ours {ours_t['SGD'] / ours_t['GD']:.1f}; "
                    f"mini-batch/GD theirs {pub_t['mini-batch'] / pub_t['GD']:.1f}, ours "
                    f"{ours_t['mini-batch'] / ours_t['GD']:.1f}"))
    optim = [("GD", "full", 0.05, 6, 0.701703, 0.05), ("SGD", 1, 0.05, 2, 0.288860, 0.03),
             ("mini-batch", 10, 0.05, 2, 0.242063, 0.005)]
    for label, bs, lr, epochs, pub, tol, finals, _, starts in _airfoil(ctx, "optim", "default", optim, times=False):
        text, mean, sp = _spread(finals)
        verdict = _within(mean, pub, tol, sp)
        if verdict.startswith("not") and label == "GD":
            verdict += (f": six GD steps at lr 0.05 from nn.Linear's random init are far from converged (the optimum "
                        f"is 0.2417), so the figure mostly reflects the init: ours start at {min(starts):.3f} to "
                        f"{max(starts):.3f} over seeds 0-4, and the post's single draw is not known")
        rows.append(Row("002", f"airfoil-linreg, torch.optim.SGD lr 0.05, nn.Linear's init, {label}, {epochs} epochs: "
                        "final loss", f"{pub}", text, f"{mean - pub:+.6f}", verdict))
    return rows


def seed004(ctx: Context) -> list[Row]:
    """random-mlp: the post's NumPy forward and hand-written backward against torch autograd and gdcore."""
    cfg = _cfg(ctx, workload="random-mlp", lr=1e-6, epochs=500, dtype="float64", eval_every=64)
    tr = RunSetup(cfg)
    tr.fresh()
    x, y = tr.data.train_x.double().numpy(), tr.data.train_y.double().numpy()
    w1, w2 = (m.weight.detach().numpy().T.copy() for m in tr.model if isinstance(m, torch.nn.Linear))
    numpy_loss = []
    for _ in range(500):  # the post's loop, line for line
        h = x.dot(w1)
        h_relu = np.maximum(h, 0)
        y_pred = h_relu.dot(w2)
        numpy_loss.append(np.square(y_pred - y).sum())
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.T.dot(grad_y_pred)
        grad_h = grad_y_pred.dot(w2.T)
        grad_h[h < 0] = 0
        grad_w1 = x.T.dot(grad_h)
        w1 -= 1e-6 * grad_w1
        w2 -= 1e-6 * grad_w2
    rows = []
    for impl in ("autograd", "closed-form"):
        curve = [p["train_loss"] for p in run(cfg.replace(step=impl))["curve"]][:500]
        rel = max(abs(a - b) / abs(b) for a, b in zip(curve, numpy_loss))
        rows.append(Row("004", f"random-mlp, NumPy hand-written backward vs gdcore {impl}, lr 1e-6, 500 iterations, "
                        "weights randn (float64)", "the same loss sequence",
                        f"loss {numpy_loss[0]:.4g} -> {numpy_loss[-1]:.4g} (NumPy), {curve[-1]:.4g} (gdcore)",
                        f"max relative difference over 500 losses {rel:.1e}",
                        ("reproduced (equal within 1e-9)" if rel < 1e-9 else "not reproduced")
                        + ("; the post's torch code builds y with shape (H, D_out) = (100, 10), which cannot be "
                           "subtracted from the (64, 10) prediction: it fails as published, and we use (N, D_out)"
                           if impl == "autograd" else "")))
    return rows


QUICK = [seed001, seed002, seed004]