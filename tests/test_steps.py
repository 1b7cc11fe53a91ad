"""Every registered step against autograd (float64 where the step runs it), the full-batch step against the mean of
per-sample gradients, and the records of all steps against each other. The steps come from the registry: a new
step is tested here without editing this file."""
import pytest
import torch

from gdcore import STEPS, WORKLOADS, RunConfig, RunSetup, run
from helpers import without_timings

SYNTHETIC = {  # workload: (subset, batch size) small enough to run every step in well under a second
    "toy-linear": (None, 1),
    "random-mlp": (None, 16),
    "synth-regression": (300, 32),
    "synth-binary": (300, 50),
}
REAL = {"airfoil-linreg": (200, 1), "mnist-logreg": (200, 1), "mnist-seed-logreg": (200, 20), "mnist-mlp": (200, 20)}
TOLERANCE = {"float64": dict(rtol=1e-9, atol=1e-11), "float32": dict(rtol=2e-4, atol=2e-5)}


def params_after_epochs(cfg: RunConfig, epochs: int = 2) -> list[torch.Tensor]:
    tr = RunSetup(cfg)
    step = tr.fresh()
    for _ in range(epochs):
        tr.epoch(step)
    return [p.detach().clone() for p in tr.model.parameters()]


def cases(table: dict, batch: str | None = None) -> list:
    """(workload, step, dtype) for every registered step that supports the workload on the CPU: float64 when the
    step runs it, else float32."""
    out = []
    for w, (_, bs) in table.items():
        for name, spec in STEPS.items():
            if name == "autograd" or not spec.same_math:
                continue
            bs_ = batch or bs
            dtype = next((d for d in ("float64", "float32")
                          if spec.supports(WORKLOADS[w], "cpu", bs_, d) is None), None)
            if dtype:
                out.append(pytest.param(w, name, dtype, id=f"{w}-{name}-{dtype}"))
    return out


def cfg_for(workload, step, dtype, **kw):
    subset, bs = {**SYNTHETIC, **REAL}[workload]
    kw.setdefault("batch_size", bs)
    return RunConfig(workload=workload, subset=subset, dtype=dtype, device="cpu", step=step, **kw)


@pytest.mark.parametrize("workload,step,dtype", cases(SYNTHETIC))
def test_every_step_follows_the_autograd_trajectory(workload, step, dtype):
    ref = params_after_epochs(cfg_for(workload, "autograd", dtype))
    got = params_after_epochs(cfg_for(workload, step, dtype))
    start = params_after_epochs(cfg_for(workload, "autograd", dtype), epochs=0)
    assert any(not torch.equal(a, b) for a, b in zip(ref, start)), "the run did not move the parameters"
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, **TOLERANCE[dtype])


@pytest.mark.parametrize("workload,step,dtype", cases(REAL))
def test_every_step_agrees_on_real_data(workload, step, dtype, data_root):
    ref = params_after_epochs(cfg_for(workload, "autograd", dtype), epochs=1)
    for g, r in zip(params_after_epochs(cfg_for(workload, step, dtype), epochs=1), ref):
        torch.testing.assert_close(g, r, **TOLERANCE[dtype])


@pytest.mark.parametrize("workload,step,dtype", cases(SYNTHETIC, batch="full") + [
    pytest.param(w, "autograd", "float64", id=f"{w}-autograd") for w in SYNTHETIC])
def test_full_batch_step_is_the_mean_of_per_sample_gradient_steps(workload, step, dtype):
    cfg = cfg_for(workload, step, dtype, batch_size="full", lr=0.01)
    tr = RunSetup(cfg)
    fn = tr.fresh()
    start = [p.detach().clone() for p in tr.model.parameters()]
    x, y = tr.data.train_x.double(), tr.data.train_y
    y = y.double() if y.is_floating_point() else y
    per_sample = []
    for i in range(len(x)):  # autograd on one sample at a time: the independent oracle
        model = tr.workload.model().double()
        with torch.no_grad():
            for p, s in zip(model.parameters(), start):
                p.copy_(s)
        per_sample.append(torch.autograd.grad(tr.workload.loss.value(model(x[i:i + 1]), y[i:i + 1]),
                                              list(model.parameters())))
    # a mean loss averages the per-sample gradients; seed 004's sum of squares adds them
    reduce = torch.sum if tr.workload.loss.name == "sum-squared-error" else torch.mean
    tr.epoch(fn)
    for k, (p, s) in enumerate(zip(tr.model.parameters(), start)):
        expected = s.double() - cfg.lr * reduce(torch.stack([g[k] for g in per_sample]), dim=0)
        torch.testing.assert_close(p.detach().double(), expected, **TOLERANCE[dtype])


def _comparable(r: dict) -> dict:
    r = without_timings(r)
    for k in ("step", "strategy"):
        r.pop(k)
    return r


@pytest.mark.parametrize("workload,subset,bs,budget,every", [
    ("toy-linear", None, 1, 50, 7), ("airfoil-linreg", 500, 10, 1234, 100), ("airfoil-linreg", 500, 1, 1000, 300),
    ("mnist-logreg", 3000, 64, 3000, 1000), ("mnist-logreg", 3000, 1, 2500, 1000),
])
def test_every_step_evaluates_at_the_same_samples_and_stops_at_the_same_budget(workload, subset, bs, budget, every,
                                                                             request):
    """The records of all steps agree apart from timings: the same evaluation points, budget, steps and quality."""
    if WORKLOADS[workload].needs:
        request.getfixturevalue("data_root")
    base = RunConfig(workload=workload, subset=subset, batch_size=bs, samples=budget, eval_every=every, device="cpu")
    ref = _comparable(run(base.replace(step="closed-form")))
    assert ref["samples_seen"] < budget + bs and ref["samples_seen"] >= budget
    for name, spec in STEPS.items():
        if not spec.same_math or spec.supports(WORKLOADS[workload], "cpu", bs, "float32"):
            continue
        got = _comparable(run(base.replace(step=name)))
        assert [p["samples"] for p in got["curve"]] == [p["samples"] for p in ref["curve"]], name
        assert (got["samples_seen"], got["steps"]) == (ref["samples_seen"], ref["steps"]), name
        for p, q in zip(got["curve"], ref["curve"]):
            assert p == pytest.approx(q, rel=2e-3, abs=1e-6), name


def test_fused_and_c_loop_keep_jit_out_of_the_epoch_times():
    """Compilation happens when the step is built (setup_seconds), never in the first epoch's time."""
    r = run(RunConfig(workload="toy-linear", batch_size=1, epochs=20, step="fused", device="cpu"))
    assert r["setup_seconds"] is not None and r["setup_seconds"] >= 0
    assert max(r["seconds_per_epoch"]) < 0.05  # a compile (about 0.4 s, or a cache load) would show here
