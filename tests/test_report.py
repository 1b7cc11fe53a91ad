"""`gdcore report` on small fixture files, including the bad inputs users will feed them."""
import json

import pytest
from PIL import Image

from fakes import edited, write
from gdcore.cli import main

CHARTS = {"epoch_time.png": (500, 480), "samples_to_target.png": (1000, 480), "final_loss.png": (1000, 480),
          "curves.png": (1000, 480), "speedups.png": (700, 860)}  # one workload (speedups: steps, feeds): inches x 100 dpi


def test_report_draws_every_chart_and_its_tables(tmp_path, capsys):
    src = write(tmp_path / "runs" / "a.json")
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    for name, size in CHARTS.items():
        with Image.open(tmp_path / "out" / name) as im:
            assert im.format == "PNG" and im.size == size, name
    md = (tmp_path / "out" / "report.md").read_text()
    for name in CHARTS:
        assert f"]({name})" in md
    assert "| workload | device | feed | step | batch size | s/epoch (median) |" in md
    assert "| synth-regression | cpu | 64 | 0.01 | 1 | 2640 | one seed | 41 | one seed |" in md  # best lr of bs 64
    assert md.index("## Summary") < md.index("![")  # the summary comes before the charts
    assert str(src) in md and "hardware.png" not in md


def test_each_machine_is_reported_from_its_newest_run_unless_all_runs(tmp_path, capsys):
    for name, when, scale in (("old.json", "2026-01-01T00:00:00", 3.0), ("new.json", "2026-02-01T00:00:00", 1.0)):
        edited(write(tmp_path / "runs" / name, time_scale=scale), tmp_path / "runs" / name,
               lambda d, w=when: d.update(datetime=w))
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    md = (tmp_path / "o" / "report.md").read_text()
    assert "new.json" in md and "old.json" not in md and "left out 1 older" in err and "old.json" in err
    assert main(["report", str(tmp_path / "runs"), "--all-runs", "--out", str(tmp_path / "o")]) == 0
    assert "old.json" in (tmp_path / "o" / "report.md").read_text()


def test_hardware_comparison_shows_speedups_over_the_first_machine(tmp_path):
    write(tmp_path / "laptop.json", cpu="Laptop CPU")
    write(tmp_path / "server.json", cpu="Server CPU", time_scale=0.5)
    assert main(["report", str(tmp_path / "laptop.json"), str(tmp_path / "server.json"), "--out", str(tmp_path / "o")]) == 0
    md = (tmp_path / "o" / "report.md").read_text()
    assert "## Hardware comparison" in md and "speedup Server CPU (cpu)" in md
    assert "| 2 |" in md  # every case is twice as fast on the server
    with Image.open(tmp_path / "o" / "hardware.png") as im:
        assert im.format == "PNG"


@pytest.mark.parametrize("content,expect", [
    ('{"hello": 1}', "not a pytest-benchmark JSON file"),
    ('{"machine_info": {}, "benchmarks": [{"name": "x"', "not valid JSON, perhaps truncated"),
    ('{"machine_info": {}, "benchmarks": [{"name": "t", "stats": {"median": 1}, "extra_info": {}}]}',
     "no benchmark holds a valid gdcore record"),
])
def test_bad_files_are_named_and_the_rest_still_used(tmp_path, capsys, content, expect):
    good = write(tmp_path / "in" / "good.json")
    (tmp_path / "in" / "bad.json").write_text(content)
    assert main(["report", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    line = [l for l in err.splitlines() if "bad.json" in l]
    assert len(line) == 1 and expect in line[0] and "Traceback" not in err
    assert str(good) in (tmp_path / "out" / "report.md").read_text()
    assert main(["report", str(tmp_path / "in" / "bad.json"), "--out", str(tmp_path / "o2")]) == 2


def test_empty_folder_is_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("gdcore: error: no usable gdcore benchmark JSON in") and len(err) == 1


def test_older_files_missing_newer_fields_still_report(tmp_path, capsys):
    """A schema-1 file (impl/path, no schema_version, no best_lr, curves or profile) next to a newer one, and a
    benchmark lacking core fields."""
    new = write(tmp_path / "new.json")

    def strip(doc):
        for b in doc["benchmarks"]:
            e = b["extra_info"]
            for k in ("best_lr", "curve", "profile", "threads", "schema_version"):
                e.pop(k, None)
            e["impl"], e["path"] = e.pop("step"), e.pop("feed")
        doc["benchmarks"][0]["extra_info"].pop("kind")
    old = edited(new, tmp_path / "old.json", strip)
    assert main(["report", str(old), str(new), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert f"{old}: skipped 1 benchmark(s) that fail the record schema" in err
    assert (tmp_path / "o" / "samples_to_target.png").exists()


def test_every_line_matches_its_legend_entry(tmp_path, monkeypatch):
    """One colour per step and one line style per feed in every panel: the shared legend is true for every line."""
    import matplotlib.pyplot as plt

    from gdcore import charts
    from gdcore.results import load

    src = write(tmp_path / "a.json")
    rows = load([str(src)])
    def airfoil(doc):  # a second panel that lacks a step, as synth-regression lacks fused
        for b in doc["benchmarks"]:
            if b["extra_info"]["step"] != "optim":
                b["extra_info"]["workload"] = "airfoil-linreg"

    rows += [r for r in load([str(edited(src, tmp_path / "b.json", airfoil))]) if r.workload == "airfoil-linreg"]
    figs = []
    monkeypatch.setattr(plt, "close", lambda fig=None: figs.append(fig))
    assert charts.epoch_time(rows, tmp_path / "e.png") is not None
    (fig,) = figs
    legend = {t.get_text(): h for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles)}
    drawn = [line for ax in fig.axes for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len({ax for ax in fig.axes if ax.get_lines()}) == 2 and drawn
    for line in drawn:
        h = legend[line.get_label()]  # every line drawn has its entry ...
        assert (h.get_color(), h.get_linestyle(), h.get_marker()) == \
            (line.get_color(), line.get_linestyle(), line.get_marker()), line.get_label()  # ... and looks like it
    plt.close("all")


def test_hardware_comparison_matches_only_like_for_like(tmp_path):
    """A run on a slice of the data is not compared with a run on the whole set ("speedup 18" from 2000 vs 60000)."""
    write(tmp_path / "laptop.json", cpu="Laptop CPU")
    edited(write(tmp_path / "s.json", cpu="Server CPU", time_scale=0.05), tmp_path / "s.json",
           lambda d: [b["extra_info"].update(n=100) for b in d["benchmarks"]] and None)
    assert main(["report", str(tmp_path / "laptop.json"), str(tmp_path / "s.json"), "--out", str(tmp_path / "o")]) == 0
    md = (tmp_path / "o" / "report.md").read_text()
    assert "## Hardware comparison" not in md and not (tmp_path / "o" / "hardware.png").exists()
