"""Models as nn.Sequential stacks, their initialisations, and a hand-derived backward pass for every stack."""
from __future__ import annotations

import math

import torch
from torch import nn

from .errors import ConfigError

LAYERS = (nn.Linear, nn.ReLU, nn.Sigmoid, nn.Softmax)
INITS = "default, zeros, normal:STD, const:V, xavier, he"


def mlp(sizes: list[int], *, bias: bool = True, head: tuple[nn.Module, ...] = ()) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them, then the optional head (Sigmoid, Softmax)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(a, b, bias=bias))
    return nn.Sequential(*layers, *head)


def check_init(spec) -> tuple[str, float | None]:
    """(kind, value) of an init spec; ConfigError naming what is allowed when it is not one."""
    if not isinstance(spec, str):
        raise ConfigError(f"invalid init {spec!r}; allowed: {INITS}")
    kind, _, arg = spec.partition(":")
    try:
        value = float(arg) if arg else None
    except ValueError:
        value = math.nan
    known = {"default": False, "zeros": False, "xavier": False, "he": False, "normal": True, "const": True}
    if kind not in known or known[kind] != (value is not None) or (value is not None and not math.isfinite(value)) \
            or (kind == "normal" and not value > 0):
        raise ConfigError(f"invalid init {spec!r}; allowed: {INITS} (STD above 0, V finite)")
    return kind, value


def apply_init(model: nn.Sequential, spec: str) -> None:
    """Re-initialises every Linear: weights by `spec`, biases to zero (except for "default", nn.Linear's own)."""
    kind, value = check_init(spec)
    if kind == "default":
        return
    with torch.no_grad():
        for m in model:
            if not isinstance(m, nn.Linear):
                continue
            w = m.weight
            if kind == "zeros":
                w.zero_()
            elif kind == "normal":
                w.normal_(0.0, value)
            elif kind == "const":
                w.fill_(value)
            elif kind == "xavier":
                nn.init.xavier_normal_(w)
            elif kind == "he":
                nn.init.kaiming_normal_(w, nonlinearity="relu")
            if m.bias is not None:
                m.bias.zero_()


def build(factory, init: str, seed: int, dtype: torch.dtype, device: torch.device) -> nn.Sequential:
    """Builds on the CPU from `seed` (the same weights on every device), then moves to the device."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = factory()
        apply_init(model, init)
    return model.to(device=device, dtype=dtype)


@torch.no_grad()
def backward(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, loss) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The loss and its gradients for model.parameters(), in order, by the chain rule written out per layer.

    Linear  o = a W^T + b:       dW = g^T a,  db = sum_i g_i,  da = g W
    ReLU    o = max(a, 0):       da = g * [a > 0]
    Sigmoid o = s(a):            da = g * o (1 - o)
    Softmax o = softmax(a):      da = o * (g - sum_j g_j o_j)
    """
    acts = [x]  # acts[i] is the input of layer i, acts[i + 1] its output
    for m in model:
        acts.append(m(acts[-1]))
    value = loss.value(acts[-1], y)
    g = loss.grad(acts[-1], y)
    grads: list[torch.Tensor] = []
    for i in range(len(model) - 1, -1, -1):
        m, a_in, out = model[i], acts[i], acts[i + 1]
        if isinstance(m, nn.Linear):
            if m.bias is not None:
                grads.append(g.sum(0))
            grads.append(g.t() @ a_in)
            if i:  # the data need no gradient
                g = g @ m.weight
        elif isinstance(m, nn.ReLU):
            g = g * (a_in > 0)
        elif isinstance(m, nn.Sigmoid):
            g = g * out * (1 - out)
        elif isinstance(m, nn.Softmax):
            g = out * (g - (g * out).sum(dim=1, keepdim=True))
        else:
            raise TypeError(f"no closed-form backward for {type(m).__name__}")
    grads.reverse()
    return value, grads
