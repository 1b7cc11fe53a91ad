"""Charts that compare: what each step and feed gains over the plain ones (speedups), one machine against another
(a speedup heatmap), and one machine over time (a series of runs). Same conventions as gdcore.charts."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .charts import Table, finish, group, line_style, panels, positive, ratio_text, size, size_order, timed

import matplotlib.dates  # noqa: E402  (after gdcore.charts, which selects the Agg backend)
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .feeds import FEEDS  # noqa: E402
from .steps import STEPS  # noqa: E402


def comparisons(dev: str) -> list[tuple]:
    """(panel row, label, base (feed, step), new (feed, step)) for every pair the registries allow: each step over
    autograd on the same feed, each feed over dataloader with the same step; fused is a step like any other."""
    said = lambda x, y: f"{dev} {x} over {y}: {y}'s s/epoch ÷ {x}'s, above 1 = {x} faster"  # noqa: E731
    steps = [(0, f"{said(step, 'autograd')} ({feed} feed)", (feed, "autograd"), (feed, step))
             for feed in FEEDS for step in STEPS if step != "autograd"]
    feeds = [(1, f"{said(feed, 'dataloader')} ({step} step)", ("dataloader", step), (feed, step))
             for step in STEPS for feed in FEEDS if feed != "dataloader"]
    return steps + feeds


def speedups(rows, path: Path) -> Table | None:
    """What the step and the data feed cost, per batch size: the base's seconds per epoch divided by the other's, so
    above 1 the other is faster. Top row: each step over autograd on the same feed; bottom row: each feed over
    dataloader with the same step. The colour is the step's and the line style the feed's, as in every chart."""
    rows = timed(rows)
    if not rows:
        return None
    t = {(r.workload, r.device, r.feed, r.step, r.batch_size): r.median for r in rows}
    lines = []  # (panel row, workload, label, style, [(batch size, base s, new s)])
    for (w,), rs in group(rows, "workload").items():
        sizes = sorted({r.batch_size for r in rs})
        for dev in sorted({r.device for r in rs}):
            for kind, label, base, new in comparisons(dev):
                pts = [(b, t[(w, dev, *base, b)], t[(w, dev, *new, b)]) for b in sizes
                       if (w, dev, *base, b) in t and (w, dev, *new, b) in t]
                if pts:
                    lines.append((kind, w, label, line_style(new[1], new[0], dev), pts))
    if not lines:
        return None
    kinds, ws = sorted({line[0] for line in lines}), list(group(rows, "workload"))
    fig, axes = panels(len(kinds), len(ws), w=max(5.0, 7.0 / len(ws)))  # one workload: room for the long labels
    what = ("each step over autograd, same feed", "each feed over dataloader, same step")
    for kind, w, label, style, pts in lines:
        ax = axes[kinds.index(kind), ws.index((w,))]
        ax.semilogx([b for b, _, _ in pts], [base / new for _, base, new in pts], label=label, **style)
    for (i, j), ax in np.ndenumerate(axes):
        ax.set_title(f"{ws[j][0]}: {what[kinds[i]]}{'' if ax.get_lines() else ': no pair ran'}", fontsize=10)
        if not ax.get_lines():
            ax.set_axis_off()
            continue
        ax.axhline(1, color="k", lw=0.8)
        ax.set(yscale="log", xlabel="batch size (samples)", ylabel="speedup (x), above 1 = faster than the base")
        lo, hi = ax.get_ylim()
        subs = (1, 2, 5) if hi / lo > 20 else (1, 1.5, 2, 3, 5, 7) if hi / lo > 3 else (1, 1.2, 1.5, 2, 3, 4, 5, 6, 8)
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=subs))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: ratio_text(v)))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Speedup of each step and each data feed over the plain way")
    finish(fig, axes, rows, path, ncol=max(1, min(2, int(fig.get_figwidth() // 6.5))))  # long labels: 6.5 in each
    return ["workload", "comparison", "batch size", "base s/epoch", "s/epoch", "speedup (x)"], \
        [[w, label, b, base, new, base / new] for _, w, label, _, pts in lines for b, base, new in pts]


def hardware_name(r) -> str:
    return f"{r.machine} ({r.device})"


def way(r) -> str:
    """How a case was run, as a heatmap row reads it: 'step (feed)', and the world size when above 1."""
    ranks = f" K{r.world_size}" if r.world_size > 1 else ""
    return f"{r.step} ({r.feed}){ranks}{'' if r.config.get('allreduce', True) else ' no all-reduce'}"


def way_order(r) -> tuple:
    """Steps and feeds in registry order, then world size: the same row order in every panel."""
    rank = lambda names, x: names.index(x) if x in names else len(names)  # noqa: E731
    return rank(list(STEPS), r.step), rank(list(FEEDS), r.feed), r.world_size, way(r)


def hardware_cases(rows) -> tuple[list[str], dict]:
    """(every machine x device, first seen first; {case: {machine x device: s/epoch}}), a case being like for like:
    workload, training-set size, lr, way of running it and batch size. A machine's newest run wins (--all-runs)."""
    rows = [r for r in rows if r.kind == "epoch_time" and positive(r.median)]
    cases: dict[tuple, dict] = defaultdict(dict)
    for r in sorted(rows, key=lambda r: (r.when, r.file)):
        cases[(r.workload, r.n, r.lr, way_order(r), r.batch_size)][hardware_name(r)] = r.median
    return list(dict.fromkeys(hardware_name(r) for r in rows)), cases


def unpaired(rows) -> Table | None:
    """The epoch-time cases the hardware comparison leaves out: run on one machine x device, or not on the first."""
    hw, cases = hardware_cases(rows)
    table = [[w, n, lr, o[-1], b, ", ".join(v)] for (w, n, lr, o, b), v in sorted(cases.items())
             if len(v) < 2 or hw[0] not in v]
    if len(hw) < 2 or not table:
        return None
    return ["workload", "n", "lr", "way of running it", "batch size", "ran only on"], table


MAX_WIDTH = 23.0  # inches: the hardware figure stays under 2400 px at DPI


def heatmap(ax, cells: dict, norm, cmap) -> None:
    """One panel: rows the ways of running a workload, columns its batch sizes ('full' last), each cell its ratio."""
    ys = sorted({(o, lr) for o, lr, _ in cells})
    several = {o for o, _ in ys if sum(o == o2 for o2, _ in ys) > 1}  # the lr is named only where a way ran at two
    xs = sorted({b for _, _, b in cells}, key=size_order)
    data = np.full((len(ys), len(xs)), np.nan)
    for (o, lr, b), v in cells.items():
        data[ys.index((o, lr)), xs.index(b)] = np.nan if v is None else v
    ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(len(xs)), [str(b) for b in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [o[-1] + (f", lr {lr:g}" if o in several else "") for o, lr in ys], fontsize=7)
    ax.set_xlabel("batch size (samples)")
    far = np.log(norm.vmax) * 0.55
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ax.text(j, i, ratio_text(v), ha="center", va="center", fontsize=7,
                    color="white" if abs(np.log(v)) > far else "black")


def ratio(v: dict, a: str, b: str) -> float | None:
    """s/epoch on `a` ÷ s/epoch on `b` for one case, None when either did not run it."""
    return v[a] / v[b] if a in v and b in v else None


def hardware(rows, path: Path) -> Table | None:
    """A speedup heatmap per workload (and per other machine x device when there are several): rows the way of
    running it, columns the batch size, each cell the first machine's s/epoch ÷ the other's, on a diverging log
    colour scale centred on 1; blank where a case has no partner. Returns every compared case's figures."""
    from matplotlib.colors import LogNorm

    hw, cases = hardware_cases(rows)
    common = {k: v for k, v in cases.items() if len(v) >= 2 and hw[0] in v}
    if len(hw) < 2 or not common:
        return None
    pairs = [(h, wn) for h in hw[1:] for wn in sorted({k[:2] for k, v in common.items() if h in v})]
    paired = {(h, w, n, lr, o) for (w, n, lr, o, _), v in common.items() for h in v}  # a way with a partner somewhere
    cells = {(h, wn): {(o, lr, "full" if b == n else b): ratio(v, hw[0], h)
                       for (w, n, lr, o, b), v in cases.items() if (w, n) == wn and (h, w, n, lr, o) in paired}
             for h, wn in pairs}
    m = max([2.0] + [max(x, 1 / x) for c in cells.values() for x in c.values() if x])
    norm, cmap = LogNorm(1 / m, m), plt.get_cmap("RdBu")
    label_w = 0.3 + 0.065 * max(len(o[-1]) + 9 for c in cells.values() for o, _, _ in c)
    pw = min(MAX_WIDTH, label_w + 0.55 * max(len({b for _, _, b in c}) for c in cells.values()) + 0.4)
    per_row = max(1, min(len(pairs), int(MAX_WIDTH // pw)))
    fig, axes = panels(-(-len(pairs) // per_row), per_row, w=pw,
                       h=1.4 + 0.3 * max(len({(o, lr) for o, lr, _ in c}) for c in cells.values()))
    sizes = defaultdict(set)  # a workload run on several training-set sizes names n in its titles
    for w, n in {k[:2] for k in cases}:
        sizes[w].add(n)
    for ax, (h, (w, n)) in zip(axes.flat, pairs):
        heatmap(ax, cells[(h, (w, n))], norm, cmap)
        ax.set_title(f"{w}{f' (n={n})' if len(sizes[w]) > 1 else ''}{f' vs {h}' if len(hw) > 2 else ''}", fontsize=10)
    for ax in list(axes.flat)[len(pairs):]:
        ax.set_axis_off()
    who = "each other machine" if len(hw) > 2 else hw[1]
    label = (f"s/epoch on {hw[0]} ÷ s/epoch on {who} (log scale)\nabove 1 (blue): {who} is faster; below 1 (red): "
             f"{hw[0]} is faster; blank: not run alike on both (listed with the tables)")
    fig.set_figwidth(min(MAX_WIDTH, max(fig.get_figwidth(), 0.07 * max(map(len, label.splitlines())))))  # the words fit
    fig.suptitle(f"Hardware comparison: s/epoch on {hw[0]} ÷ s/epoch on {who}")
    finish(fig, axes, [r for r in rows if r.kind == "epoch_time"], path, colorbar=(norm, cmap, label))
    header = ["workload", "n", "lr", "way of running it", "batch size", *[f"s/epoch {h}" for h in hw],
              *[f"speedup {h} (above 1 = faster)" for h in hw[1:]]]
    return header, [[w, n, lr, o[-1], b, *[v.get(h) for h in hw], *[ratio(v, hw[0], h) for h in hw[1:]]]
                    for (w, n, lr, o, b), v in sorted(common.items())]


def run_time(r):
    """The row's run date (pytest-benchmark's "datetime") as a datetime, None when the file has none or another form."""
    from datetime import datetime, timezone

    try:
        t = datetime.fromisoformat(r.when)
    except (TypeError, ValueError):
        return None
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t  # one axis for every file


def headline(rs) -> str:
    """The step a case's series follows: fused where it ran, else gdcore's fastest (a peer's or the C loop's only
    when none of gdcore's ran) in the case's newest run."""
    if any(r.step == "fused" for r in rs):
        return "fused"
    newest = max(r.when for r in rs)
    own = lambda r: STEPS[r.step].family == "gdcore" if r.step in STEPS else False  # noqa: E731
    return min((r for r in rs if r.when == newest), key=lambda r: (not own(r), r.median)).step


def epoch_time_series(rows, path: Path) -> Table | None:
    """Seconds per epoch of the headline cases (preloaded feed; fused, else the fastest step) against the date of
    each run, one panel per workload, one line per batch size (a colour each, as in the curves chart), a marker at
    each run. Drawn only when a machine has several runs (`gdcore report --all-runs`)."""
    rows = [r for r in timed(rows) if r.feed == "preloaded" and run_time(r)]
    if all(len({(r.when, r.file) for r in rs}) < 2 for rs in group(rows, "machine").values()):
        return None
    by_w = group(rows, "workload")
    fig, axes = panels(1, len(by_w), w=6.0)
    colours = {b: f"C{i}" for i, b in enumerate(sorted({size(r) for r in rows}, key=size_order))}
    table = []
    for ax, ((w,), rs) in zip(axes.flat, by_w.items()):
        several = len({(r.machine, r.device) for r in rs}) > 1
        for (m, dev, n, b), case in sorted(group(rs, "machine", "device", "n", "batch_size").items(),
                                           key=lambda kv: (kv[0][:3], size_order(size(kv[1][0])))):
            step = headline(case)
            line = sorted((r for r in case if r.step == step), key=lambda r: (run_time(r), r.file))
            where = f", {m} ({dev})" if several else ""
            ax.plot([run_time(r) for r in line], [r.median for r in line], color=colours[size(line[0])],
                    marker=line_style(step, "preloaded", dev)["marker"], ms=5,
                    label=f"{w}, bs {size(line[0])} ({step}){where}")
            table += [[w, dev, size(r), step, r.when, r.file, r.median] for r in line]
        ax.set(yscale="log", title=w, xlabel="run date (UTC)", ylabel="seconds per epoch (s, median)")
        ax.xaxis.set_major_formatter(matplotlib.dates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Seconds per epoch of the headline cases over runs (preloaded feed; fused, else the fastest step)")
    finish(fig, axes, rows, path, ncol=3)
    return ["workload", "device", "batch size", "step", "run", "source", "s/epoch (median)"], table
