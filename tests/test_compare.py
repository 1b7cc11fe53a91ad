"""`gdcore compare` and its gate: a time fails only when past the limit and significant over the timed rounds."""
import random
import re
import statistics

import pytest

from fakes import edited, write
from gdcore.cli import main
from gdcore.compare import ALPHA, shift

EPOCH_CASES = 18  # epoch-time benchmarks in a fakes file


def with_rounds(src, dst, make):
    """A copy of `src` whose epoch-time cases hold the rounds make(median) in stats.data, as --benchmark-json writes."""
    def edit(doc):
        for b in doc["benchmarks"]:
            if b["extra_info"]["kind"] == "epoch_time":
                data = make(b["stats"]["median"])
                b["stats"].update(data=data, min=min(data), max=max(data), mean=statistics.mean(data),
                                  median=statistics.median(data), rounds=len(data))
                b["extra_info"]["seconds_per_epoch"] = data
    return edited(src, dst, edit)


def noisy(rng, rounds, noise, scale=1.0):
    """Rounds of a case whose time is its median times `scale`, each off by up to +-`noise` (uniform)."""
    return lambda t: [t * scale * rng.uniform(1 - noise, 1 + noise) for _ in range(rounds)]


def gate(a, b, capsys, spec="median:10%"):
    """(exit status, stdout) of `gdcore compare A B --fail-on spec`."""
    rc = main(["compare", str(a), str(b), "--fail-on", spec])
    return rc, capsys.readouterr().out


def test_unchanged_code_with_15_percent_noise_rarely_fails(tmp_path, capsys):
    """20 pairs of runs of unchanged code, 18 cases of 5 rounds each: a median moves past 10 % in nearly every pair,
    and the gate fails at most one pair (the plain 10 % gate would fail nearly all)."""
    src, fails, past = write(tmp_path / "src.json"), 0, 0
    for seed in range(20):
        rng = random.Random(seed)
        a = with_rounds(src, tmp_path / "a.json", noisy(rng, 5, 0.15))
        b = with_rounds(src, tmp_path / "b.json", noisy(rng, 5, 0.15))
        rc, out = gate(a, b, capsys)
        fails += rc
        past += "time change(s) past the limit not failed, not significant" in out
    assert past >= 15 and fails <= 1


def test_a_20_percent_slowdown_over_5_rounds_with_15_percent_noise_fails(tmp_path, capsys):
    src = write(tmp_path / "src.json")
    for seed in range(10):
        rng = random.Random(seed)
        a = with_rounds(src, tmp_path / "a.json", noisy(rng, 5, 0.15))
        b = with_rounds(src, tmp_path / "b.json", noisy(rng, 5, 0.15, scale=1.2))
        rc, out = gate(a, b, capsys)
        flagged = re.findall(r"median [\d.]+ -> [\d.]+ \(\+\d+\.\d% worse; rounds NEW/BASE 1\.\d{3}, 90% interval "
                             r"1\.\d{3}-1\.\d{3}, p=0\.0\d+\) REGRESSION", out)
        assert rc == 1 and flagged and f"\n{len(flagged)} regression(s) past the --fail-on limits" in out


def test_a_20_percent_slowdown_over_1_round_is_not_judged(tmp_path, capsys):
    src = write(tmp_path / "src.json")
    a = with_rounds(src, tmp_path / "a.json", lambda t: [t])
    b = with_rounds(src, tmp_path / "b.json", lambda t: [t * 1.2])
    rc, out = gate(a, b, capsys)
    assert rc == 0 and "REGRESSION" not in out
    assert out.count("+20.0% worse; 1 vs 1 round(s): too few to judge) (past the limit, not failed: too few rounds to "
                     "judge)") == EPOCH_CASES
    assert f"\n{EPOCH_CASES} time change(s) past the limit not failed, too few rounds to judge" in out


def test_quality_figures_keep_the_plain_gate(tmp_path, capsys):
    a, b = write(tmp_path / "a.json"), write(tmp_path / "b.json", samples_scale=1.3)  # 1 round each, 30 % more samples
    rc, out = gate(a, b, capsys, "samples_to_target:15%")
    assert rc == 1 and "samples_to_target worse by 30.0% (limit 15%)" in out


@pytest.mark.parametrize("m,n", [(3, 3), (5, 5), (2, 5), (4, 7), (12, 12), (30, 25)])  # exact, then normal
def test_the_test_agrees_with_scipy(m, n):
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(m * 100 + n)
    for scale in (1.0, 1.1, 1.3):
        base = [rng.lognormvariate(0, 0.1) for _ in range(m)]
        new = [scale * rng.lognormvariate(0, 0.1) for _ in range(n)]
        method = "exact" if n * m < 100 else "asymptotic"
        want = stats.mannwhitneyu(new, base, alternative="greater", method=method).pvalue
        assert shift(base, new).p == pytest.approx(want, rel=1e-9)


def test_a_limit_shifts_the_test_not_the_interval():
    rng = random.Random(3)
    base, new = [rng.random() + 1 for _ in range(5)], [rng.random() + 1.2 for _ in range(5)]
    s, s10 = shift(base, new), shift(base, new, 0.10)
    assert s10.p == shift([x * 1.1 for x in base], new).p and s10.p > s.p
    assert s10[:3] == s[:3]


def test_false_alarms_stay_under_alpha_and_the_interval_covers_the_true_ratio():
    rng, draws = random.Random(2), 2000
    same = [shift([rng.gauss(1, 0.15) for _ in range(5)], [rng.gauss(1, 0.15) for _ in range(5)]) for _ in range(draws)]
    alarms = sum(s.p <= ALPHA for s in same) / draws
    assert 0.02 < alarms <= ALPHA + 0.01  # calibrated: about ALPHA, not 0 (a test that never fires) nor more
    slower = [shift([rng.lognormvariate(0, 0.15) for _ in range(5)], [1.3 * rng.lognormvariate(0, 0.15)
                                                                     for _ in range(5)]) for _ in range(draws)]
    covered = sum(s.low <= 1.3 <= s.high for s in slower) / draws
    assert 1 - 2 * ALPHA - 0.02 <= covered < 0.99  # a 90 % interval, neither too narrow nor everything


def test_too_few_rounds_give_no_verdict():
    assert shift([1.0], [1.2]) is None and shift([1.0, 1.01], [1.2, 1.21]) is None and shift([], [1.0]) is None
    s = shift([1.0, 1.01, 1.02], [1.2, 1.21, 1.22])  # 3 against 3: complete separation reaches p = 1/20
    assert s.p == pytest.approx(0.05) and s.low == pytest.approx(1.2 / 1.02) and s.high == pytest.approx(1.22)


def test_compare_passes_an_unchanged_run(tmp_path, capsys):
    a = write(tmp_path / "a.json")
    b = write(tmp_path / "b.json")
    assert main(["compare", str(a), str(b), "--fail-on", "median:10%,samples_to_target:15%,final_train_loss:5%"]) == 0
    assert "no regression" in capsys.readouterr().out


def test_compare_flags_a_20_percent_slowdown(tmp_path, capsys):
    # fakes hold no stats.data, as autosaves: the rounds are read from extra_info.seconds_per_epoch (3 each)
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


def test_compare_rejects_a_bad_spec(tmp_path, capsys):
    a = write(tmp_path / "a.json")
    assert main(["compare", str(a), str(a), "--fail-on", "speed:fast"]) == 2
    assert "invalid --fail-on item 'speed:fast'" in capsys.readouterr().err


def runs_of(tmp_path, src, side, makes):
    """Comma-separated paths of runs of `src`, one per rounds-maker."""
    return ",".join(str(with_rounds(src, tmp_path / f"{side}{i}.json", make)) for i, make in enumerate(makes))


def test_several_runs_per_side_outvote_one_slow_run(tmp_path, capsys):
    """Drift between runs is what the rounds of one run cannot see: one NEW run 40 % slower on every case (a busy
    host) fails the one-run gate, and is outvoted when each side has three runs."""
    src, rng = write(tmp_path / "src.json"), random.Random(0)
    base = runs_of(tmp_path, src, "a", [noisy(rng, 5, 0.02) for _ in range(3)])
    new = runs_of(tmp_path, src, "b", [noisy(rng, 5, 0.02), noisy(rng, 5, 0.02, scale=1.4), noisy(rng, 5, 0.02)])
    rc, out = gate(base.split(",")[0], new.split(",")[1], capsys)
    assert rc == 1 and "drift between runs" in out
    rc, out = gate(base, new, capsys)
    assert rc == 0 and "over the runs' medians" in out and "REGRESSION" not in out


def test_several_runs_per_side_catch_a_20_percent_slowdown(tmp_path, capsys):
    src, rng = write(tmp_path / "src.json"), random.Random(1)
    base = runs_of(tmp_path, src, "a", [noisy(rng, 5, 0.05) for _ in range(5)])
    new = runs_of(tmp_path, src, "b", [noisy(rng, 5, 0.05, scale=1.2) for _ in range(5)])
    rc, out = gate(base, new, capsys)
    flagged = re.findall(r"\(\+\d+\.\d% worse; runs NEW/BASE 1\.\d{3}, 90% interval 1\.\d{3}-1\.\d{3}, p=0\.0\d+\) "
                         r"REGRESSION", out)
    assert rc == 1 and len(flagged) >= EPOCH_CASES // 2


def test_one_run_against_several_is_refused(tmp_path, capsys):
    src = write(tmp_path / "src.json")
    assert main(["compare", f"{src},{src}", str(src)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "allowed: one run on each side, or two or more on each" in err
    assert main(["compare", f"{src},", str(src)]) == 2
