"""Progress bars of `gdcore run`, `seeds` and `report`: on stderr only, never on stdout, silent with --quiet, absent
for short work, and drawn by the command, not by library calls. TQDM_DELAY=0 draws a bar at once, so tiny work
shows one here."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import gdcore.seeds as seeds
from fakes import write
from gdcore import RunConfig, run
from gdcore.cli import main
from gdcore.seeds.common import DETERMINISTIC, Row

TOY = ["run", "--workload", "toy-linear", "--epochs", "20", "--device", "cpu"]  # 60 samples, an evaluation per epoch


@pytest.fixture
def at_once(monkeypatch):
    monkeypatch.setenv("TQDM_DELAY", "0")


def gdcore(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The command in a subprocess, its output decoded as written (text=True turns carriage returns into newlines)."""
    done = subprocess.run([sys.executable, "-m", "gdcore", *args], capture_output=True, timeout=120,
                          env={**os.environ, **env})
    done.stdout, done.stderr = done.stdout.decode(), done.stderr.decode()
    return done


def one_record(out: str) -> dict:
    assert out.endswith("\n") and out.count("\n") == 1, out
    return json.loads(out)


def test_run_bar_goes_to_stderr_and_stdout_holds_one_record():
    done = gdcore(*TOY, TQDM_DELAY="0")
    assert done.returncode == 0, done.stderr
    record = one_record(done.stdout)
    assert record["samples_seen"] == 60 and "\r" not in done.stdout
    final = done.stderr.split("\r")[-1]  # the bar's last state, which stays on screen
    assert final.startswith("toy-linear batch 3: 100%") and "60.0/60.0" in final and final.endswith("\n"), final
    assert f"train_loss {record['final_train_loss']:.4g}" in final  # the latest metric, in the postfix


def test_world_size_two_draws_rank_0s_bar_only():
    done = gdcore(*TOY, "--batch-size", "2", "--world-size", "2", "--threads", "1", TQDM_DELAY="0")
    assert done.returncode == 0, done.stderr
    one_record(done.stdout)
    assert done.stderr.count("\n") == 1 and done.stderr.split("\r")[-1].startswith("toy-linear batch 2: 100%")


def test_quiet_silences_the_bar(at_once, capsys):
    assert main([*TOY, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and one_record(out)["samples_seen"] == 60


def test_short_work_draws_no_bar(monkeypatch, capsys):
    monkeypatch.delenv("TQDM_DELAY", raising=False)  # the default: a bar only once the work has taken 2 s
    assert main(TOY) == 0
    out, err = capsys.readouterr()
    assert err == "" and one_record(out)


def test_library_calls_draw_no_bar(at_once, capsys):
    run(RunConfig(workload="toy-linear", epochs=20, device="cpu"))
    assert capsys.readouterr().err == ""


def test_a_bad_delay_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("TQDM_DELAY", "soon")
    assert main(TOY) == 2
    assert capsys.readouterr().err == "gdcore: error: invalid TQDM_DELAY 'soon'; allowed: a number of seconds >= 0\n"


@pytest.mark.parametrize("quiet", [False, True])
def test_report_bar_over_the_files(at_once, capsys, tmp_path, quiet):
    for i in range(3):
        write(tmp_path / "in" / f"{i}.json")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "in"), "--all-runs", "--out", str(out), *["--quiet"] * quiet]) == 0
    stdout, err = capsys.readouterr()
    assert stdout == "" and err.endswith(f"wrote {out / 'report.md'} and its charts\n")
    bar = err.split("\n")[0].split("\r")[-1]
    assert bar.startswith("reading: 100%") and "3/3" in bar if not quiet else err.count("\n") == 1, err


def fake_experiment(ctx):
    run(RunConfig(workload="toy-linear", epochs=20, device="cpu"))  # a run inside an experiment: no bar of its own
    return [Row("001", "fake", "1", "1", "–", "ok", DETERMINISTIC)]


@pytest.mark.parametrize("quiet", [False, True])
def test_seeds_bar_over_the_experiments(at_once, capsys, tmp_path, monkeypatch, quiet):
    monkeypatch.setattr(seeds, "QUICK", [fake_experiment, fake_experiment])
    out = tmp_path / "seeds.md"
    assert main(["seeds", "--quick", "--out", str(out), *["--quiet"] * quiet]) == 0
    stdout, err = capsys.readouterr()
    assert stdout == "" and err.endswith(f"wrote {out}\n") and out.read_text().count("| fake |") == 2
    assert "toy-linear" not in err
    if quiet:
        assert err == f"wrote {out}\n"
    else:
        assert err.split("\n")[0].split("\r")[-1].startswith("gdcore seeds: 100%") and "2/2" in err
        assert "fake_experiment" in err  # the experiment running, named in the postfix
