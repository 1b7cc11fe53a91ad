"""Small pytest-benchmark JSON files shaped like the suite's, for report and compare tests."""
from __future__ import annotations

import copy
import json
from pathlib import Path

SIZES = (1, 64, 1000)


def _bench(name, kind, median, **info):
    e = {"kind": kind, "workload": "synth-regression", "device": "cpu", "path": "preloaded", "impl": "closed-form",
         "lr": None, "metric_name": "test_mse", "target": 0.005, "profile": "quick", "torch_version": "2.x",
         "threads": 2, "samples_to_target": None, "steps_to_target": None, "seconds_to_target": None,
         "final_train_loss": 0.01, "final_test_metric": 0.012, "samples_seen": 1000, "curve": [], **info}
    return {"name": name, "group": kind, "extra_info": e,
            "stats": {"min": median * 0.9, "max": median * 1.1, "mean": median, "median": median, "rounds": 3}}


def benchmarks(time_scale: float = 1.0, samples_scale: float = 1.0) -> list[dict]:
    out = []
    for bs in SIZES:
        for path, base in (("dataloader", 0.05), ("preloaded", 0.01)):
            for impl, f in (("autograd", 1.0), ("optim", 1.1), ("closed-form", 0.7)):
                t = (base + 0.2 / bs) * f * time_scale
                out.append(_bench(f"test_epoch_time[synth-regression-cpu-{path}-{impl}-bs{bs}]", "epoch_time", t,
                                  path=path, impl=impl, batch_size=bs, seconds_per_epoch=[t] * 3))
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
