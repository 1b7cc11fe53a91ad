"""The `fused` step's CPU strategy for batches below GEMM_BATCH: one compiled numba loop runs every step of a block
(a whole epoch in the benchmarks), on one thread for small batches (each step needs the last), across threads within
each batch from PARALLEL_BATCH."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..losses import CROSS_ENTROPY, HALF_SE, MSE, Loss

KINDS = {CROSS_ENTROPY.name: 0, HALF_SE.name: 1, MSE.name: 2}
PARALLEL_BATCH = 32  # from this batch size on, splitting each batch across threads pays for the thread wake-ups

try:
    import numba
except ImportError:  # the GPU machine may bring torch without numba
    numba = None


def _njit(**options):
    """numba.njit when numba is there; the kernels are only compiled (and so only needed) on first use."""
    return numba.njit(**options) if numba is not None else (lambda fn: fn)


@_njit(fastmath=True, cache=True, inline="always")
def _output_grad(x, labels, T, s, W, b, z, scale, kind):
    """z <- dL/dz for sample s: z = W x + b, then (softmax(z) - onehot) scale (kind 0) or (z - t) scale (1, 2)."""
    k, d = W.shape
    for j in range(k):
        acc = b[j]  # zeros without a bias; keeps acc in the array's precision (no float64 promotion)
        for i in range(d):
            acc += W[j, i] * x[i]
        z[j] = acc
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


def _linear_sgd(X, labels, T, W, b, has_bias, lr, bs, kind):
    """Every SGD step over the rows of X in order, batches of bs: W <- W - lr dL/dW, b <- b - lr dL/db.

    z = W x + b per sample; dL/dz = (softmax(z) - onehot) / B (kind 0), (z - t) / B (kind 1), 2 (z - t) / (B k) (2).
    """
    n, d = X.shape
    k = W.shape[0]
    z = np.empty(k, W.dtype)
    dW = np.zeros_like(W)
    db = np.zeros(k, W.dtype)
    for start in range(0, n, bs):
        end = min(start + bs, n)
        B = end - start
        scale = 1.0 / B if kind != 2 else 2.0 / (B * k)
        if B > 1:
            dW[:] = 0
            db[:] = 0
        for s in range(start, end):
            x = X[s]
            _output_grad(x, labels, T, s, W, b, z, scale, kind)
            if B == 1:  # SGD: update in place, no accumulator
                for j in range(k):
                    step = lr * z[j]
                    for i in range(d):
                        W[j, i] -= step * x[i]
                    if has_bias:
                        b[j] -= step
            else:
                for j in range(k):
                    g = z[j]
                    for i in range(d):
                        dW[j, i] += g * x[i]
                    db[j] += g
        if B > 1:
            for j in range(k):
                for i in range(d):
                    W[j, i] -= lr * dW[j, i]
                if has_bias:
                    b[j] -= lr * db[j]


def _linear_sgd_batched(X, labels, T, W, b, has_bias, lr, bs, kind):
    """The same steps as _linear_sgd for batches above 1, across threads: per batch, the output gradients of its
    samples in parallel, then the rows of W in parallel, each row updated by  W[j] -= lr sum_s G[s, j] x_s."""
    n, d = X.shape
    k = W.shape[0]
    G = np.empty((bs, k), W.dtype)
    for start in range(0, n, bs):
        B = min(start + bs, n) - start
        scale = 1.0 / B if kind != 2 else 2.0 / (B * k)
        for t in numba.prange(B):
            _output_grad(X[start + t], labels, T, start + t, W, b, G[t], scale, kind)
        for j in numba.prange(k):
            gb = 0.0
            for t in range(B):
                g = lr * G[t, j]
                gb += g
                x = X[start + t]
                for i in range(d):
                    W[j, i] -= g * x[i]
            if has_bias:
                b[j] -= gb


_compiled: dict = {}


def compiled(batched: bool):
    """The numba kernel, compiled on first use (and cached on disk); threads follow torch's thread count."""
    if numba is None:
        raise ConfigError("step 'fused' on the CPU needs numba (pip install numba); allowed without it: autograd, "
                          "optim, closed-form")
    if batched not in _compiled:
        fn, parallel = (_linear_sgd_batched, True) if batched else (_linear_sgd, False)
        _compiled[batched] = numba.njit(fastmath=True, cache=True, nogil=True, parallel=parallel)(fn)
    numba.set_num_threads(min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    return _compiled[batched]


def _cpu_loop(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    lin, kind, kernel = model[0], KINDS[loss.name], compiled(batched=batch_size >= PARALLEL_BATCH)
    W = lin.weight.detach().numpy()  # views: the kernel updates the model's own storage
    b = lin.bias.detach().numpy() if lin.bias is not None else np.zeros(W.shape[0], W.dtype)
    dummy_labels, dummy_targets = np.zeros(1, np.int64), np.zeros((1, 1), W.dtype)
    lr_ = W.dtype.type(lr)

    def step(x, y):
        X = x.numpy()
        if kind == 0:
            kernel(X, y.numpy(), dummy_targets, W, b, lin.bias is not None, lr_, batch_size, kind)
        else:
            kernel(X, dummy_labels, y.numpy(), W, b, lin.bias is not None, lr_, batch_size, kind)

    return step


def numba_loop(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    lin, kind, kernel = model[0], KINDS[loss.name], compiled(batched=batch_size >= PARALLEL_BATCH)
    W = lin.weight.detach().numpy()  # views: the kernel updates the model's own storage
    b = lin.bias.detach().numpy() if lin.bias is not None else np.zeros(W.shape[0], W.dtype)
    dummy_labels, dummy_targets = np.zeros(1, np.int64), np.zeros((1, W.shape[0]), W.dtype)
    lr_ = W.dtype.type(lr)

    def run(X, labels, targets, W, b):
        kernel(X, labels, targets, W, b, lin.bias is not None, lr_, batch_size, kind)

    # Compile (or load from numba's cache) now, on one row and copies of the weights: outside any timed region.
    run(np.zeros((1, W.shape[1]), W.dtype), dummy_labels, dummy_targets, W.copy(), b.copy())

    def step(x, y):
        if kind == 0:
            run(x.numpy(), y.numpy(), dummy_targets, W, b)
        else:
            run(x.numpy(), dummy_labels, y.numpy(), W, b)

    step.strategy = "numba-loop-threaded" if batch_size >= PARALLEL_BATCH else "numba-loop"
    return step
