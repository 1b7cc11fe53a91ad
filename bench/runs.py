"""Helpers shared by the benchmark modules: a whole gdcore run as one benchmark round, curve thinning."""
from __future__ import annotations

import math

from gdcore import run
from gdcore.roofline import epoch_cost
from gdcore.train import describe, finite

CURVE_POINTS = 40  # extra_info curves are thinned to about this many points


def thin(curve: list, points: int = CURVE_POINTS) -> list:
    """At most `points` evenly spaced points of a curve, the first and the last included."""
    if len(curve) <= points:
        return curve
    idx = sorted({round(i * (len(curve) - 1) / (points - 1)) for i in range(points)})
    return [curve[i] for i in idx]


def benchmark_run(benchmark, case, gd, kind: str, **changes) -> dict:
    """Times the whole run (evaluations included; the optimization-only time is extra_info.train_seconds)."""
    cfg = case.config(gd["data_dir"], **changes)
    benchmark.group = case.group
    record = benchmark.pedantic(run, args=(cfg,), rounds=1, warmup_rounds=0, iterations=1)
    benchmark.extra_info.update({**record, "curve": thin(record["curve"]), "kind": kind, "profile": gd["profile"]})
    return record


def epoch_record(benchmark, tr, case, gd, **overrides) -> list[float]:
    """Fills extra_info for an epoch-time case, after its timed rounds: the run record's fields for one epoch from a
    fresh model (quality figures of the model after the last round), its FLOPs and bytes for the roofline."""
    train_loss, test_loss, metric = tr.evaluate()  # outside the timing
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    rounds = list(getattr(stats, "data", []) or [])
    n, bs = tr.data.n, tr.cfg.batch_size
    x, y = tr.eval_sets[0], tr.eval_sets[1]  # as the device holds them: bytes per sample for the roofline
    benchmark.extra_info.update({
        **describe(tr), "kind": "epoch_time", "profile": gd["profile"], "n": n, "rounds": case.rounds,
        "epochs": 1, "samples_seen": n, "steps": math.ceil(n / bs), "train_seconds": sum(rounds) or None,
        "seconds_per_epoch": rounds, "final_train_loss": finite(train_loss), "final_test_loss": finite(test_loss),
        "final_test_metric": finite(metric), "samples_to_target": None, "steps_to_target": None,
        "seconds_to_target": None, "diverged": not math.isfinite(train_loss), "curve": [],
        "config": tr.cfg.to_dict(),
        **epoch_cost(tr.model, n, x[0].numel() * x.element_size(), y[0].numel() * y.element_size()),
        **overrides,
    })
    return rounds
