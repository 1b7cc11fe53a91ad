"""The plain steps: p <- p - lr * dL/dp for every parameter, one step per call on one batch."""
from __future__ import annotations

import torch
from torch import nn

from ..losses import Loss
from ..models import backward
from .spec import Step, StepSpec, frozen


def autograd(model: nn.Module, loss: Loss, lr: float, batch_size: int | None = None) -> Step:
    """loss.backward(), then p -= lr * p.grad under no_grad and the gradient reset: the seed documents' way."""
    params = list(model.parameters())

    def step(x, y):
        value = loss.value(model(x), y)
        value.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return value.detach()

    return step


def optim(model: nn.Module, loss: Loss, lr: float, batch_size: int | None = None) -> Step:
    """torch.optim.SGD with its defaults (no momentum, no weight decay)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        value = loss.value(model(x), y)
        value.backward()
        opt.step()
        return value.detach()

    return step


def closed_form(model: nn.Sequential, loss: Loss, lr: float, batch_size: int | None = None) -> Step:
    """The hand-derived gradient (models.backward), no autograd graph at all."""
    params = frozen(model)

    def step(x, y):
        value, grads = backward(model, x, y, loss)
        torch._foreach_add_(params, grads, alpha=-lr)
        return value

    return step



AUTOGRAD = StepSpec("autograd", autograd, "loss.backward(), then p -= lr * p.grad under no_grad: the seed documents' way",
                    distributed="ddp")
OPTIM = StepSpec("optim", optim, "torch.optim.SGD (no momentum, no weight decay)", distributed="ddp")
CLOSED_FORM = StepSpec("closed-form", closed_form, "the hand-derived gradient (gdcore/models.py), no autograd graph",
                       distributed="allreduce")
