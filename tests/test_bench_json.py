"""The benchmark suite's JSON says everything the reports need: checks a quick-profile run of `pytest bench`.

CI runs the quick profile first and points GDCORE_BENCH_JSON at its file; without it, this runs the profile here.
"""
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

RECORD_FIELDS = ("workload batch_size lr path impl device device_name threads torch_version seed epochs samples_seen "
                 "steps train_seconds seconds_per_epoch final_train_loss final_test_loss metric_name final_test_metric "
                 "target samples_to_target steps_to_target seconds_to_target diverged curve config kind profile").split()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> dict:
    path = os.environ.get("GDCORE_BENCH_JSON")
    if not path:
        path = tmp_path_factory.mktemp("bench") / "quick.json"
        done = subprocess.run([sys.executable, "-m", "pytest", "bench", "--gd-profile", "quick", "-q", "-p",
                               "no:cacheprovider", f"--benchmark-json={path}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"pytest bench --gd-profile quick failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
    return json.loads(Path(path).read_text())


def test_machine_info_records_the_environment(quick):
    info = quick["machine_info"]
    for key in ("torch_version", "cuda_version", "gpu_name", "torch_threads", "gdcore_profile"):
        assert key in info
    assert info["torch_threads"] >= 1 and info["gdcore_profile"] == "quick"


def test_every_case_has_the_extra_info_fields_and_positive_times(quick):
    benches = quick["benchmarks"]
    assert {b["extra_info"]["kind"] for b in benches} >= {"epoch_time", "samples_to_target", "final_loss"}
    for b in benches:
        e = b["extra_info"]
        missing = [f for f in RECORD_FIELDS if f not in e]
        assert not missing, f"{b['name']} lacks {missing}"
        assert b["stats"]["min"] > 0
        if e["kind"] == "epoch_time":
            assert len(e["seconds_per_epoch"]) == b["stats"]["rounds"] and all(t > 0 for t in e["seconds_per_epoch"])
        else:
            assert e["train_seconds"] > 0 and len(e["curve"]) <= 40


def test_every_path_impl_and_method_is_timed(quick):
    seen = {(e["path"], e["impl"], e["batch_size"] == 1, e["batch_size"] == e["n"])
            for e in (b["extra_info"] for b in quick["benchmarks"]) if e["kind"] == "epoch_time"}
    for path in ("dataloader", "preloaded"):
        for impl in ("autograd", "optim", "closed-form"):
            assert {(path, impl, True, False), (path, impl, False, False), (path, impl, False, True)} <= seen


def test_mnist_logreg_reaches_its_target_for_each_batch_size(quick):
    by_bs = defaultdict(list)
    for b in quick["benchmarks"]:
        e = b["extra_info"]
        if e["kind"] == "samples_to_target" and e["workload"] == "mnist-logreg":
            by_bs[e["batch_size"]].append(e)
    if not by_bs:
        pytest.skip("no mnist-logreg samples-to-target cases ran (MNIST data absent)")
    for bs, runs in by_bs.items():
        assert any(r["samples_to_target"] is not None for r in runs), f"batch size {bs} never reached the target"
        assert sum(r["best_lr"] for r in runs) == 1
