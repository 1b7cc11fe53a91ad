"""`gdcore report` and `gdcore compare` on small fixture files, including the bad inputs users will feed them."""
import json

import pytest
from PIL import Image

from fakes import edited, write
from gdcore.cli import main

CHARTS = {"epoch_time.png": (500, 480), "samples_to_target.png": (1000, 480), "final_loss.png": (1000, 480),
          "curves.png": (1000, 480), "speedups.png": (500, 480)}  # one workload: figure inches x 100 dpi


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
    assert "| synth-regression | cpu | 64 | 0.01 | 2640 | 41 |" in md  # best lr of batch 64: samples and steps
    assert str(src) in md and "hardware.png" not in md


def test_hardware_comparison_shows_speedups_over_the_first_machine(tmp_path):
    write(tmp_path / "laptop.json", cpu="Laptop CPU")
    write(tmp_path / "server.json", cpu="Server CPU", time_scale=0.5)
    assert main(["report", str(tmp_path / "laptop.json"), str(tmp_path / "server.json"), "--out", str(tmp_path / "o")]) == 0
    md = (tmp_path / "o" / "report.md").read_text()
    assert "## Hardware comparison" in md and "speedup Server CPU (cpu)" in md
    assert "| 2 |" in md  # every case is twice as fast on the server
    with Image.open(tmp_path / "o" / "hardware.png") as im:
        assert im.format == "PNG"


def test_compare_passes_an_unchanged_run(tmp_path, capsys):
    a = write(tmp_path / "a.json")
    b = write(tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--fail-on", "median:10%,samples_to_target:15%,final_train_loss:5%"]) == 0
    assert "no regression" in capsys.readouterr().out


def test_compare_flags_a_20_percent_slowdown(tmp_path, capsys):
    a, b = write(tmp_path / "a.json"), write(tmp_path / "b.json", time_scale=1.2)
    assert main(["compare", str(a), str(b), "--fail-on", "median:10%"]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "median worse by 20.0%" in out
    assert main(["compare", str(a), str(b), "--fail-on", "median:25%"]) == 0


def test_compare_flags_a_rise_in_samples_to_target_that_times_miss(tmp_path, capsys):
    a, b = write(tmp_path / "a.json"), write(tmp_path / "b.json", samples_scale=1.3)
    assert main(["compare", str(a), str(b), "--fail-on", "median:10%"]) == 0
    assert main(["compare", str(a), str(b), "--fail-on", "samples_to_target:15%"]) == 1
    assert "samples_to_target worse by 30.0%" in capsys.readouterr().out


def test_compare_lists_one_sided_cases_without_failing(tmp_path, capsys):
    a = write(tmp_path / "a.json")
    b = edited(a, tmp_path / "b.json", lambda d: d["benchmarks"].pop(0) and None)
    assert main(["compare", str(a), str(b), "--fail-on", "median:10%"]) == 0
    assert "only in BASE (1): test_epoch_time[synth-regression-cpu-dataloader-autograd-bs1]" in capsys.readouterr().out


def test_compare_finds_autosave_numbers(tmp_path, monkeypatch, capsys):
    write(tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit" / "0001_abc_20261121.json")
    write(tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit" / "0002_def_20261121.json", time_scale=1.5)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "0001", "0002", "--fail-on", "median:10%"]) == 1
    assert main(["compare", "0001", "0007"]) == 2
    assert "no autosaved run 0007" in capsys.readouterr().err


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


def test_compare_rejects_a_bad_spec(tmp_path, capsys):
    a = write(tmp_path / "a.json")
    assert main(["compare", str(a), str(a), "--fail-on", "speed:fast"]) == 2
    assert "invalid --fail-on item 'speed:fast'" in capsys.readouterr().err
