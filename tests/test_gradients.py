"""Closed-form gradients against autograd, in float64, for every workload's model (autograd is the oracle)."""
import pytest
import torch

from gdcore import WORKLOADS
from gdcore.models import apply_init, backward


def example(name, batch=7, seed=0):
    """A float64 model of the workload and a random batch shaped like its data."""
    w = WORKLOADS[name]
    torch.manual_seed(seed)
    model = w.model().double()
    apply_init(model, w.init if w.init != "const:1" else "normal:0.5")
    d_in, d_out = model[0].in_features, [m for m in model if isinstance(m, torch.nn.Linear)][-1].out_features
    x = torch.randn(batch, d_in, dtype=torch.float64)
    if w.loss.name == "cross-entropy":
        y = torch.randint(0, d_out, (batch,))
    elif w.loss.name == "bce-with-logits":
        y = torch.randint(0, 2, (batch, 1)).double()
    else:
        y = torch.randn(batch, d_out, dtype=torch.float64)
    return w, model, x, y


@pytest.mark.parametrize("name", list(WORKLOADS))
@pytest.mark.parametrize("batch", [1, 7])
def test_closed_form_gradients_equal_autograd(name, batch):
    w, model, x, y = example(name, batch)
    value = w.loss.value(model(x), y)
    expected = torch.autograd.grad(value, list(model.parameters()))
    got_value, got = backward(model, x, y, w.loss)
    assert got_value.item() == pytest.approx(value.item(), rel=1e-12)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


def test_relu_gradient_is_not_trivially_zero():
    """Guards the comparison above: the MLP gradients it checks are non-zero."""
    w, model, x, y = example("mnist-mlp")
    _, grads = backward(model, x, y, w.loss)
    assert all(g.abs().sum() > 0 for g in grads)
