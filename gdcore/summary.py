"""What a reader wants first, from the rows of a report: per workload and device, each batch size's best learning
rate and its samples and steps to target over seeds (median and range), whether they are resolved, the critical
batch size fitted to them with a bootstrap interval, and the gradient noise scale B_simple beside it.
`gdcore report` writes it as summary.json (its fields are documented in the README) and as report.md's opening."""
from __future__ import annotations

import math
import statistics

from .critical import bootstrap, fit_steps
from .record import resolved_to
from .results import number
from .tables import md_table

SCHEMA = 1
RESOLUTION = 0.1  # a figure is resolved when the evaluation before it saw >= 90 % of its samples, or one step less
LEVEL = 0.9  # the bootstrap interval of B_crit


def best_runs(rows) -> list:
    """Samples-to-target rows at their batch size's best lr: tuned rows (one per batch size, best_lr marked by the
    search) or, in files from before the search, the marked (else the fastest) of several lrs."""
    groups: dict[tuple, list] = {}
    for r in rows:
        if r.kind == "samples_to_target":
            groups.setdefault((r.machine, r.workload, r.device, r.feed, r.step, r.batch_size, r.n), []).append(r)
    best = []
    for rs in groups.values():
        marked = [r for r in rs if r.best_lr]
        best.append(marked[0] if marked else min(rs, key=lambda r: (r.samples_to_target is None,
                                                                     r.samples_to_target or 0)))
    return best


def per_seed(r) -> dict:
    """The row's per-seed values (a row from before several seeds: its one run)."""
    keys = ("seed", "samples_to_target", "steps_to_target", "samples_to_target_lower", "final_train_loss",
            "final_test_metric")
    if isinstance(r.info.get("over_seeds"), dict):
        return {k: list(r.over_seeds.get(k) or []) for k in keys}
    return {k: [r.info.get(k)] for k in keys}


def spread(values: list) -> dict:
    """Median, min and max with None (not reached) counted as infinite; None where that is the figure."""
    v = sorted(math.inf if x is None else x for x in values)
    fin = lambda x: None if math.isinf(x) else x  # noqa: E731
    return {"median": fin(statistics.median(v)) if v else None, "min": fin(v[0]) if v else None,
            "max": fin(v[-1]) if v else None, "reached": sum(x is not None for x in values), "seeds": len(values)}


def resolved(r, seeds: dict) -> bool | None:
    """Every reached seed's figure lies within RESOLUTION of the evaluation before it, or one step after it."""
    hits = [(s, lo) for s, lo in zip(seeds["samples_to_target"], seeds["samples_to_target_lower"]) if s]
    if not hits or all(lo is None for _, lo in hits):  # nothing reached, or a file from before the bracket
        return None
    return all(lo is not None and resolved_to(s, lo, r.batch_size, RESOLUTION) for s, lo in hits)


def critical(sizes: list[dict], steps: dict) -> dict | None:
    """B_crit from the steps to target of the batch sizes every seed reached (gdcore.critical.bootstrap)."""
    used = {b: v for b, v in steps.items() if v and all(x is not None for x in v)}
    if len(used) < 2:
        return None
    est, lo, hi = bootstrap(used, draws=400, level=LEVEL)
    s_min = fit_steps(sorted(used), [statistics.median(used[b]) for b in sorted(used)])[0]
    seeds = min(len(v) for v in used.values())
    fin = lambda x: x if math.isfinite(x) else None  # noqa: E731
    return {"b_crit": fin(est), "s_min": fin(s_min), "interval": [fin(lo), fin(hi)] if seeds > 1 else None,
            "level": LEVEL,
            "beyond_largest": math.isinf(est), "batch_sizes": sorted(used), "seeds": seeds,
            "method": "fit of S = S_min (1 + B_crit / B) to the median steps to target, seeds resampled"}


def agreement(crit: dict | None, b_simple: float | None) -> dict | None:
    if not crit or crit["b_crit"] is None or not b_simple:
        return None
    ratio = max(crit["b_crit"], b_simple) / min(crit["b_crit"], b_simple)
    return {"ratio": ratio, "within_2x": ratio <= 2}


def summarize(rows) -> dict:
    """summary.json's content (see the README for every field)."""
    out = []
    groups: dict[tuple, list] = {}
    for r in best_runs(rows):
        groups.setdefault((r.machine, r.workload, r.device, r.n), []).append(r)
    for (machine, w, dev, n), rs in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        sizes, steps = [], {}
        for r in sorted(rs, key=lambda r: r.batch_size):
            seeds = per_seed(r)
            search = r.info.get("lr_search") or {}
            noise = r.info.get("noise_scale") or {}
            reached = r.samples_to_target is not None
            sizes.append({
                "batch_size": r.batch_size, "full_batch": r.batch_size == n, "best_lr": r.lr if reached else None,
                "lr_bracketed": search.get("bracketed"), "lr_grid": search.get("grid"), "lr_capped": search.get("capped"),
                "seeds": seeds["seed"], "samples_to_target": spread(seeds["samples_to_target"]),
                "steps_to_target": spread(seeds["steps_to_target"]), "resolved": resolved(r, seeds),
                "b_simple": noise.get("mean_to_target")})
            steps[r.batch_size] = seeds["steps_to_target"]
        crit = critical(sizes, steps)
        noise = [s["b_simple"] for s in sizes if s["b_simple"]]
        b_simple = statistics.median(noise) if noise else None
        out.append({"machine": machine, "workload": w, "device": dev, "n": n, "metric": rs[0].metric_name,
                    "target": rs[0].target, "batch_sizes": sizes, "critical_batch": crit,
                    "b_simple": b_simple, "agreement": agreement(crit, b_simple)})
    return {"schema": SCHEMA, "resolution": RESOLUTION, "workloads": out}


def limit(r) -> dict | None:
    """The case's hardware limit (gdcore.roofline.epoch_limit): the larger of the throughput floor (FLOPs at the
    matmul peak, bytes at the bandwidth) and the per-step floor (dependent steps at one core's rate), and which
    binds; None without a measured peak."""
    from .roofline import epoch_limit

    if not (r.info.get("peak") and all((number(r.info.get(k)) or 0) > 0 for k in ("epoch_flops", "epoch_bytes", "n"))):
        return None
    return epoch_limit({"epoch_flops": r.epoch_flops, "epoch_bytes": r.epoch_bytes}, r.n, r.batch_size, r.peak)


OVERHEAD = 0.01  # below this fraction of its limit, an epoch is call overhead, not hardware: no fraction is shown


def label(r) -> str:
    return f"{r.step} ({r.feed})" if r.feed != "preloaded" else r.step


def speed_md(rows) -> list[str]:
    """Per machine, workload and device: seconds per epoch, way of running it against batch size; the fastest way
    of gdcore and its fraction of the limit; each peer's time over gdcore's fastest."""
    from .steps import STEPS

    timed = [r for r in rows if r.kind == "epoch_time" and r.world_size == 1 and (number(r.median) or 0) > 0]
    groups: dict[tuple, list] = {}
    for r in timed:
        groups.setdefault((r.machine, r.workload, r.device, r.n), []).append(r)
    out = []
    for (machine, w, dev, n), rs in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        sizes = sorted({r.batch_size for r in rs})
        cols = ["full" if b == n else str(b) for b in sizes]
        t = {(label(r), r.batch_size): r for r in rs}
        ways = sorted({label(r) for r in rs}, key=lambda x: (STEPS[x.split(" ")[0]].family != "gdcore", x))
        table = [[way, *[t[(way, b)].median if (way, b) in t else None for b in sizes]] for way in ways]
        ours = [min((r for r in rs if r.batch_size == b and STEPS[r.step].family == "gdcore"),
                    key=lambda r: r.median, default=None) for b in sizes]
        table.append(["**gdcore's fastest**", *[r and label(r) for r in ours]])
        frac = []
        for r in ours:
            lim = r and limit(r)
            f = lim and lim["seconds"] / r.median
            frac.append(None if not lim else "overhead-bound" if f < OVERHEAD else f"{f:.2f} ({lim['binding']})")
        table.append(["fraction of the limit (binding floor)", *frac])
        for peer in sorted({r.step for r in rs if STEPS[r.step].family != "gdcore"}):
            table.append([f"{peer} / gdcore's fastest", *[
                (t[(peer, b)].median / o.median) if o and (peer, b) in t else None for b, o in zip(sizes, ours)]])
        out += [f"**{w}** on {dev} ({machine}, n = {n}): seconds per epoch (median of rounds)", "",
                md_table(["way", *[f"bs {c}" for c in cols]], table), ""]
    return out


def interval_text(c: dict) -> str | None:
    """B_crit's interval over seeds as "lo to hi" (a bound of 0 included: B_crit is at least 0), "open-ended" where
    a bound is infinite, None with one seed (no interval)."""
    if c["interval"] is None:
        return None
    lo, hi = c["interval"]
    return "open-ended" if lo is None or hi is None else f"{lo:.3g} to {hi:.3g}"


def quality_md(summary: dict) -> list[str]:
    """Samples and steps to target per batch size (median [range] over seeds) and the critical batch size."""
    out = []
    for w in summary["workloads"]:
        rows = []
        for b in w["batch_sizes"]:
            s, st = b["samples_to_target"], b["steps_to_target"]
            cell = lambda d: "not reached" if d["median"] is None else (  # noqa: E731
                f"{d['median']:.0f} [{d['min']:.0f}–{'not reached' if d['max'] is None else round(d['max'])}]"
                if d["seeds"] > 1 else f"{d['median']:.0f} (one seed)")
            rows.append(["full" if b["full_batch"] else b["batch_size"], b["best_lr"],
                         {True: "yes", False: "no (edge of the grid)", None: "–"}[b["lr_bracketed"]],
                         cell(s), cell(st), {True: "yes", False: "no", None: "–"}[b["resolved"]], b["b_simple"]])
        c, a = w["critical_batch"], w["agreement"]
        if c is None:
            crit = "Critical batch size: not estimated (fewer than 2 batch sizes reached the target on every seed)."
        elif c["b_crit"] is None:
            crit = "Critical batch size: beyond the largest batch size measured (steps never level off)."
        else:
            iv = interval_text(c)
            iv = " (one seed: no interval)" if iv is None else f" ({int(100 * c['level'])} % interval {iv} over seeds)"
            crit = f"Critical batch size B_crit ≈ {c['b_crit']:.3g}{iv}, from batch sizes {c['batch_sizes']}."
        if w["b_simple"]:
            crit += f" Gradient noise scale B_simple ≈ {w['b_simple']:.3g}"
            crit += (f": {'within' if a['within_2x'] else 'not within'} 2x of B_crit (ratio {a['ratio']:.2g})."
                     if a else ".")
        out += [f"**{w['workload']}** on {w['device']} ({w['machine']}): to {w['metric']} {w['target']:g}, "
                "each batch size at its own best lr", "",
                md_table(["batch size", "best lr", "lr bracketed", "samples to target, median [range]",
                          "steps, median [range]", "resolved to 10 %", "B_simple"], rows), "", crit, ""]
    return out
