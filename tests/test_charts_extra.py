"""The comparison charts: the hardware speedup heatmap, the speedups of steps and feeds, and the series over runs."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from fakes import edited, write
from gdcore import charts_compare
from gdcore.cli import main
from gdcore.results import load

ROOT = Path(__file__).resolve().parents[1]
REAL = [ROOT / "results" / "cpu-default.json", ROOT.parent / "shared" / "results" / "cpu-default-amd-epyc.json"]


@pytest.fixture
def figures(monkeypatch):
    """The figures the charts close, kept open for the test to read."""
    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    yield kept
    plt.close("all")


def timed_as(b) -> tuple | None:
    """(feed, step, batch size) of an epoch-time benchmark in a fixture document, None for the other kinds."""
    e = b["extra_info"]
    return (e["feed"], e["step"], e["batch_size"]) if b["group"] == "epoch_time" else None


def with_fused(doc):
    """A copy of every closed-form epoch-time benchmark as a fused one, ten times faster."""
    doc["benchmarks"] += [{**b, "name": b["name"].replace("closed-form", "fused"),
                           "extra_info": {**b["extra_info"], "step": "fused"},
                           "stats": {k: v / 10 if k != "rounds" else v for k, v in b["stats"].items()}}
                          for b in doc["benchmarks"] if timed_as(b) and timed_as(b)[1] == "closed-form"]


def median(rows, feed, step, bs) -> float:
    (r,) = [r for r in rows if r.kind == "epoch_time" and (r.feed, r.step, r.batch_size) == (feed, step, bs)]
    return r.median


def cell(ax, row: str, col: str) -> float:
    """The value a heatmap panel draws at a row and column, found by their tick labels."""
    i = [t.get_text() for t in ax.get_yticklabels()].index(row)
    j = [t.get_text() for t in ax.get_xticklabels()].index(col)
    v = ax.images[0].get_array()[i, j]
    return math.nan if v is np.ma.masked else float(v)


def test_hardware_heatmap_cells_are_first_over_other_and_the_figure_stays_narrow(tmp_path, figures):
    a = write(tmp_path / "a.json", cpu="Laptop CPU")

    def server(doc):  # one case four times faster, one case never run on the server
        for b in doc["benchmarks"]:
            if timed_as(b) == ("preloaded", "closed-form", 64):
                b["stats"]["median"] /= 4
        doc["benchmarks"] = [b for b in doc["benchmarks"] if timed_as(b) != ("dataloader", "optim", 1)]
    b = edited(write(tmp_path / "b.json", cpu="Server CPU", time_scale=0.5), tmp_path / "b.json", server)
    rows_a, rows_b = load([str(a)]), load([str(b)])
    png = tmp_path / "hw.png"
    header, table = charts_compare.hardware(rows_a + rows_b, png)
    with Image.open(png) as im:
        assert im.size[0] <= 2400
    (fig,) = figures
    (ax,) = [ax for ax in fig.axes if ax.images]
    expected = median(rows_a, "preloaded", "closed-form", 64) / median(rows_b, "preloaded", "closed-form", 64)
    assert cell(ax, "closed-form (preloaded)", "64") == pytest.approx(expected) and expected == pytest.approx(8)
    assert cell(ax, "autograd (preloaded)", "full") == pytest.approx(2)  # batch n is labelled "full", last
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "64", "full"]
    assert math.isnan(cell(ax, "optim (dataloader)", "1"))  # no partner: a blank cell ...
    assert "8x" in [t.get_text() for t in ax.texts]
    assert ["synth-regression", 1000, 0.03, "optim (dataloader)", 1, "Laptop CPU (cpu)"] in charts_compare.unpaired(
        rows_a + rows_b)[1]  # ... listed with the tables
    assert len(table) == 17 and "above 1 (blue): Server CPU (cpu) is faster" in fig.axes[-1].get_xlabel()


@pytest.mark.skipif(not all(p.exists() for p in REAL), reason="results/cpu-default.json or ../shared's run is missing")
def test_hardware_heatmap_of_the_two_real_runs_is_readable(tmp_path, figures):
    rows = []
    for path in REAL:  # both files name the same CPU model ("AMD EPYC"): tell them apart by file for this comparison
        for r in load([str(path)]):
            r.machine = f"{r.machine} [{path.name}]"
            rows.append(r)
    png = tmp_path / "hw.png"
    header, table = charts_compare.hardware(rows, png)
    with Image.open(png) as im:
        assert im.size[0] <= 2400 and im.size[1] <= 2400
    assert len(table) >= 50 and charts_compare.unpaired(rows) is not None
    assert {ax.get_title() for ax in figures[0].axes if ax.images} == {"airfoil-linreg", "mnist-logreg",
                                                                      "synth-regression"}


def test_speedups_draw_fused_and_each_value_is_base_over_new(tmp_path, figures):
    rows = load([str(edited(write(tmp_path / "a.json"), tmp_path / "f.json", with_fused))])
    assert charts_compare.speedups(rows, tmp_path / "s.png") is not None
    (fig,) = figures
    lines = {ln.get_label(): ln for ax in fig.axes for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    label = "cpu fused over autograd: autograd's s/epoch ÷ fused's, above 1 = fused faster (preloaded feed)"
    fused = lines[label]
    assert list(fused.get_xdata()) == [1, 64, 1000]
    for bs, y in zip(fused.get_xdata(), fused.get_ydata()):
        assert y == pytest.approx(median(rows, "preloaded", "autograd", bs) / median(rows, "preloaded", "fused", bs))
    feed = lines["cpu preloaded over dataloader: dataloader's s/epoch ÷ preloaded's, above 1 = preloaded faster "
                 "(closed-form step)"]
    base_over_new = median(rows, "dataloader", "closed-form", 1) / median(rows, "preloaded", "closed-form", 1)
    assert feed.get_ydata()[0] == pytest.approx(base_over_new) and base_over_new > 1
    legend = {t.get_text(): h for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles)}
    for name, line in lines.items():  # the legend below the panels is true for every line
        h = legend[name]
        assert (h.get_color(), h.get_linestyle(), h.get_marker()) == (line.get_color(), line.get_linestyle(),
                                                                      line.get_marker()), name


OLD, NEW = "2026-01-01T00:00:00+00:00", "2026-02-01T12:00:00+00:00"


def two_runs(tmp_path, fused=False) -> Path:
    """Two runs of one machine a month apart, the older twice as slow."""
    runs = tmp_path / "runs"
    for name, when, scale in (("old.json", OLD, 2.0), ("new.json", NEW, 1.0)):
        def dated(doc, when=when):
            doc["datetime"] = when
            if fused:
                with_fused(doc)
        src = write(runs / name, time_scale=scale)
        edited(src, src, dated)
    return runs


def test_epoch_time_series_draws_each_headline_case_over_the_runs(tmp_path, figures):
    runs = two_runs(tmp_path, fused=True)
    rows = load([str(runs)])
    header, table = charts_compare.epoch_time_series(rows, tmp_path / "series.png")
    assert (tmp_path / "series.png").exists()
    (fig,) = figures
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert sorted(line.get_label() for line in lines) == [
        "synth-regression, bs 1 (fused)", "synth-regression, bs 64 (fused)", "synth-regression, bs full (fused)"]
    for line in lines:
        assert len(line.get_xdata()) == 2 and line.get_marker() not in (None, "None", "")
        old, new = line.get_ydata()
        assert old == pytest.approx(2 * new)  # the old run was twice as slow
    assert {row[4] for row in table} == {OLD, NEW}
    assert charts_compare.epoch_time_series([r for r in rows if r.file.endswith("new.json")], tmp_path / "one.png") is None


def test_report_with_all_runs_links_the_series_and_without_it_does_not(tmp_path, capsys):
    runs = two_runs(tmp_path)
    assert main(["report", str(runs), "--all-runs", "--out", str(tmp_path / "all")]) == 0
    md = (tmp_path / "all" / "report.md").read_text()
    assert "](epoch_time_series.png)" in md and "| synth-regression | cpu | full | closed-form |" in md
    assert (tmp_path / "all" / "epoch_time_series.png").exists()
    assert main(["report", str(runs), "--out", str(tmp_path / "latest")]) == 0
    assert "epoch_time_series" not in (tmp_path / "latest" / "report.md").read_text()
