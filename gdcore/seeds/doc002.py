"""Document 002: airfoil-linreg by GD, SGD and mini-batch SGD, with a manual update and with torch.optim.SGD."""
from __future__ import annotations

import statistics

import numpy as np

from ..train import run
from .common import SEEDS, S, Context, Row, Spread, _cfg, _within, seeds_label

GD_INITS = range(200)  # nn.Linear's random inits behind document 002's torch.optim GD figure (6 ms each)


def _airfoil(ctx: Context, step: str, init: str, runs: list, seeds=SEEDS) -> list[tuple]:
    """Each (label, batch, lr, epochs, published, tol) run over the seeds through a DataLoader, as the post feeds
    it: (..., final losses, median seconds per epoch, starting losses)."""
    out = []
    for label, bs, lr, epochs, published, tol in runs:
        finals, secs, starts = [], [], []
        for seed in seeds:
            r = run(_cfg(ctx, workload="airfoil-linreg", batch_size=bs, lr=lr, epochs=epochs, step=step, init=init,
                         seed=seed, feed="dataloader", eval_every=10**9))
            finals.append(r["final_train_loss"])
            starts.append(r["curve"][0]["train_loss"])
            secs += r["seconds_per_epoch"]
        out.append((label, bs, lr, epochs, published, tol, finals, statistics.median(secs), starts))
    return out


def _timing_row(what: str, pub: dict, ours: dict) -> Row:
    """Seconds per epoch on another machine. The post's claim is the order (a mini-batch epoch takes between GD's
    and SGD's); the ratios to GD are given, not judged: they depend on the machine's per-step overhead."""
    ratios = {k: (pub[k] / pub["GD"], ours[k] / ours["GD"]) for k in ("SGD", "mini-batch")}
    text = "; ".join(f"{k}/GD theirs {t:.1f}, ours {o:.1f}" for k, (t, o) in ratios.items())
    ok = ours["GD"] < ours["mini-batch"] < ours["SGD"]
    return Row("002", f"seconds per epoch ({what}, median over seeds and epochs), GD / SGD / mini-batch",
               " / ".join(f"{pub[k]:g}" for k in pub), " / ".join(f"{ours[k]:.4g}" for k in pub),
               "other machine: compare ratios",
               ("reproduced: the post's order, GD < mini-batch < SGD per epoch" if ok else
                "not reproduced: the order is not GD < mini-batch < SGD") + f" (ratios to GD, which depend on the "
               f"machine: {text}; the post's time is its last epoch's and includes an evaluation every 100 samples, "
               "ours only the optimization)", S)


def seed002(ctx: Context) -> list[Row]:
    """airfoil-linreg: the three methods with a manual update, then with torch.optim.SGD."""
    manual = [("GD", "full", 1.0, 6, 0.245426, 0.002), ("SGD", 1, 0.005, 2, 0.246051, 0.005),
              ("mini-batch", 10, 0.05, 2, 0.242805, 0.005)]
    rows, res = [], _airfoil(ctx, "autograd", "normal:0.01", manual)
    for label, bs, lr, epochs, pub, tol, finals, *_ in res:
        sp = Spread.of(finals)
        rows.append(Row("002", f"airfoil-linreg, {label}, batch {1500 if bs == 'full' else bs}, lr {lr:g}, {epochs} "
                        "epochs, weights N(0, 0.01): final loss", f"{pub}", sp.text(), f"{sp.median - pub:+.6f}",
                        _within(sp.median, pub, tol, sp), S))
    rows.append(_timing_row("DataLoader + autograd, manual update, as the post",
                            {"GD": 0.013536, "SGD": 0.531435, "mini-batch": 0.078792}, {r[0]: r[7] for r in res}))
    optim = [("GD", "full", 0.05, 6, 0.701703, 0.05), ("SGD", 1, 0.05, 2, 0.288860, 0.03),
             ("mini-batch", 10, 0.05, 2, 0.242063, 0.005)]
    res = _airfoil(ctx, "optim", "default", optim)
    for label, bs, lr, epochs, pub, tol, finals, _, starts in res:
        sp = Spread.of(finals)
        seeds, ours, verdict = S, sp.text(), _within(sp.median, pub, tol, sp)
        if label == "GD":  # six steps from a random init: the figure is one draw from the inits' distribution
            many = Spread.of(run(_cfg(ctx, workload="airfoil-linreg", batch_size="full", lr=lr, epochs=epochs,
                                      step="optim", init="default", seed=s, eval_every=10**9))["final_train_loss"]
                             for s in GD_INITS)
            above = sum(v >= pub for v in many.values)
            q5, q95 = np.percentile(many.values, [5, 95])
            seeds = seeds_label(GD_INITS)
            ours = (f"{many.text()}, 5th-95th percentile {q5:.3f} to {q95:.3f}; {above} of {len(many.values)} inits "
                    f"({100 * above / len(many.values):.1f} %) end at or above {pub}")
            sp = many
            verdict = (f"reproduced as one random init (inside the range over {len(many.values)} inits): "
                       f"{100 * above / len(many.values):.1f} % of nn.Linear's inits end at or above it; six GD steps "
                       "at lr 0.05 are far from the optimum 0.2417, so the figure is set by the init" if above else
                       f"not reproduced: none of {len(many.values)} random inits ends as high "
                       f"(the highest {many.hi:.6f})")
        rows.append(Row("002", f"airfoil-linreg, torch.optim.SGD lr 0.05, nn.Linear's init, {label}, {epochs} epochs: "
                        "final loss", f"{pub}", ours, f"{sp.median - pub:+.6f}", verdict, seeds))
    rows.append(_timing_row("DataLoader + torch.optim.SGD, as the post",
                            {"GD": 0.013035, "SGD": 0.586868, "mini-batch": 0.075203}, {r[0]: r[7] for r in res}))
    return rows
