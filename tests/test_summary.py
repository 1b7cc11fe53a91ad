"""summary.json: each batch size's spread over seeds, the resolution flag, B_crit fitted with an interval from tuned
records built on a known critical batch size, and B_simple beside it."""
import json
import math
import random

from fakes import record
from gdcore.cli import main

S_MIN, B_CRIT, N = 50.0, 100.0, 60000


def tuned(bs: int, rng: random.Random, seeds=(0, 1, 2), reached=True) -> dict:
    steps = [round(S_MIN * (1 + B_CRIT / bs) * math.exp(rng.gauss(0, 0.05))) for _ in seeds] if reached else \
        [None] * len(seeds)
    samples = [s and s * bs for s in steps]
    lower = [s and math.floor(s * 0.93) for s in samples]
    mid = sorted(range(len(seeds)), key=lambda i: samples[i] or math.inf)[len(seeds) // 2]
    curves = [[[bs, 1, 0.1, 0.5], [samples[i] or 10 * N, (samples[i] or 10 * N) // bs, 1.0, 0.91]] for i in
              range(len(seeds))]
    info = record("samples_to_target", workload="mnist-logreg", metric_name="test_accuracy", target=0.9, n=N,
                  batch_size=bs, lr=0.1 * bs ** 0.5, samples_to_target=samples[mid], steps_to_target=steps[mid],
                  samples_to_target_lower=lower[mid], best_lr=reached,
                  over_seeds={"seed": list(seeds), "samples_to_target": samples, "steps_to_target": steps,
                              "samples_to_target_lower": lower, "final_train_loss": [0.3] * len(seeds),
                              "final_test_metric": [0.91] * len(seeds), "curves": curves},
                  lr_search={"grid": [0.05, 0.1, 0.2], "bracketed": reached, "capped": False, "trials": []},
                  noise_scale={"mean_to_target": 120.0 if reached else None})
    return {"name": f"test_samples_to_target[mnist-logreg-cpu-bs{bs}-tuned]", "group": "stt", "extra_info": info,
            "stats": {"min": 1.0, "max": 1.0, "mean": 1.0, "median": 1.0, "rounds": 1}}


def test_summary_json_gives_b_crit_with_an_interval_and_b_simple(tmp_path):
    rng = random.Random(3)
    doc = {"machine_info": {"cpu": {"brand_raw": "Fake CPU"}}, "version": "5.2.3",
           "benchmarks": [tuned(bs, rng) for bs in (1, 8, 64, 512, N)] + [tuned(4096, rng, reached=False)]}
    (tmp_path / "run.json").write_text(json.dumps(doc))
    assert main(["report", str(tmp_path / "run.json"), "--out", str(tmp_path / "o")]) == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    (w,) = s["workloads"]
    c = w["critical_batch"]
    assert c["interval"][0] <= B_CRIT <= c["interval"][1] and abs(math.log(c["b_crit"] / B_CRIT)) < 0.3
    assert c["batch_sizes"] == [1, 8, 64, 512, N] and c["seeds"] == 3  # the unreached 4096 is left out of the fit
    assert w["b_simple"] == 120.0 and w["agreement"]["within_2x"] is True
    sizes = {b["batch_size"]: b for b in w["batch_sizes"]}
    assert sizes[4096]["best_lr"] is None and sizes[4096]["samples_to_target"]["reached"] == 0
    assert sizes[64]["samples_to_target"]["min"] <= sizes[64]["samples_to_target"]["median"] <= \
        sizes[64]["samples_to_target"]["max"]
    assert all(b["resolved"] for b in w["batch_sizes"] if b["best_lr"])  # lower bounds at 93 % of each figure
    md = (tmp_path / "o" / "report.md").read_text()
    assert "Critical batch size B_crit ≈" in md and "within 2x of B_crit" in md and "critical_batch.png" in md


def test_a_figure_resolved_coarser_than_10_percent_is_flagged(tmp_path):
    b = tuned(64, random.Random(0))
    b["extra_info"]["over_seeds"]["samples_to_target_lower"] = [s // 2 for s in b["extra_info"]["over_seeds"][
        "samples_to_target"]]
    doc = {"machine_info": {"cpu": {"brand_raw": "Fake CPU"}}, "version": "5.2.3", "benchmarks": [b]}
    (tmp_path / "run.json").write_text(json.dumps(doc))
    assert main(["report", str(tmp_path / "run.json"), "--out", str(tmp_path / "o")]) == 0
    (w,) = json.loads((tmp_path / "o" / "summary.json").read_text())["workloads"]
    assert w["batch_sizes"][0]["resolved"] is False and w["critical_batch"] is None


def test_an_interval_from_zero_is_shown_as_an_interval(tmp_path):
    """B_crit is at least 0, so a bootstrap interval can start at 0: it is still an interval (not "one seed" or
    "open-ended"), in report.md and in the chart's table."""
    from gdcore.summary import interval_text

    assert interval_text({"interval": [0.0, 2.86]}) == "0 to 2.86"
    assert interval_text({"interval": [3.0, None]}) == "open-ended" and interval_text({"interval": None}) is None
    rng = random.Random(1)
    flat = []
    for bs in (1, 8, 64, 512):  # one step at every batch from 8 (synth-binary in the full profile): B_crit about 1
        b = tuned(bs, rng)
        o = b["extra_info"]["over_seeds"]
        o["steps_to_target"] = [2, 1, 3] if bs == 1 else [1, 1, 1]
        o["samples_to_target"] = [s * bs for s in o["steps_to_target"]]
        o["samples_to_target_lower"] = [s - 1 for s in o["samples_to_target"]]
        flat.append(b)
    doc = {"machine_info": {"cpu": {"brand_raw": "Fake CPU"}}, "version": "5.2.3", "benchmarks": flat}
    (tmp_path / "run.json").write_text(json.dumps(doc))
    assert main(["report", str(tmp_path / "run.json"), "--out", str(tmp_path / "o")]) == 0
    (w,) = json.loads((tmp_path / "o" / "summary.json").read_text())["workloads"]
    assert w["critical_batch"]["interval"][0] == 0.0
    md = (tmp_path / "o" / "report.md").read_text()
    assert "% interval 0 to " in md and "one seed: no interval" not in md and "open-ended" not in md
