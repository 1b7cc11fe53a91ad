"""Fine evaluation and the learning-rate search: the resolution rule on real runs, the bracket rule on made-up runs
whose best lr is known."""
import math

import pytest

import gdcore.tune as tune
from gdcore import RunConfig, run
from gdcore.tune import Search, next_lr, search


def resolved(curve: list, r: float = 0.1) -> list:
    """Consecutive evaluations breaking the resolution rule: neither within r of the later one nor one step apart."""
    return [(a["samples"], b["samples"]) for a, b in zip(curve[1:], curve[2:])
            if a["samples"] < (1 - r) * b["samples"] and b["steps"] - a["steps"] > 1]


@pytest.mark.parametrize("bs", [1, 7, 64, "full"])
@pytest.mark.parametrize("step", ["closed-form", "autograd"])
def test_fine_evaluation_resolves_every_point_to_10_percent_or_one_step(bs, step):
    cfg = RunConfig(workload="synth-binary", subset=700, batch_size=bs, epochs=3 if bs != "full" else 30, step=step,
                    eval_every=350, resolution=0.1, device="cpu", lr=0.01)
    curve = run(cfg)["curve"]
    assert len(curve) > 12 and resolved(curve) == []
    assert curve[1]["samples"] >= 35 or curve[1]["steps"] == 1  # the fine schedule starts at 0.1 * eval_every
    full = [p["samples"] for p in curve if p["train_loss"] is not None]
    assert full[-1] == curve[-1]["samples"]  # the last point is a full one
    assert len(full) < len(curve) or bs == "full"  # the train loss only every eval_every samples (a full step: each)


def test_fine_evaluation_is_the_same_for_a_block_step(data_root):
    """fused consumes whole stretches between evaluations: it must evaluate at the same points as closed-form."""
    cfg = RunConfig(workload="mnist-logreg", subset=3000, batch_size=8, samples=4000, eval_every=1000,
                    resolution=0.1, device="cpu", lr=0.1, data_dir=str(data_root), download=False)
    a, b = run(cfg.replace(step="closed-form")), run(cfg.replace(step="fused"))
    assert [p["samples"] for p in a["curve"]] == [p["samples"] for p in b["curve"]]
    assert resolved(a["curve"]) == []


def test_the_record_brackets_the_target(data_root):
    cfg = RunConfig(workload="mnist-logreg", subset=3000, batch_size=8, samples=6000, eval_every=3000, step="fused",
                    resolution=0.1, device="cpu", lr=0.1, target=0.8, stop_at_target=True, data_dir=str(data_root),
                    download=False)
    r = run(cfg)
    lower, hit = r["samples_to_target_lower"], r["samples_to_target"]
    assert hit is not None and lower >= 0.9 * hit or r["steps_to_target"] - r["steps_to_target_lower"] == 1
    before = [p for p in r["curve"] if p["samples"] == lower][0]
    assert before["test_metric"] < 0.8 <= r["curve"][-1]["test_metric"] and r["curve"][-1]["train_loss"] is not None


def test_the_resolution_rule():
    from gdcore.record import resolved_to

    assert resolved_to(1000, 900, 1, 0.1) and not resolved_to(1000, 899, 1, 0.1)  # 90 % of the samples
    assert resolved_to(112, 104, 8, 0.1) and not resolved_to(600, 0, 8, 0.1)  # or one step (of 8 samples) fewer
    assert resolved_to(64, 32, 32, 0.1) and not resolved_to(64, 31, 32, 0.1)


def test_a_target_reached_at_the_first_evaluation_is_resolved_by_a_rerun_from_the_first_step(data_root):
    """The fine schedule starts at 0.1 x eval_every (600 samples here); a target reached by then is unresolved
    (the evaluation before it is the start), so run_resolved evaluates the same trajectory from the first step."""
    cfg = RunConfig(workload="mnist-logreg", subset=3000, batch_size=8, samples=6000, step="fused", resolution=0.1,
                    device="cpu", lr=0.1, target=0.6, stop_at_target=True, data_dir=str(data_root), download=False)
    coarse = run(cfg)
    assert coarse["samples_to_target_lower"] == 0 and coarse["samples_to_target"] == 600  # the case being fixed
    fine = tune.run_resolved(cfg)
    hit, lower = fine["samples_to_target"], fine["samples_to_target_lower"]
    assert fine["config"]["first_eval"] == 1 and hit < 600
    assert lower >= 0.9 * hit or fine["steps_to_target"] - fine["steps_to_target_lower"] == 1
    assert resolved(fine["curve"]) == []
    # the same trajectory: where both evaluated, the metric is the same
    other = run(cfg.replace(first_eval=1, stop_at_target=False, samples=600))
    assert other["curve"][-1]["test_metric"] == coarse["curve"][-1]["test_metric"]
    assert [p["test_metric"] for p in other["curve"][:len(fine["curve"])]] == [p["test_metric"] for p in fine["curve"]]
    assert tune.run_resolved(cfg.replace(target=0.8))["config"]["first_eval"] is None  # resolved: no rerun


# --- the bracket rule, on made-up runs: samples to target = SCALE * (log(lr / best))^2 + BASE, diverging above MAX

def fake(best: float, diverge: float = math.inf, window: tuple = (0, math.inf), seed_noise: dict | None = None):
    """A stand-in for train.run: reaches the target fastest at lr `best`, only inside `window`, diverges above."""
    calls = []

    def run_one(cfg):
        calls.append((cfg.lr, cfg.seed))
        lr, noise = cfg.lr, (seed_noise or {}).get(cfg.seed, 1.0)
        diverged = lr > diverge
        reached = not diverged and window[0] <= lr <= window[1]
        samples = round((1000 + 3000 * math.log(lr / best) ** 2) * noise) if reached else None
        if samples is not None and samples > 20000:
            samples = None
        metric = None if diverged else 0.9 - 0.1 * abs(math.log(lr / best))
        return {"lr": lr, "seed": cfg.seed, "samples_to_target": samples, "steps_to_target": samples,
                "samples_to_target_lower": samples and samples - 1, "steps_to_target_lower": samples and samples - 1,
                "seconds_to_target": 0.0, "final_train_loss": None if diverged else 1.0, "final_test_metric": metric,
                "diverged": diverged, "samples_seen": samples or 20000}
    return run_one, calls


CFG = RunConfig(workload="synth-binary", stop_at_target=True)


@pytest.mark.parametrize("start,best", [((0.001, 0.003, 0.01), 0.1), ((1.0, 3.0, 10.0), 0.05),
                                        ((0.01, 0.1, 1.0), 0.1)])
def test_search_extends_the_grid_until_the_best_lr_is_interior(monkeypatch, start, best):
    run_one, calls = fake(best)
    monkeypatch.setattr(tune, "run", run_one)
    out = search(CFG, Search(start, seeds=(0, 1, 2), factor=2.0, max_lrs=12))
    grid, s = out["lr_search"]["grid"], out["lr_search"]
    i = grid.index(out["best_lr"])
    assert 0 < i < len(grid) - 1 and s["bracketed"] and not s["capped"]
    assert abs(math.log(out["best_lr"] / best)) <= math.log(2) / 2 + 1e-9 or out["best_lr"] in start
    assert [(t["lr"], t["seed"]) for t in s["trials"]] == calls  # every trial recorded
    for lr in grid:  # every seed, unless two of the three missed the target (then the median is settled)
        ts = [t for t in s["trials"] if t["lr"] == lr]
        assert len(ts) == 3 or (len(ts) == 2 and all(t["samples_to_target"] is None for t in ts))


def test_a_diverged_neighbour_brackets_the_best_lr(monkeypatch):
    run_one, _ = fake(best=1.0, diverge=1.5)
    monkeypatch.setattr(tune, "run", run_one)
    out = search(CFG, Search((0.25, 0.5, 1.0), seeds=(0,), factor=2.0))
    assert out["best_lr"] == 1.0 and out["lr_search"]["grid"] == [0.25, 0.5, 1.0, 2.0]
    assert out["lr_search"]["bracketed"]


def test_the_cap_stops_the_search_and_says_so(monkeypatch):
    run_one, _ = fake(best=100.0)
    monkeypatch.setattr(tune, "run", run_one)
    out = search(CFG, Search((0.01, 0.02, 0.04), seeds=(0,), factor=2.0, max_lrs=5))
    s = out["lr_search"]
    assert s["capped"] and not s["bracketed"] and len(s["grid"]) == 5 and "cap of 5" in s["why"]


def test_midpoints_find_a_narrow_window_no_grid_point_reaches(monkeypatch):
    """As synth-regression at batch 64: 0.03 does not reach, 0.1 diverges, 0.05 reaches."""
    run_one, _ = fake(best=0.05, diverge=0.08, window=(0.04, 0.07))
    monkeypatch.setattr(tune, "run", run_one)
    out = search(CFG, Search((0.01, 0.03, 0.1), seeds=(0,), factor=2.0))
    assert out["best_lr"] is not None and 0.04 <= out["best_lr"] <= 0.07


def test_the_best_lr_is_chosen_by_the_median_over_seeds(monkeypatch):
    """Seed 0 alone would pick 0.2 (lucky); the median over seeds picks 0.1."""
    def run_one(cfg):
        table = {0.05: (3000, 3000, 3000), 0.1: (2000, 2100, 2200), 0.2: (1000, 5000, 6000), 0.4: (None,) * 3}
        s = table[cfg.lr][cfg.seed]
        return {"lr": cfg.lr, "seed": cfg.seed, "samples_to_target": s, "steps_to_target": s,
                "samples_to_target_lower": s, "steps_to_target_lower": s, "seconds_to_target": 0.0,
                "final_train_loss": 1.0, "final_test_metric": 0.5, "diverged": False, "samples_seen": s or 9999}
    monkeypatch.setattr(tune, "run", run_one)
    out = search(CFG, Search((0.05, 0.1, 0.2, 0.4), seeds=(0, 1, 2)))
    assert out["best_lr"] == 0.1 and [r["seed"] for r in out["records"]] == [0, 1, 2]
    assert sum(t["lr"] == 0.4 for t in out["lr_search"]["trials"]) == 2  # 2 of 3 unreached: the median is settled


def test_next_lr_rule():
    inf = math.inf
    assert next_lr({0.1: (500, 0), 0.2: (900, 0)}, 2.0)[0] == 0.05
    assert next_lr({0.1: (900, 0), 0.2: (500, 0)}, 2.0)[0] == 0.4
    assert next_lr({0.1: (900, 0), 0.2: (500, 0), 0.4: (inf, 0)}, 2.0)[0] is None
    assert next_lr({0.1: (inf, -0.5), 0.2: (inf, -0.8), 0.4: (inf, -0.6)}, 2.0)[0] == pytest.approx(math.sqrt(0.08))
    assert next_lr({0.1: (inf, -0.5), 0.2: (inf, -0.8), 0.4: (inf, -0.6), 0.283: (inf, -0.7)}, 2.0)[0] == \
        pytest.approx(math.sqrt(0.02))  # then the smaller side
