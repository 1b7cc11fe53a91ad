"""Whole runs: data paths give the same result, the same seed gives the same record, divergence is a result."""
import json

import pytest

from gdcore import FEEDS, RunConfig, run
from gdcore.record import FIELDS, SCHEMA_VERSION, Record
from helpers import without_timings


def same_but_path(a: dict, b: dict) -> None:
    a, b = without_timings(a), without_timings(b)
    for r in (a, b):
        r.pop("feed")
    assert a.keys() == b.keys()
    for k in a:
        if k == "curve":
            for p, q in zip(a[k], b[k], strict=True):
                assert p == pytest.approx(q, rel=1e-6, abs=1e-9)
        else:
            assert a[k] == pytest.approx(b[k], rel=1e-6, abs=1e-9), k


OTHER_FEEDS = [f for f in FEEDS if f != "preloaded"]  # every registered feed against the preloaded one


@pytest.mark.parametrize("feed", OTHER_FEEDS)
@pytest.mark.parametrize("step", ["autograd", "closed-form", "fused"])
def test_every_feed_gives_the_same_run_synthetic(step, feed):
    workload = "synth-binary" if step != "fused" else "toy-linear"
    cfg = RunConfig(workload=workload, subset=700 if step != "fused" else None, batch_size=32 if step != "fused" else 2,
                    epochs=2, eval_every=350 if step != "fused" else 1, step=step, device="cpu", lr=0.001)
    same_but_path(run(cfg), run(cfg.replace(feed=feed)))


@pytest.mark.parametrize("feed", OTHER_FEEDS)
@pytest.mark.parametrize("workload,bs,step", [("airfoil-linreg", 10, "autograd"), ("mnist-logreg", 64, "autograd"),
                                              ("mnist-logreg", 64, "fused")])
def test_every_feed_gives_the_same_run_real_data(workload, bs, step, feed, data_root):
    cfg = RunConfig(workload=workload, subset=3000, batch_size=bs, epochs=2, eval_every=1000, device="cpu", step=step)
    same_but_path(run(cfg), run(cfg.replace(feed=feed)))


def test_same_seed_same_record_and_another_seed_another():
    cfg = RunConfig(workload="synth-regression", subset=500, batch_size=25, epochs=2, eval_every=250, device="cpu")
    a, b, c = run(cfg), run(cfg), run(cfg.replace(seed=1))
    assert without_timings(a) == without_timings(b)
    assert without_timings(a)["curve"] != without_timings(c)["curve"]


def test_record_has_every_field_and_is_json():
    r = run(RunConfig(workload="toy-linear", epochs=100, device="cpu"))
    assert set(r) == set(FIELDS) and r["schema_version"] == SCHEMA_VERSION
    assert Record.from_dict(json.loads(json.dumps(r, allow_nan=False))).to_dict() == r  # the schema reads it back
    assert not set(r["config"]) & set(r), "the record repeats a field in config"
    assert RunConfig(**{**{k: r[k] for k in ("workload", "batch_size", "lr", "feed", "step", "device", "seed",
                                           "target")}, **r["config"], "threads": r["threads"]}) is not None  # the whole config is there
    assert r["batch_size"] == 3 and r["steps"] == 100 and r["samples_seen"] == 300
    assert len(r["seconds_per_epoch"]) == 100 and all(t > 0 for t in r["seconds_per_epoch"])
    assert r["train_seconds"] == pytest.approx(sum(r["seconds_per_epoch"]))
    assert r["final_train_loss"] < 1e-6 and r["samples_to_target"] is not None
    assert r["curve"][0]["samples"] == 0 and r["curve"][-1]["samples"] == 300
    # seed 001: GD from w = 1 with lr 0.01 for 100 epochs predicts 7.999998569 at x = 4 (w = 1.99999964)


def test_stop_at_target_ends_the_run_early():
    cfg = RunConfig(workload="toy-linear", epochs=1000, eval_every=3, device="cpu", stop_at_target=True)
    r = run(cfg)
    assert r["samples_to_target"] == r["samples_seen"] < 3000
    assert run(cfg.replace(stop_at_target=False))["samples_seen"] == 3000


def test_divergence_is_a_result_not_a_crash():
    r = run(RunConfig(workload="random-mlp", lr=1.0, epochs=20, eval_every=64, device="cpu"))
    assert r["diverged"] is True
    assert r["final_train_loss"] is None and r["samples_seen"] < 20 * 64
    json.dumps(r, allow_nan=False)


def test_a_diverged_model_reports_no_metric():
    """synth-binary at lr 1e4: the loss overflows; accuracy computed from NaN outputs (0.5) is not a result."""
    r = run(RunConfig(workload="synth-binary", lr=1e4, epochs=1, device="cpu"))
    assert r["diverged"] is True
    assert r["final_test_metric"] is None and r["curve"][-1]["test_metric"] is None
