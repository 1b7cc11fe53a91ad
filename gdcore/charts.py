"""One plotting function per chart. Each takes rows (gdcore.results.Row) and a PNG path, draws, and returns the table
it drew from (a header and rows), so report.md can show the numbers behind every picture."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import statistics  # noqa: E402

from .results import number  # noqa: E402
from .steps import STEPS  # noqa: E402
from .summary import best_runs, interval_text, limit, per_seed  # noqa: E402

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


def footer(fig, rows) -> None:
    """Each machine drawn, its torch, threads and profile, in small type at the bottom right."""
    first = {}
    for r in rows:
        first.setdefault(r.machine, r)
    said = [f"{r.machine} | torch {r.torch_version}{f', {r.threads} threads' if r.threads else ''} | gdcore profile "
            f"{r.profile}" for r in first.values()]
    fig.text(0.995, 0.005, "; ".join(said), ha="right", va="bottom", fontsize=7, color="0.35")


def panels(n_rows: int, n_cols: int, w=5.0, h=3.8):
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(w * n_cols, h * n_rows + 1.0), squeeze=False)
    return fig, axes


def ratio_text(v: float) -> str:
    return f"{v:.0f}x" if v >= 10 else f"{v:.2g}x"


def finish(fig, axes, rows, path: Path, ncol: int = 3, colorbar: tuple | None = None) -> None:
    """The shared legend (or a colour bar: (norm, cmap, label)) below the panels, the footer, and the PNG at DPI."""
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
    height = fig.get_figheight()
    bottom = min(0.45, 0.04 + 0.035 * rows_of_legend * 4 / height)
    fig.tight_layout(rect=(0, max(bottom, 1.3 / height) if colorbar else bottom, 1, 1))
    if colorbar:
        norm, cmap, label = colorbar
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), orientation="horizontal",
                           cax=fig.add_axes((0.25, 0.85 / height, 0.5, 0.16 / height)))
        bar.set_label(label, fontsize=8)
        bar.ax.tick_params(labelsize=7)
        bar.ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ticks = [2.0 ** k for k in range(-12, 13) if norm.vmin <= 2.0 ** k <= norm.vmax]
        bar.set_ticks(ticks, labels=[ratio_text(v) for v in ticks])
    footer(fig, rows)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


FEED_LINES = {"preloaded": "-", "dataloader": ":"}
DEVICE_MARKERS = {"cpu": "o", "cuda": "s"}


def line_style(step: str, feed: str, device: str) -> dict:
    """One colour per step (its place in the step registry) and one line style per feed, the same in every panel
    and chart, so that the legend below the panels is true for each of them; peers are dashed, the C loop a star."""
    names = list(STEPS)
    colour = f"C{names.index(step) % 10}" if step in names else "0.4"
    family = STEPS[step].family if step in STEPS else "gdcore"
    if family == "reference":
        return dict(marker="*", ms=10, color=colour, ls="none")
    ls = "--" if family == "peer" and feed == "preloaded" else FEED_LINES.get(feed, "-.")
    return dict(marker=DEVICE_MARKERS.get(device, "x"), ms=4, color=colour, ls=ls)


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
            ax.loglog([r.batch_size for r in line], [r.median for r in line], label=f"{dev} {p} {impl}",
                      **line_style(impl, p, dev))
            for r in line:
                lim = limit(r) or {}
                table.append([w, dev, p, impl, r.batch_size, r.median, lim.get("seconds"), lim.get("binding"),
                              lim["seconds"] / r.median if lim else None])
        for (dev,), drs in group(rs, "device").items():
            pts = sorted({(r.batch_size, limit(r)["seconds"]) for r in drs if limit(r)})
            if pts:
                ax.loglog([b for b, _ in pts], [s for _, s in pts], "k--", lw=1.2,
                          label=f"{dev} hardware limit (the larger of throughput and per-step floors)")
        ax.set(title=w, ylabel="seconds per epoch (s)")
        log_axes(ax, "batch size (samples; the last point of a line is full batch)")
    fig.suptitle("Seconds per epoch against batch size (median of rounds)")
    finish(fig, axes, rows, path)
    return ["workload", "device", "feed", "step", "batch size", "s/epoch (median)", "limit s/epoch", "binding floor",
            "fraction of limit"], table


def errorbars(values: list) -> tuple:
    """(median, below, above) of per-seed values that all reached; None where any seed did not."""
    if not values or any(v is None for v in values):
        return None
    m = statistics.median(values)
    return m, m - min(values), max(values) - m


def samples_to_target(rows, path: Path) -> Table | None:
    """Samples and steps to target at each batch size's best lr (log-log): the median over seeds with bars for their
    range, a cross where the median seed did not reach the target within the budget, and perfect scaling."""
    best = [r for r in best_runs(rows) if r.metric_name]
    if not best:
        return None
    by_w = group(best, "workload")
    fig, axes = panels(len(by_w), 2)
    table = []
    for (ax_s, ax_t), ((w,), rs) in zip(axes, by_w.items()):
        for (dev,), line in group(rs, "device").items():
            line.sort(key=lambda r: r.batch_size)
            for ax, key in ((ax_s, "samples_to_target"), (ax_t, "steps_to_target")):
                pts = [(r.batch_size, errorbars(per_seed(r)[key])) for r in line]
                ok = [(b, e) for b, e in pts if e and e[0] > 0]
                if ok:
                    ax.errorbar([b for b, _ in ok], [e[0] for _, e in ok], yerr=[[e[1] for _, e in ok],
                                [e[2] for _, e in ok]], marker="o", capsize=3, label=f"{dev} median, bars: range over seeds")
                missed = [r.batch_size for r in line if r.samples_to_target is None]
                if missed:
                    top = max([e[0] + e[2] for _, e in ok] or [1.0])
                    ax.plot(missed, [top * 2] * len(missed), "rx", ms=9, ls="none",
                            label="not reached within budget (any lr tried)")
            reached = [r for r in line if positive(r.samples_to_target)]
            if reached:  # perfect scaling from the smallest batch that reached: constant samples, steps = samples / B
                ref, bs = reached[0].samples_to_target, [r.batch_size for r in line]
                ax_s.plot(bs, [ref] * len(bs), "k--", lw=1, label="perfect scaling (constant samples)")
                ax_t.plot(bs, [max(ref / b, 1) for b in bs], "k:", lw=1,
                          label="perfect scaling (steps = samples / batch, at least 1)")
            for r in line:
                seeds = per_seed(r)
                table.append([w, dev, r.batch_size, r.lr if r.samples_to_target is not None else None,
                              len(seeds["seed"]), r.samples_to_target, rng(seeds["samples_to_target"]),
                              r.steps_to_target, rng(seeds["steps_to_target"]), r.seconds_to_target])
        ax_s.set(title=f"{w}: samples to {rs[0].metric_name} {rs[0].target:g}", ylabel="samples to target")
        ax_t.set(title=f"{w}: steps to target", ylabel="steps to target")
        for ax in (ax_s, ax_t):
            log_axes(ax, "batch size (samples)")
    fig.suptitle("Samples and steps to target, each batch size at its own best learning rate")
    finish(fig, axes, best, path)
    return ["workload", "device", "batch size", "best lr", "seeds", "samples (median)", "samples range",
            "steps (median)", "steps range", "seconds (optimization, median seed)"], table


def rng(values: list) -> str:
    """'min–max' of per-seed values, 'not reached' for a seed that did not."""
    if len(values) < 2:
        return "one seed"
    fin = sorted(v for v in values if v is not None)
    text = f"{fin[0]:g}–{fin[-1]:g}" if fin else ""
    missed = len(values) - len(fin)
    return (text + (f", {missed} not reached" if missed else "")).strip(", ")


def log_axes(ax, xlabel: str) -> None:
    """Log-log axes with plain tick labels (no crowded 3x10^0 minor labels)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.set(xscale="log", yscale="log", xlabel=xlabel)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())
        axis.set_major_locator(LogLocator(base=10))
    ax.grid(True, which="both", alpha=0.3)


def critical_batch(rows, path: Path) -> Table | None:
    """Steps against samples to target at each batch size's best lr, the fitted hyperbola
    (S/S_min - 1)(E/E_min - 1) = 1, and the critical batch sizes B_crit (from the fit) and B_simple (from gradient
    noise) marked on it: at B = B_crit a run takes twice the minimal steps and twice the minimal samples."""
    from .summary import summarize

    found = [w for w in summarize(rows)["workloads"] if w["critical_batch"] and w["critical_batch"]["b_crit"]]
    if not found:
        return None
    fig, axes = panels(1, len(found), w=6.5)
    table = []
    for ax, w in zip(axes.flat, found):
        c = w["critical_batch"]
        pts = [(b["samples_to_target"]["median"], b["steps_to_target"]["median"], b["batch_size"])
               for b in w["batch_sizes"] if b["batch_size"] in c["batch_sizes"]]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", label="median over seeds at the best lr")
        for e, s, b in pts:
            ax.annotate(f"B={b}", (e, s), textcoords="offset points", xytext=(4, 4), fontsize=7)
        s_min, bc = c["s_min"], c["b_crit"]
        grid = [2.0 ** k for k in range(-2, 26)]
        ax.plot([s_min * (b + bc) for b in grid], [s_min * (1 + bc / b) for b in grid], "k-", lw=1,
                label="fit: S = S_min (1 + B_crit / B)")
        ax.plot([2 * s_min * bc], [2 * s_min], "r*", ms=14, label="B_crit (fit)")
        if w["b_simple"]:
            bs_ = w["b_simple"]
            ax.plot([s_min * (bs_ + bc)], [s_min * (1 + bc / bs_)], "bD", ms=8, label="B_simple (gradient noise)")
        interval = interval_text(c)
        shown = f" [{interval}]" if interval else ""
        ax.set(title=f"{w['workload']} ({w['device']}): B_crit {bc:.3g}{shown}, B_simple "
                     f"{w['b_simple'] or float('nan'):.3g}", ylabel="steps to target S")
        log_axes(ax, "samples to target E")
        xs = [p[0] for p in pts]
        ax.set_xlim(min(xs) / 3, max(xs) * 3)
        ys = [p[1] for p in pts]
        ax.set_ylim(max(min(ys) / 3, 0.5), max(ys) * 3)
        table.append([w["workload"], w["device"], bc, interval or "one seed", s_min, w["b_simple"],
                      (w["agreement"] or {}).get("ratio")])
    fig.suptitle("Critical batch size: steps-samples trade-off, gradient noise")
    finish(fig, axes, rows, path, ncol=2)
    return ["workload", "device", "B_crit (fit)", f"{int(100 * found[0]['critical_batch']['level'])} % interval",
            "S_min (steps)", "B_simple (mean to target, median over batch sizes)", "ratio of the two"], table


def final_loss(rows, path: Path) -> Table | None:
    """Final train loss and (where it is a different figure) the final test metric against batch size after a fixed
    sample budget: the median over seeds with bars for their range, each point labelled with its lr."""
    rows = [r for r in rows if r.kind == "final_loss"]
    if not rows:
        return None
    by_w = group(rows, "workload")
    fig, axes = panels(len(by_w), 2)
    table = []
    for (ax_l, ax_m), ((w,), rs) in zip(axes, by_w.items()):
        same = rs[0].metric_name == "train_loss"  # the metric is the train loss: one panel, not the same one twice
        for (dev,), line in group(rs, "device").items():
            line.sort(key=lambda r: r.batch_size)
            for ax, key in ((ax_l, "final_train_loss"), (ax_m, "final_test_metric"))[:1 if same else 2]:
                pts = [(r.batch_size, errorbars(per_seed(r)[key]), r.lr) for r in line]
                ok = [(b, e, lr) for b, e, lr in pts if e]
                if ok:
                    ax.errorbar([b for b, _, _ in ok], [e[0] for _, e, _ in ok], yerr=[[e[1] for _, e, _ in ok],
                                [e[2] for _, e, _ in ok]], marker="o", capsize=3,
                                label=f"{dev} median, bars: range over seeds")
                    for b, e, lr in ok:
                        ax.annotate(f"lr {lr:g}", (b, e[0]), textcoords="offset points", xytext=(3, 5), fontsize=7)
            table += [[w, dev, r.batch_size, r.lr, r.samples_seen, len(per_seed(r)["seed"]), r.final_train_loss,
                       rng(per_seed(r)["final_train_loss"]), r.final_test_metric] for r in line]
        ax_l.set(xscale="log", title=f"{w}: final train loss after {rs[0].samples_seen} samples",
                 xlabel="batch size (samples)", ylabel="train loss")
        ax_m.set(xscale="log", title=f"{w}: final {rs[0].metric_name}", xlabel="batch size (samples)",
                 ylabel=rs[0].metric_name)
        if same:
            ax_m.set_axis_off()
            ax_m.set_title(f"{w}: its metric is the train loss (left)", fontsize=9)
        for ax in (ax_l, ax_m):
            ax.grid(True, which="both", alpha=0.3)
            lo, hi = ax.get_ylim()
            if lo > 0 and hi / lo < 10:  # a linear axis from 0: a 2 % difference looks like one
                ax.set_ylim(0, hi * 1.05)
    fig.suptitle("Final loss and metric after a fixed sample budget (lr: the middle of the batch size's grid)")
    finish(fig, axes, rows, path)
    return ["workload", "device", "batch size", "lr", "samples", "seeds", "final train loss (median)",
            "range", "final metric (median)"], table


def size(r) -> int | str:
    """The batch size as a reader reads it: 'full' for the whole training set."""
    return "full" if r.batch_size == r.n else r.batch_size


def size_order(b) -> tuple:
    return b == "full", 0 if b == "full" else b


def curve_points(r) -> list[list[tuple]]:
    """Each seed's curve as (samples, seconds, metric) points (a row from before several seeds: its one curve);
    the 0-sample point is left out of these log-x charts rather than drawn at a made-up x."""
    seeds = r.info.get("over_seeds")
    raw = [[(p[0], p[2], p[3]) for p in c if isinstance(p, list) and len(p) == 4] for c in seeds["curves"]] \
        if isinstance(seeds, dict) and seeds.get("curves") else \
        [[tuple(number(p.get(k)) for k in ("samples", "seconds", "test_metric")) for p in r.curve if isinstance(p, dict)]]
    ok = lambda s, t, m: None not in (s, t, m) and s > 0 and t > 0 and (m > 0 or r.metric_name == "test_accuracy")  # noqa: E731
    return [pts for pts in ([p for p in c if ok(*p)] for c in raw) if pts]


def band(curves: list[list[tuple]], x: int) -> tuple:
    """(xs, median, low, high) of the metric over the seeds' curves at each x every curve still has."""
    xs = sorted(set.intersection(*[{p[x] for p in c} for c in curves])) if x == 0 else None
    if not xs:  # seconds differ between seeds: the median seed's curve only
        c = curves[len(curves) // 2]
        return [p[x] for p in c], [p[2] for p in c], None, None
    at = [{p[0]: p[2] for p in c} for c in curves]
    vals = [[a[s] for a in at] for s in xs]
    return xs, [statistics.median(v) for v in vals], [min(v) for v in vals], [max(v) for v in vals]


def curves(rows, path: Path) -> Table | None:
    """Test metric against samples seen (median over seeds, band: their range) and against seconds (the median
    seed), for the best lr of each batch size; markers at the evaluations."""
    best = [r for r in best_runs(rows) if curve_points(r)]
    if not best:
        return None
    by_w = group(best, "workload")
    fig, axes = panels(len(by_w), 2)
    table = []
    colours = {b: f"C{i}" for i, b in enumerate(sorted({size(r) for r in best}, key=size_order))}
    for (ax_n, ax_t), ((w,), rs) in zip(axes, by_w.items()):
        for r in sorted(rs, key=lambda r: (r.device, r.batch_size)):
            cs = curve_points(r)
            label = f"{w}, {r.device}, bs {size(r)} (lr {r.lr:.3g})"
            xs, med, lo, hi = band(cs, 0)
            ax_n.plot(xs, med, marker=".", ms=3, color=colours[size(r)], label=label)
            if lo is not None and len(cs) > 1:
                ax_n.fill_between(xs, lo, hi, color=colours[size(r)], alpha=0.2)
            mid = cs[len(cs) // 2]
            ax_t.plot([p[1] for p in mid], [p[2] for p in mid], marker=".", ms=3, color=colours[size(r)],
                      label=label)
            table.append([w, r.device, r.batch_size, r.lr, len(cs), len(xs), med[-1]])
        metric = rs[0].metric_name
        ax_n.set(xscale="log", title=f"{w}: {metric} against samples", xlabel="samples seen", ylabel=metric)
        ax_t.set(xscale="log", title=f"{w}: {metric} against time", xlabel="optimization time (s)", ylabel=metric)
        for ax in (ax_n, ax_t):
            if rs[0].metric_name != "test_accuracy":
                ax.set_yscale("log")
            ax.axhline(rs[0].target, color="k", ls="--", lw=1, label="target")
            ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Convergence at each batch size's best learning rate (band: range over seeds)")
    finish(fig, axes, best, path, ncol=4)
    return ["workload", "device", "batch size", "lr", "seeds", "points", "last metric (median)"], table
