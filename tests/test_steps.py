"""Step implementations against each other, and the full-batch step against the per-sample gradients (float64)."""
import pytest
import torch

from gdcore import RunConfig, Trainer
from gdcore.steps import STEPS

SYNTHETIC = {  # workload: (subset, batch size) small enough to run every impl in well under a second
    "toy-linear": (None, 1),
    "random-mlp": (None, 16),
    "synth-regression": (300, 32),
    "synth-binary": (300, 50),
}


def params_after_epochs(cfg: RunConfig, epochs: int = 2) -> list[torch.Tensor]:
    tr = Trainer(cfg)
    step = tr.fresh()
    for _ in range(epochs):
        tr.epoch(step)
    return [p.detach().clone() for p in tr.model.parameters()]


def f64(workload, **kw):
    subset, bs = SYNTHETIC.get(workload, (200, 20))
    kw.setdefault("batch_size", bs)
    return RunConfig(workload=workload, subset=subset, dtype="float64", device="cpu", **kw)


@pytest.mark.parametrize("workload", list(SYNTHETIC))
@pytest.mark.parametrize("impl", ["optim", "closed-form"])
def test_impls_follow_the_autograd_trajectory(workload, impl):
    ref = params_after_epochs(f64(workload, impl="autograd"))
    got = params_after_epochs(f64(workload, impl=impl))
    start = params_after_epochs(f64(workload, impl="autograd"), epochs=0)
    assert any(not torch.equal(a, b) for a, b in zip(ref, start)), "the run did not move the parameters"
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("workload", ["airfoil-linreg", "mnist-logreg", "mnist-seed-logreg", "mnist-mlp"])
@pytest.mark.parametrize("impl", ["optim", "closed-form"])
def test_impls_agree_on_real_data(workload, impl, data_root):
    ref = params_after_epochs(f64(workload, impl="autograd"), epochs=1)
    for g, r in zip(params_after_epochs(f64(workload, impl=impl), epochs=1), ref):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)


FULL_BATCH = [(w, i) for w in SYNTHETIC for i in STEPS if i != "fused" or w == "toy-linear"]


@pytest.mark.parametrize("workload,impl", FULL_BATCH)
def test_full_batch_step_is_the_mean_of_per_sample_gradient_steps(workload, impl):
    cfg = f64(workload, impl=impl, batch_size="full", lr=0.01)
    tr = Trainer(cfg)
    step = tr.fresh()
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
    tr.epoch(step)
    for k, (p, s) in enumerate(zip(tr.model.parameters(), start)):
        expected = s - cfg.lr * reduce(torch.stack([g[k] for g in per_sample]), dim=0)
        torch.testing.assert_close(p.detach(), expected, rtol=1e-10, atol=1e-12)
