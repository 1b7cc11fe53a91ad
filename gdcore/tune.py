"""The learning rate of a batch size, tuned over several seeds: a log grid extended until the best rate is bracketed.

A trial is one (lr, seed) run to the target or its budget. An lr's score is the median over seeds of the samples to
target, where a diverged or unreached run counts as infinitely slow (as in AlgoPerf); between lrs that all miss the
target, the median final metric decides. The best lr is bracketed when both its neighbours on the grid score worse
(slower, unreached or diverged). Until then the grid grows by `factor` past the edge the best lr sits on, and when no
lr reaches the target, the geometric midpoints beside the best one are tried too (the larger first). At most `max_lrs` rates are tried;
the result says when that cap stopped the search.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable

from .config import RunConfig
from .record import resolved_to
from .train import run
from .workloads import WORKLOADS

TRIAL_FIELDS = ("lr", "seed", "samples_to_target", "steps_to_target", "samples_to_target_lower",
                "steps_to_target_lower", "seconds_to_target", "final_train_loss", "final_test_metric", "diverged",
                "samples_seen")
MIN_SPACING = 1.2  # midpoints closer than this ratio to a tried lr are not worth a trial


@dataclass(frozen=True)
class Search:
    lrs: tuple  # the starting grid
    seeds: tuple = (0, 1, 2)
    factor: float = 2.0  # ratio between grid points when the grid is extended
    max_lrs: int = 8  # cap on the learning rates tried


def median(values) -> float:
    """The median, with None (unreached, diverged) counted as infinite."""
    return statistics.median([math.inf if v is None else v for v in values])


def score(trials: list[dict], higher_is_better: bool) -> tuple:
    """Sort key of an lr from its trials: median samples to target, then (all unreached) the median final metric."""
    metrics = [t["final_test_metric"] for t in trials]
    metric = median([None if m is None else (-m if higher_is_better else m) for m in metrics])
    return median([t["samples_to_target"] for t in trials]), metric


def next_lr(scores: dict[float, tuple], factor: float) -> tuple[float | None, str]:
    """(the next lr to try, or None when the best is bracketed; why)."""
    grid = sorted(scores)
    i = min(range(len(grid)), key=lambda k: (scores[grid[k]], grid[k]))
    best = grid[i]
    if i == 0:
        return best / factor, f"best lr {best:g} is the smallest tried"
    if i == len(grid) - 1:
        return best * factor, f"best lr {best:g} is the largest tried"
    if math.isinf(scores[best][0]):  # no lr reaches the target: look between the best and its neighbours
        for nb in (grid[i + 1], grid[i - 1]):  # the larger first: faster while stable, often just below divergence
            mid = math.sqrt(best * nb)
            if max(mid, best) / min(mid, best) >= MIN_SPACING and all(
                    max(mid, t) / min(mid, t) >= MIN_SPACING for t in grid):
                return mid, f"no lr reached the target; trying between {best:g} and {nb:g}"
        return None, f"no lr reached the target; best metric at {best:g}, bracketed"
    return None, f"best lr {best:g} is bracketed by {grid[i - 1]:g} and {grid[i + 1]:g}"


def trial(record: dict) -> dict:
    return {k: record[k] for k in TRIAL_FIELDS}


def run_resolved(cfg: RunConfig) -> dict:
    """run(cfg), and when its samples to target is not resolved (it was reached at the fine schedule's first
    evaluation, so the one before it is the start), run again with the schedule starting after the first step.
    The run is deterministic: the second one follows the same trajectory, only evaluated more often early on."""
    r = run(cfg)
    hit, lower = r["samples_to_target"], r["samples_to_target_lower"]
    if (cfg.resolution is not None and cfg.first_eval is None and hit is not None
            and not resolved_to(hit, lower, r["batch_size"], cfg.resolution)):
        r = run(cfg.replace(first_eval=1))
    return r


def search(cfg: RunConfig, plan: Search, on_trial: Callable[[dict], None] | None = None) -> dict:
    """Tunes cfg's lr over plan.seeds. Returns {"best_lr", "records": the best lr's records (one per seed),
    "lr_search": {"factor", "grid", "capped", "bracketed", "why", "trials"}}."""
    higher = WORKLOADS[cfg.workload].metric.higher_is_better
    records: dict[float, list[dict]] = {}
    trials: list[dict] = []
    todo, why, capped = list(plan.lrs), "", False
    while todo:
        lr = todo.pop(0)
        records[lr] = []
        for seed in plan.seeds:
            r = run_resolved(cfg.replace(lr=lr, seed=seed))
            records[lr].append(r)
            trials.append(trial(r))
            if on_trial:
                on_trial(trials[-1])
            unreached = sum(x["samples_to_target"] is None for x in records[lr])
            if unreached > len(plan.seeds) // 2:  # the median is infinite whatever the other seeds do
                break
        if todo:
            continue
        scores = {x: score([trial(r) for r in rs], higher) for x, rs in records.items()}
        nxt, why = next_lr(scores, plan.factor)
        if nxt is not None:
            if len(records) >= plan.max_lrs:
                capped = True
                why += f"; stopped at the cap of {plan.max_lrs} learning rates"
            else:
                todo.append(nxt)
    best = min(scores, key=lambda x: (scores[x], x))
    reached = not math.isinf(scores[best][0])
    return {"best_lr": best if reached else None, "records": records[best],
            "lr_search": {"factor": plan.factor, "grid": sorted(records), "capped": capped,
                          "bracketed": not capped and reached, "why": why, "trials": trials}}


def noise_along(cfg: RunConfig, max_points: int = 40) -> dict:
    """B_simple (gdcore.critical.noise_scale, over the whole training set) at the evaluations of one run of cfg,
    and its mean over the points up to the one that reached the target, as McCandlish et al. average it."""
    from .critical import noise_scale
    from .data import data_dir

    w = WORKLOADS[cfg.workload]
    data = w.load(str(data_dir(cfg.data_dir)), cfg.download, cfg.seed)
    data = data.head(cfg.subset) if cfg.subset else data
    points: list[list] = []

    def observe(model, point):
        p = next(model.parameters())
        x, y = data.train_x.to(p.device, p.dtype), data.train_y.to(p.device)
        y = y.to(p.dtype) if y.is_floating_point() else y
        points.append([point["samples"], noise_scale(model, w.loss, x, y)])

    r = run(cfg, observe=observe)
    upto = [b for s, b in points if r["samples_to_target"] is None or s <= r["samples_to_target"]]
    finite = [b for b in upto if math.isfinite(b)]
    step = max(1, math.ceil(len(points) / max_points))
    return {"seed": cfg.seed, "lr": cfg.lr, "samples_to_target": r["samples_to_target"],
            "mean_to_target": sum(finite) / len(finite) if finite else None,
            "points": [[s, b if math.isfinite(b) else None] for s, b in points[::step]],
            "method": "exact per-sample gradient norms over the training set, at every evaluation"}
