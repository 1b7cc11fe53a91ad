"""The critical-batch-size estimators: the fit recovers a known B_crit; B_simple equals a brute-force computation."""
import math
import random

import pytest
import torch

from gdcore import WORKLOADS
from gdcore.critical import bootstrap, fit_steps, noise_scale, simple_noise_scale
from gdcore.models import apply_init


@pytest.mark.parametrize("s_min,b_crit", [(100.0, 64.0), (20.0, 900.0), (5000.0, 3.0)])
def test_fit_recovers_a_known_critical_batch(s_min, b_crit):
    sizes = [1, 8, 64, 512, 4096]
    steps = [s_min * (1 + b_crit / b) for b in sizes]
    got_s, got_b = fit_steps(sizes, steps)
    assert got_s == pytest.approx(s_min, rel=1e-9) and got_b == pytest.approx(b_crit, rel=1e-9)


def test_bootstrap_interval_holds_the_truth_under_noise():
    rng = random.Random(1)
    sizes, s_min, b_crit = [1, 8, 64, 512, 4096], 200.0, 100.0
    per_seed = {b: [s_min * (1 + b_crit / b) * math.exp(rng.gauss(0, 0.1)) for _ in range(5)] for b in sizes}
    est, lo, hi = bootstrap(per_seed, draws=300)
    assert lo <= b_crit <= hi and lo < est < hi and hi / lo < 3


def test_fit_says_when_steps_never_level_off():
    assert fit_steps([1, 2, 4], [400, 200, 100])[1] == math.inf  # perfect scaling throughout: B_crit beyond range


def test_fit_never_gives_a_negative_critical_batch():
    """Steps that grow with the batch size (seed noise) give B_crit 0 and S_min between the steps measured; a
    5-seed bootstrap of such noise once gave an interval from -8.6."""
    s_min, b_crit = fit_steps([64, 512, 1500], [7.0, 8.0, 8.0])
    assert b_crit == 0.0 and 7.0 < s_min < 8.0
    est, lo, hi = bootstrap({64: [7, 22, 38, 9, 30], 512: [7, 8, 8, 8, 7], 1500: [8, 8, 8, 8, 8]}, draws=300)
    assert lo >= 0.0 and est >= lo


@pytest.mark.parametrize("name", ["mnist-logreg", "airfoil-linreg", "synth-regression", "random-mlp"])
def test_simple_noise_scale_equals_brute_force(name):
    w = WORKLOADS[name]
    torch.manual_seed(0)
    model = w.model().double()
    apply_init(model, w.init if w.init != "const:1" else "normal:0.5")
    d_in = model[0].in_features
    d_out = [m for m in model if isinstance(m, torch.nn.Linear)][-1].out_features
    n = 37
    x = torch.randn(n, d_in, dtype=torch.float64)
    y = torch.randint(0, d_out, (n,)) if w.loss.name == "cross-entropy" else torch.randn(n, d_out, dtype=torch.float64)
    rows = []
    for i in range(n):  # autograd, one sample at a time
        gs = torch.autograd.grad(w.loss.value(model(x[i:i + 1]), y[i:i + 1]), list(model.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in gs]))
    g = torch.stack(rows)
    G = g.mean(0)
    expected = float(((g - G) ** 2).sum(1).sum() / (n - 1) / (G @ G))
    assert simple_noise_scale(model, w.loss, x, y, chunk=10) == pytest.approx(expected, rel=1e-9)
    for p in model.parameters():  # as the fused step leaves them
        p.requires_grad_(False)
    with torch.no_grad():  # as a run's observer may call it
        assert noise_scale(model, w.loss, x, y, chunk=10) == pytest.approx(expected, rel=1e-9)  # chunks of 10 and 7
