"""One plotting function per chart. Each takes rows (gdcore.results.Row) and a PNG path, draws, and returns the table
it drew from (a header and rows), so report.md can show the numbers behind every picture."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .feeds import FEEDS  # noqa: E402
from .results import number  # noqa: E402
from .steps import STEPS  # noqa: E402

Table = tuple[list[str], list[list]]
DPI = 100


def positive(v) -> float | int | None:
    """`v` when it is a finite number > 0, which a log axis can show; else None (drawn as a gap)."""
    v = number(v)
    return v if v is not None and v > 0 else None


def timed(rows) -> list:
    """The one-process epoch-time rows with a usable median (not null, NaN or 0), at the run's own thread count; the
    data-parallel cases and their one-process references are drawn by `scaling`."""
    return [r for r in rows if r.kind == "epoch_time" and positive(r.median) and r.world_size == 1]


def scaling(rows, path: Path) -> Table | None:
    """Data parallelism: for each K-rank case with t threads per rank, the efficiency T(1, t) / (K T(K, t)) against
    one process of t threads, the speedup T(1, K t) / T(K, t) against one process of all K t threads, and the share
    of an epoch spent in the all-reduce, (T(K) - T(K, no all-reduce)) / T(K)."""
    rows = [r for r in rows if r.kind in ("epoch_time", "scaling_reference") and positive(r.median)]
    key = lambda r: (r.machine, r.workload, r.device, r.feed, r.step, r.batch_size, r.n)  # noqa: E731
    one = {(key(r), r.threads): r.median for r in rows if r.world_size == 1}
    quiet = {(key(r), r.world_size): r.median for r in rows if r.world_size > 1 and not r.config.get("allreduce", True)}
    quiet = {(k[:4] + ("closed-form",) + k[5:], w): t for (k, w), t in quiet.items()}
    table = []
    for r in sorted((r for r in rows if r.world_size > 1 and r.config.get("allreduce", True)),
                    key=lambda r: (r.workload, r.step, r.batch_size)):
        k, K, t = key(r), r.world_size, r.threads
        t1, t_all = one.get((k, t)), one.get((k, K * t))
        comm = quiet.get((k, K)) if r.step == "closed-form" else None
        table.append([r.workload, r.device, r.step, r.batch_size, K, t, t1, t_all, r.median,
                      t1 / (K * r.median) if t1 else None, t_all / r.median if t_all else None,
                      (r.median - comm) / r.median if comm else None])
    if not table:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for step in dict.fromkeys(row[2] for row in table):
        pts = [(row[3], row[9]) for row in table if row[2] == step and row[9] is not None]
        if pts:
            ax.semilogx(*zip(*pts), marker="o", label=f"{step}: T(1, t) / (K T(K, t))")
    ax.axhline(1.0, color="k", ls="--", lw=1, label="perfect scaling")
    ax.set(title="Data-parallel scaling efficiency", xlabel="global batch size (samples)", ylabel="efficiency",
           ylim=(0, 1.2))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return ["workload", "device", "step", "batch size", "ranks K", "threads per rank t", "T(1, t) s",
            "T(1, K t) s", "T(K, t) s", "efficiency T(1,t)/(K T(K,t))", "speedup over 1 process of K t threads",
            "all-reduce share of the epoch"], table


def group(rows, *keys) -> dict[tuple, list]:
    out = defaultdict(list)
    for r in rows:
        out[tuple(getattr(r, k) for k in keys)].append(r)
    return dict(sorted(out.items(), key=lambda kv: tuple(str(x) for x in kv[0])))


def best_runs(rows) -> list:
    """Samples-to-target runs marked best_lr (or, in files without the mark, the one with fewest samples)."""
    runs = [r for r in rows if r.kind == "samples_to_target"]
    best = []
    for _, rs in group(runs, "workload", "device", "feed", "step", "batch_size").items():
        marked = [r for r in rs if r.best_lr]
        best.append(marked[0] if marked else min(rs, key=lambda r: (r.samples_to_target is None, r.samples_to_target or 0)))
    return best


def footer(fig, rows) -> None:
    r = rows[0]
    threads = f", {r.threads} threads" if r.threads else ""
    fig.text(0.995, 0.005, f"{r.machine} | torch {r.torch_version}{threads} | gdcore profile {r.profile}",
             ha="right", va="bottom", fontsize=7, color="0.35")


def panels(n_rows: int, n_cols: int, w=5.0, h=3.8):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(w * n_cols, h * n_rows + 1.0), squeeze=False)
    return fig, axes


def finish(fig, axes, rows, path: Path, ncol: int = 3) -> None:
    handles, labels = {}, []
    for ax in axes.flat:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in handles:
                handles[l] = h
                labels.append(l)
    if handles:  # one legend below the panels, where it hides no data
        fig.legend([handles[l] for l in labels], labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.02))
    rows_of_legend = (len(labels) + ncol - 1) // ncol
    fig.tight_layout(rect=(0, min(0.45, 0.04 + 0.035 * rows_of_legend * 4 / fig.get_figheight()), 1, 1))
    footer(fig, rows)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def limit(r) -> float | None:
    """The case's roofline: minimal seconds per epoch from its FLOPs and bytes and its device's measured peak."""
    from .roofline import limit_seconds

    if not (r.peak and positive(r.epoch_flops) and positive(r.epoch_bytes)):
        return None
    return limit_seconds({"epoch_flops": r.epoch_flops, "epoch_bytes": r.epoch_bytes}, r.peak)


def epoch_time(rows, path: Path) -> Table | None:
    """Seconds per epoch against batch size (log-log), one line per device x path x impl, one panel per workload,
    and the hardware limit (roofline) of each device as a dashed line."""
    rows = timed(rows)
    if not rows:
        return None
    by_w = group(rows, "workload")
    fig, axes = panels(1, len(by_w))
    table = []
    for ax, ((w,), rs) in zip(axes.flat, by_w.items()):
        for (dev, p, impl), line in group(rs, "device", "feed", "step").items():
            line.sort(key=lambda r: r.batch_size)
            family = STEPS[impl].family if impl in STEPS else "gdcore"
            style = dict(marker="*", ms=10, color="k", ls="none") if family == "reference" else \
                dict(marker="^", ms=5, ls="--" if p == "preloaded" else ":") if family == "peer" else \
                dict(marker="o", ms=3, ls="-" if p == "preloaded" else ":")
            ax.loglog([r.batch_size for r in line], [r.median for r in line], label=f"{dev} {p} {impl}", **style)
            for r in line:
                lim = limit(r)
                table.append([w, dev, p, impl, r.batch_size, r.median, lim, lim / r.median if lim else None])
        for (dev,), drs in group(rs, "device").items():
            pts = sorted({(r.batch_size, limit(r)) for r in drs if limit(r)})
            if pts:
                ax.loglog([b for b, _ in pts], [s for _, s in pts], "k--", lw=1.2,
                          label=f"{dev} hardware limit (FLOPs at matmul peak, bytes at bandwidth)")
        ax.set(title=w, xlabel="batch size (samples)", ylabel="seconds per epoch (s)")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Seconds per epoch against batch size (median of rounds)")
    finish(fig, axes, rows, path)
    return ["workload", "device", "feed", "step", "batch size", "s/epoch (median)", "limit s/epoch",
            "fraction of limit"], table


def samples_to_target(rows, path: Path) -> Table | None:
    """Samples and steps to target at each batch size's best lr (log-log), with the perfect-scaling reference."""
    best = [r for r in best_runs(rows) if positive(r.samples_to_target)]
    if not best:
        return None
    by_w = group(best, "workload")
    fig, axes = panels(len(by_w), 2)
    table = []
    for (ax_s, ax_t), ((w,), rs) in zip(axes, by_w.items()):
        for (dev,), line in group(rs, "device").items():
            line.sort(key=lambda r: r.batch_size)
            bs = [r.batch_size for r in line]
            ax_s.loglog(bs, [r.samples_to_target for r in line], marker="o", label=f"{dev}")
            ax_t.loglog(bs, [positive(r.steps_to_target) for r in line], marker="o", label=f"{dev}")
            ref = line[0].samples_to_target  # perfect scaling: as many samples at every batch size
            ax_s.loglog(bs, [ref] * len(bs), "k--", lw=1, label="perfect scaling (constant samples)")
            ax_t.loglog(bs, [ref / b for b in bs], "k:", lw=1, label="perfect scaling (steps = samples / batch)")
            table += [[w, dev, r.batch_size, r.lr, r.samples_to_target, r.steps_to_target, r.seconds_to_target]
                      for r in line]
        ax_s.set(title=f"{w}: samples to target {line[0].target:g}", xlabel="batch size (samples)",
                 ylabel="samples to target")
        ax_t.set(title=f"{w}: steps to target", xlabel="batch size (samples)", ylabel="steps to target")
        for ax in (ax_s, ax_t):
            ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Samples and steps to target, each batch size at its own best learning rate")
    finish(fig, axes, best, path)
    return ["workload", "device", "batch size", "best lr", "samples", "steps", "seconds (optimization)"], table


def final_loss(rows, path: Path) -> Table | None:
    """Final train loss and final test metric against batch size after a fixed sample budget."""
    rows = [r for r in rows if r.kind == "final_loss"]
    if not rows:
        return None
    by_w = group(rows, "workload")
    fig, axes = panels(len(by_w), 2)
    table = []
    for (ax_l, ax_m), ((w,), rs) in zip(axes, by_w.items()):
        for (dev,), line in group(rs, "device").items():
            line.sort(key=lambda r: r.batch_size)
            bs = [r.batch_size for r in line]
            ax_l.semilogx(bs, [r.final_train_loss for r in line], marker="o", label=dev)
            ax_m.semilogx(bs, [r.final_test_metric for r in line], marker="o", label=dev)
            table += [[w, dev, r.batch_size, r.lr, r.samples_seen, r.final_train_loss, r.final_test_metric]
                      for r in line]
        budget = line[0].samples_seen
        ax_l.set(title=f"{w}: final train loss after {budget} samples", xlabel="batch size (samples)",
                 ylabel="train loss")
        ax_m.set(title=f"{w}: final {line[0].metric_name}", xlabel="batch size (samples)", ylabel=line[0].metric_name)
        for ax in (ax_l, ax_m):
            ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Final loss and metric after a fixed sample budget")
    finish(fig, axes, rows, path)
    return ["workload", "device", "batch size", "lr", "samples", "final train loss", "final metric"], table


def curve_points(r) -> list[tuple]:
    """(samples, seconds, test metric) of each well-formed point of the run's curve; on a log scale, metric > 0."""
    out = []
    for p in r.curve:
        s, t, m = (number(p.get(k)) if isinstance(p, dict) else None for k in ("samples", "seconds", "test_metric"))
        if None not in (s, t, m) and (m > 0 or r.metric_name == "test_accuracy"):
            out.append((max(s, 1), max(t, 1e-4), m))
    return out


def curves(rows, path: Path) -> Table | None:
    """Test metric against samples seen and against seconds, for the best lr of each batch size."""
    best = [r for r in best_runs(rows) if curve_points(r)]
    if not best:
        return None
    by_w = group(best, "workload")
    fig, axes = panels(len(by_w), 2)
    table = []
    for (ax_n, ax_t), ((w,), rs) in zip(axes, by_w.items()):
        for r in sorted(rs, key=lambda r: (r.device, r.batch_size)):
            pts = curve_points(r)
            label = f"{r.device} bs {r.batch_size} (lr {r.lr:g})"
            ax_n.plot([s for s, _, _ in pts], [m for _, _, m in pts], label=label)
            ax_t.plot([t for _, t, _ in pts], [m for _, _, m in pts], label=label)
            table.append([w, r.device, r.batch_size, r.lr, len(pts), pts[-1][2]])
        metric = rs[0].metric_name
        ax_n.set(xscale="log", title=f"{w}: {metric} against samples", xlabel="samples seen", ylabel=metric)
        ax_t.set(xscale="log", title=f"{w}: {metric} against time", xlabel="optimization time (s)", ylabel=metric)
        for ax in (ax_n, ax_t):
            if rs[0].metric_name != "test_accuracy":
                ax.set_yscale("log")
            ax.axhline(rs[0].target, color="k", ls="--", lw=1, label="target")
            ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Convergence at each batch size's best learning rate")
    finish(fig, axes, best, path, ncol=4)
    return ["workload", "device", "batch size", "lr", "points", "last metric"], table


def speedups(rows, path: Path) -> Table | None:
    """Speedup of each feed over dataloader (per step), and of each step over autograd (per feed): the base's seconds
    per epoch divided by the other's, so above 1 is faster. Feeds and steps come from the registries."""
    rows = timed(rows)
    if not rows:
        return None
    t = {(r.workload, r.device, r.feed, r.step, r.batch_size): r.median for r in rows}
    by_w = group(rows, "workload")
    fig, axes = panels(1, len(by_w))
    table = []
    for ax, ((w,), rs) in zip(axes.flat, by_w.items()):
        sizes = sorted({r.batch_size for r in rs})
        for dev in sorted({r.device for r in rs}):
            lines = [(f"{dev} {feed} over dataloader ({step})", ("dataloader", step), (feed, step))
                     for feed in FEEDS if feed != "dataloader" for step in STEPS]
            lines += [(f"{dev} {step} over autograd ({feed})", (feed, "autograd"), (feed, step))
                      for feed in FEEDS for step in STEPS if step != "autograd"]
            for label, base, new in lines:
                pts = [(b, t[(w, dev, *base, b)] / t[(w, dev, *new, b)]) for b in sizes
                       if (w, dev, *base, b) in t and (w, dev, *new, b) in t]
                if pts:
                    ax.semilogx([b for b, _ in pts], [s for _, s in pts], marker="o", ms=3, label=label)
                    table += [[w, label, b, s] for b, s in pts]
        ax.axhline(1, color="k", lw=0.8)
        ax.set(yscale="log", title=w, xlabel="batch size (samples)", ylabel="speedup (x): base s/epoch / this s/epoch")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("What the data path and the step implementation cost: speedups per batch size")
    finish(fig, axes, rows, path, ncol=3)
    return ["workload", "comparison", "batch size", "speedup (x)"], table


def hardware(rows, path: Path) -> Table | None:
    """Seconds per epoch per case on every machine x device, and the speedup over the first one named."""
    rows = timed(rows)
    hw = list(dict.fromkeys(f"{r.machine} ({r.device})" for r in rows))
    if len(hw) < 2:
        return None
    cases = group(rows, "workload", "feed", "step", "batch_size")
    common = {k: {f"{r.machine} ({r.device})": r.median for r in rs} for k, rs in cases.items()}
    common = {k: v for k, v in common.items() if len(v) >= 2 and hw[0] in v}
    if not common:
        return None
    keys = list(common)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.32 * len(keys) * len(hw)), 6.0))
    width = 0.8 / len(hw)
    for i, h in enumerate(hw):
        xs = [j + i * width for j, k in enumerate(keys) if h in common[k]]
        ax.bar(xs, [common[k][h] for k in keys if h in common[k]], width, label=h)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))])
    ax.set_xticklabels([f"{w} {p} {i} bs{b}" for w, p, i, b in keys], rotation=75, ha="right", fontsize=7)
    ax.set(yscale="log", ylabel="seconds per epoch (s, median)", title="Hardware comparison: seconds per epoch per case")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.text(0.995, 0.005, f"machines: {len(hw)}; speedups are over {hw[0]}", ha="right", fontsize=7, color="0.35")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    table = [[*k, *[common[k].get(h) for h in hw], *[(common[k][hw[0]] / common[k][h]) if h in common[k] else None
                                                     for h in hw[1:]]] for k in keys]
    return ["workload", "feed", "step", "batch size", *[f"s/epoch {h}" for h in hw],
            *[f"speedup {h}" for h in hw[1:]]], table
