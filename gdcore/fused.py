"""The `fused` step: many SGD steps per call, for linear models (softmax and linear regression).

Same math as `closed-form`, in the same sample order, written for speed:
- CPU, batches below GEMM_BATCH: one compiled numba loop runs every step of a block (a whole epoch in the benchmarks),
  on one thread for small batches (each step needs the last), across threads within each batch from PARALLEL_BATCH;
- CPU, larger batches (GD): one pass over the batch in cache-sized chunks, forward product and gradient product on
  the chunk while it is in cache, into preallocated buffers, so the data are read from memory once per step;
- CUDA: the closed-form step captured once as a CUDA graph and replayed, one launch per step instead of dozens.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .config import ConfigError
from .losses import CROSS_ENTROPY, HALF_SE, MSE, Loss

KINDS = {CROSS_ENTROPY.name: 0, HALF_SE.name: 1, MSE.name: 2}
GEMM_BATCH = 256  # from this batch size on, BLAS products beat the per-sample compiled loop
PARALLEL_BATCH = 32  # from this batch size on, splitting each batch across threads pays for the thread wake-ups
CHUNK = 1024  # rows per chunk of the GEMM path: 1024 x 784 floats is 3.2 MB, a cache-sized slice (measured best)

try:
    import numba
except ImportError:  # the GPU machine may bring torch without numba
    numba = None


def check_supported(model: nn.Sequential, loss: Loss) -> None:
    if len(model) != 1 or not isinstance(model[0], nn.Linear) or loss.name not in KINDS:
        raise ConfigError("impl 'fused' supports linear models with cross-entropy, squared error / 2 or MSE "
                          "(mnist-logreg, airfoil-linreg, toy-linear); allowed for this workload: autograd, optim, "
                          "closed-form")


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
        raise ConfigError("impl 'fused' on the CPU needs numba (pip install numba); allowed without it: autograd, "
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


def _gemm(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    lin, kind = model[0], KINDS[loss.name]
    W, b = lin.weight.detach(), (lin.bias.detach() if lin.bias is not None else None)
    k = W.shape[0]
    gW, gb = torch.empty_like(W), torch.empty(k, dtype=W.dtype)
    zbuf = torch.empty(min(CHUNK, batch_size), k, dtype=W.dtype)

    def one_step(x, y):
        B = x.shape[0]
        gW.zero_()
        gb.zero_()
        for c in range(0, B, CHUNK):
            xc, yc = x[c:c + CHUNK], y[c:c + CHUNK]
            z = zbuf[:xc.shape[0]]
            torch.mm(xc, W.t(), out=z)
            if b is not None:
                z.add_(b)
            if kind == 0:
                z.sub_(z.amax(1, keepdim=True)).exp_()
                z.div_(z.sum(1, keepdim=True))
                z[torch.arange(z.shape[0]), yc] -= 1
                z.div_(B)
            else:
                z.sub_(yc).mul_(1.0 / B if kind == 1 else 2.0 / (B * k))
            gW.addmm_(z.t(), xc)  # while the chunk is still in cache
            gb.add_(z.sum(0))
        W.sub_(gW, alpha=lr)
        if b is not None:
            b.sub_(gb, alpha=lr)

    def step(x, y):
        for i in range(0, x.shape[0], batch_size):
            one_step(x[i:i + batch_size], y[i:i + batch_size])

    return step


def _cuda_graph(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    from .steps import closed_form  # steps.py lists this module's step: import late

    plain = closed_form(model, loss, lr)
    graph = None
    static: list[torch.Tensor] = []

    def capture(x, y):
        nonlocal graph
        static[:] = [x.clone(), y.clone()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        snapshot = [p.detach().clone() for p in model.parameters()]
        with torch.cuda.stream(side):  # warm-up outside the graph, as CUDA graph capture requires
            plain(*static)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            plain(*static)
        with torch.no_grad():  # undo the warm-up and capture updates: the graph has not run a real step yet
            for p, s in zip(model.parameters(), snapshot):
                p.copy_(s)

    def step(x, y):
        for i in range(0, x.shape[0], batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            if xb.shape[0] != batch_size:  # a short last batch runs eagerly
                plain(xb, yb)
                continue
            if graph is None:
                capture(xb, yb)
            static[0].copy_(xb)
            static[1].copy_(yb)
            graph.replay()

    return step


def fused(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    """A step over a block of consecutive batches of `batch_size` (see module docstring)."""
    check_supported(model, loss)
    for p in model.parameters():
        p.requires_grad_(False)
    if model[0].weight.is_cuda:
        return _cuda_graph(model, loss, lr, batch_size)
    if batch_size >= GEMM_BATCH:
        return _gemm(model, loss, lr, batch_size)
    return _cpu_loop(model, loss, lr, batch_size)
