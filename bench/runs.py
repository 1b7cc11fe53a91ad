"""Helpers shared by the benchmark modules: a whole gdcore run as one benchmark round, curve thinning."""
from __future__ import annotations

from gdcore import run

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
