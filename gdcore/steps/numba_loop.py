"""The `fused` step's CPU strategy for small steps: one compiled numba loop runs every step of a block
(a whole epoch in the benchmarks) on one thread, since each step needs the last. Batch 1 updates the weights in place;
larger batches take their rows four at a time, so each weight row loaded serves four samples (measured 1.5x faster
at batch 8 than one row at a time), and apply each step straight to the weights (no gradient buffer to clear and add
back). numba_parallel.py splits the steps of this loop across threads where they are large enough."""
from __future__ import annotations

import math

import numpy as np
from torch import nn

from ..errors import ConfigError
from ..feeds import Rows
from ..losses import CROSS_ENTROPY, HALF_SE, MSE, Loss

KINDS = {CROSS_ENTROPY.name: 0, HALF_SE.name: 1, MSE.name: 2}
ROWS = 4  # rows per block in the batched loop (see _forward)

try:
    import numba
except ImportError:  # the GPU machine may bring torch without numba
    numba = None


def _njit(**options):
    """numba.njit when numba is there; the kernels are only compiled (and so only needed) on first use."""
    return numba.njit(**options) if numba is not None else (lambda fn: fn)


@_njit(fastmath=True, cache=True, inline="always")
def _loss_grad(z, labels, T, s, scale, kind):
    """z <- dL/dz for sample (row) s from its output z: (softmax(z) - onehot) scale (kind 0) or (z - t) scale (1, 2)."""
    k = z.shape[0]
    if kind == 0:
        m = z.max()
        total = 0.0
        for j in range(k):
            z[j] = math.exp(z[j] - m)
            total += z[j]
        for j in range(k):
            z[j] = z[j] / total * scale
        z[labels[s]] -= scale
    else:
        for j in range(k):
            z[j] = (z[j] - T[s, j]) * scale


@_njit(fastmath=True, cache=True, inline="always")
def _output_grad(x, labels, T, s, W, b, z, scale, kind):
    """z <- dL/dz for sample s: z = W x + b, then _loss_grad."""
    k, d = W.shape
    for j in range(k):
        acc = b[j]  # zeros without a bias; keeps acc in the array's precision (no float64 promotion)
        for i in range(d):
            acc += W[j, i] * x[i]
        z[j] = acc
    _loss_grad(z, labels, T, s, scale, kind)


@_njit(fastmath=True, cache=True, inline="always")
def _forward(X, order, labels, T, r, W, b, G, t, scale, kind):
    """G[t:t + ROWS] <- dL/dz of the ROWS samples order[r:r + ROWS]: the four outputs of each weight row in one pass
    over it (each weight loaded once serves four samples)."""
    k, d = W.shape
    x0, x1, x2, x3 = X[order[r]], X[order[r + 1]], X[order[r + 2]], X[order[r + 3]]
    for j in range(k):
        a0 = a1 = a2 = a3 = b[j]
        for i in range(d):
            w = W[j, i]
            a0 += w * x0[i]
            a1 += w * x1[i]
            a2 += w * x2[i]
            a3 += w * x3[i]
        G[t, j], G[t + 1, j], G[t + 2, j], G[t + 3, j] = a0, a1, a2, a3
    for u in range(ROWS):
        _loss_grad(G[t + u], labels, T, order[r + u], scale, kind)


@_njit(fastmath=True, cache=True, inline="always")
def _update(X, order, r, W, b, G, t, lr, has_bias):
    """W <- W - lr sum of g_s x_s^T (b likewise) over the ROWS samples order[r:r + ROWS], in one pass over W."""
    k, d = W.shape
    x0, x1, x2, x3 = X[order[r]], X[order[r + 1]], X[order[r + 2]], X[order[r + 3]]
    for j in range(k):
        g0, g1, g2, g3 = lr * G[t, j], lr * G[t + 1, j], lr * G[t + 2, j], lr * G[t + 3, j]
        for i in range(d):
            W[j, i] -= g0 * x0[i] + g1 * x1[i] + g2 * x2[i] + g3 * x3[i]
        if has_bias:
            b[j] -= g0 + g1 + g2 + g3


def _linear_sgd(X, order, labels, T, W, b, has_bias, lr, bs, kind):
    """Every SGD step over the rows X[order] (read in place, never gathered), batches of bs: W <- W - lr dL/dW,
    b <- b - lr dL/db.

    z = W x + b per sample; dL/dz = (softmax(z) - onehot) / B (kind 0), (z - t) / B (kind 1), 2 (z - t) / (B k) (2).
    A batch above 1 first computes every sample's dL/dz with the weights before the step, then applies them to the
    weights four samples at a time: no gradient buffer to clear and add back.
    """
    n, d = order.shape[0], X.shape[1]
    k = W.shape[0]
    G = np.empty((max(1, min(bs, n)), k), W.dtype)
    for start in range(0, n, bs):
        end = min(start + bs, n)
        B = end - start
        scale = 1.0 / B if kind != 2 else 2.0 / (B * k)
        full = B - B % ROWS  # rows taken four at a time; the rest one at a time
        for t in range(0, full, ROWS):
            _forward(X, order, labels, T, start + t, W, b, G, t, scale, kind)
        for t in range(full, B):
            _output_grad(X[order[start + t]], labels, T, order[start + t], W, b, G[t], scale, kind)
        for t in range(0, full, ROWS):
            _update(X, order, start + t, W, b, G, t, lr, has_bias)
        for t in range(full, B):
            x = X[order[start + t]]
            for j in range(k):
                step = lr * G[t, j]
                for i in range(d):
                    W[j, i] -= step * x[i]
                if has_bias:
                    b[j] -= step


_compiled: dict = {}


def compiled(fn=None, parallel: bool = False):
    """A numba kernel (the one-thread loop unless `fn` is given), compiled on first use and cached on disk."""
    if numba is None:
        raise ConfigError("step 'fused' on the CPU needs numba (pip install numba); allowed without it: autograd, "
                          "optim, closed-form")
    fn = fn or _linear_sgd
    if fn not in _compiled:
        _compiled[fn] = numba.njit(fastmath=True, cache=True, nogil=True, parallel=parallel)(fn)
    return _compiled[fn]


def numba_loop(model: nn.Sequential, loss: Loss, lr: float, batch_size: int, kernel=None):
    """The step around a kernel with _linear_sgd's arguments (by default _linear_sgd itself, compiled)."""
    lin, kind, kernel = model[0], KINDS[loss.name], kernel or compiled()
    W = lin.weight.detach().numpy()  # views: the kernel updates the model's own storage
    b = lin.bias.detach().numpy() if lin.bias is not None else np.zeros(W.shape[0], W.dtype)
    dummy_labels, dummy_targets = np.zeros(1, np.int64), np.zeros((1, W.shape[0]), W.dtype)
    lr_ = W.dtype.type(lr)

    def run(X, order, labels, targets, W, b):
        kernel(X, order, labels, targets, W, b, lin.bias is not None, lr_, batch_size, kind)

    # Compile (or load from numba's cache) now, on one row and copies of the weights: outside any timed region.
    run(np.zeros((1, W.shape[1]), W.dtype), np.zeros(1, np.int64), dummy_labels, dummy_targets, W.copy(), b.copy())

    def step(x, y):
        """x, y: tensors (their rows in order) or gdcore.feeds.Rows (rows read through the permutation)."""
        if isinstance(x, Rows):
            X, Y, order = x.data.numpy(), y.data.numpy(), x.index.numpy()
        else:
            X, Y = x.numpy(), y.numpy()
            order = np.arange(X.shape[0])  # in order (microseconds against the DataLoader's seconds per epoch)
        if kind == 0:
            run(X, order, Y, dummy_targets, W, b)
        else:
            run(X, order, dummy_labels, Y, W, b)

    step.strategy = "numba-loop"
    return step
