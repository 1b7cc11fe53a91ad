"""Small pytest-benchmark JSON files shaped like the suite's, for report and compare tests. Each benchmark's
extra_info is a gdcore.Record, built and serialized by the schema itself."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from gdcore.record import Record

SIZES = (1, 64, 1000)


def record(kind: str, **fields) -> dict:
    base = dict(workload="synth-regression", batch_size=1, lr=0.03, feed="preloaded", step="closed-form",
                device="cpu", seed=0, metric_name="test_mse", target=0.005, device_name="Fake CPU", threads=2,
                torch_version="2.x", epochs=1.0, samples_seen=1000, steps=1000, train_seconds=0.5,
                seconds_per_epoch=[], final_train_loss=0.01, final_test_loss=0.012, final_test_metric=0.012,
                samples_to_target=None, steps_to_target=None, seconds_to_target=None, diverged=False, curve=[],
                kind=kind, profile="quick", n=1000)
    return Record(**{**base, **fields}).to_dict()


def _bench(name, kind, median, **info):
    return {"name": name, "group": kind, "extra_info": record(kind, **info),
            "stats": {"min": median * 0.9, "max": median * 1.1, "mean": median, "median": median, "rounds": 3}}


def benchmarks(time_scale: float = 1.0, samples_scale: float = 1.0) -> list[dict]:
    out = []
    for bs in SIZES:
        for feed, base in (("dataloader", 0.05), ("preloaded", 0.01)):
            for step, f in (("autograd", 1.0), ("optim", 1.1), ("closed-form", 0.7)):
                t = (base + 0.2 / bs) * f * time_scale
                out.append(_bench(f"test_epoch_time[synth-regression-cpu-{feed}-{step}-bs{bs}]", "epoch_time", t,
                                  feed=feed, step=step, batch_size=bs, seconds_per_epoch=[t] * 3, rounds=3))
        for lr, reached in ((0.01, True), (0.1, bs < 1000)):
            s = int(2000 * (1 + bs / 200) * samples_scale) if reached else None
            curve = [{"samples": 0, "steps": 0, "seconds": 0.0, "train_loss": 0.05, "test_metric": 0.05},
                     {"samples": s or 5000, "steps": (s or 5000) // bs, "seconds": 0.5, "train_loss": 0.004,
                      "test_metric": 0.0045 if reached else 0.02}]
            out.append(_bench(f"test_samples_to_target[synth-regression-cpu-bs{bs}-lr{lr:g}]", "samples_to_target",
                              0.6, batch_size=bs, lr=lr, samples_to_target=s, steps_to_target=s and s // bs,
                              seconds_to_target=0.5 if reached else None, best_lr=lr == 0.01, curve=curve))
        out.append(_bench(f"test_final_loss[synth-regression-cpu-bs{bs}-lr0.01]", "final_loss", 0.7, batch_size=bs,
                          lr=0.01, final_train_loss=0.004 + bs / 1e5, final_test_metric=0.005 + bs / 1e5))
    return out


def write(path: Path, cpu: str = "Fake CPU A", gpu: str | None = None, **kw) -> Path:
    doc = {"machine_info": {"cpu": {"brand_raw": cpu}, "gpu_name": gpu, "torch_version": "2.x"},
           "benchmarks": benchmarks(**kw), "version": "5.2.3"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def edited(src: Path, dst: Path, edit) -> Path:
    doc = json.loads(src.read_text())
    doc = copy.deepcopy(doc)
    doc = edit(doc) or doc
    dst.write_text(json.dumps(doc))
    return dst
