"""Helpers shared by the benchmark modules: a whole gdcore run as one benchmark round, the record of an epoch-time
case. Both write one gdcore.Record into extra_info."""
from __future__ import annotations

import math

from gdcore.config import RunConfig
from gdcore.record import Record, finite
from gdcore.train import run

CURVE_POINTS = 40  # extra_info curves are thinned to about this many points


def thin(curve: list, points: int = CURVE_POINTS) -> list:
    """At most `points` evenly spaced points of a curve, the first and the last included."""
    if len(curve) <= points:
        return curve
    idx = sorted({round(i * (len(curve) - 1) / (points - 1)) for i in range(points)})
    return [curve[i] for i in idx]


def config(case, gd, **changes) -> RunConfig:
    kw = dict(workload=case.workload, batch_size=case.batch_size, lr=case.lr, feed=case.feed, step=case.step,
              device=case.device, subset=case.subset, epochs=case.epochs, data_dir=gd["data_dir"],
              download=gd["download"], world_size=case.world_size, allreduce=case.allreduce)
    if case.threads:  # data parallelism and its reference: the ranks' share of the suite's threads
        kw["threads"] = case.threads
    return RunConfig(**{**kw, **changes})


def benchmark_run(benchmark, case, gd, **changes) -> dict:
    """Times the whole run (evaluations included; the optimization-only time is extra_info.train_seconds)."""
    cfg = config(case, gd, **changes)
    benchmark.group = case.group
    record = benchmark.pedantic(run, args=(cfg,), rounds=1, warmup_rounds=0, iterations=1)
    r = Record.from_dict(record)
    r.curve, r.kind, r.profile = thin(r.curve), case.kind, gd["profile"]
    benchmark.extra_info.update(r.to_dict())
    return record


def epoch_record(benchmark, facts: dict, case, gd) -> list[float]:
    """extra_info of an epoch-time case, after its timed rounds, from RunSetup.facts(): one epoch from a fresh model
    (quality figures of the model after the last round), the rounds' times, the FLOPs and bytes of an epoch."""
    train_loss, _, metric = facts["evaluate"]
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    rounds = list(getattr(stats, "data", []) or [])
    n, bs = facts["n"], facts["batch_size"]
    r = Record(
        **facts["describe"], epochs=1.0, samples_seen=n, steps=math.ceil(n / bs), train_seconds=sum(rounds) or None,
        seconds_per_epoch=rounds, final_train_loss=finite(train_loss), final_test_loss=None,
        final_test_metric=finite(metric), samples_to_target=None, steps_to_target=None, seconds_to_target=None,
        diverged=not math.isfinite(train_loss), curve=[], kind=case.record_kind, profile=gd["profile"],
        rounds=case.rounds, **facts["cost"],
    )
    benchmark.extra_info.update(r.to_dict())
    return rounds
