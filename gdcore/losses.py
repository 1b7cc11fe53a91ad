"""Losses, each with its value and its hand-derived gradient with respect to the model's output; and the metrics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


@dataclass(frozen=True)
class Loss:
    name: str
    value: Callable[[Tensor, Tensor], Tensor]  # (output, y) -> scalar, differentiable by autograd
    grad: Callable[[Tensor, Tensor], Tensor]  # (output, y) -> dL/doutput, by hand
    # "mean": a batch's loss is the mean of its samples' (data parallelism weights a rank's share by its size);
    # "sum": their sum (the ranks' gradients add up)
    reduction: str = "mean"


def _ce_grad(z, y):
    """CE = mean_i -log softmax(z_i)[y_i];  dCE/dz = (softmax(z) - onehot(y)) / B."""
    g = torch.softmax(z, dim=1)
    g[torch.arange(z.shape[0], device=z.device), y] -= 1
    return g.div_(z.shape[0])


CROSS_ENTROPY = Loss("cross-entropy", F.cross_entropy, _ce_grad)
# MSE = mean over all elements of (out - y)^2;  dMSE/dout = 2 (out - y) / numel.
MSE = Loss("mse", F.mse_loss, lambda o, y: (o - y).mul_(2.0 / o.numel()))
# squared error / 2, mean over the batch (seed 002);  d/dout = (out - y) / B.
HALF_SE = Loss("half-squared-error", lambda o, y: (o - y).pow(2).sum() / (2 * o.shape[0]), lambda o, y: (o - y).div_(o.shape[0]))
# sum of squared errors (seed 004);  d/dout = 2 (out - y).
SSE = Loss("sum-squared-error", lambda o, y: (o - y).pow(2).sum(), lambda o, y: (o - y).mul_(2.0), "sum")
# BCE with logits, mean;  d/dz = (sigmoid(z) - y) / numel.
BCE_LOGITS = Loss(
    "bce-with-logits", F.binary_cross_entropy_with_logits, lambda z, y: (torch.sigmoid(z) - y).div_(z.numel())
)


def accuracy(out: Tensor, y: Tensor) -> Tensor:
    """Share of samples whose class (argmax, or logit > 0 for one output) equals the label."""
    pred = out.argmax(dim=1) if out.shape[1] > 1 else (out > 0).to(y.dtype)
    return (pred == y).float().mean()


@dataclass(frozen=True)
class Metric:
    name: str  # "test_accuracy", "train_loss", "test_mse"
    higher_is_better: bool
    low: float  # the metric's range, for checking targets
    high: float

    def reached(self, value: float, target: float) -> bool:
        return value >= target if self.higher_is_better else value <= target

    def check_target(self, target: float) -> str | None:
        import math

        ok = isinstance(target, (int, float)) and math.isfinite(target) and self.low <= target <= self.high
        if ok:
            return None
        hi = "1" if self.high == 1 else "inf"
        return f"target {target!r} is outside the range of {self.name}; allowed: a number in [{self.low:g}, {hi}]"


TEST_ACCURACY = Metric("test_accuracy", True, 0.0, 1.0)
TRAIN_LOSS = Metric("train_loss", False, 0.0, float("inf"))
TEST_MSE = Metric("test_mse", False, 0.0, float("inf"))
