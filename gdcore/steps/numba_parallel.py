"""The `fused` step's CPU strategy for mid-sized batches: numba_loop.py's loop with each step split across the
threads. A step's forward pass splits the batch's rows (four at a time, as in the one-thread loop) between the
threads; its update splits the weights' columns between them, so each thread writes its own part of W and no two
threads write the same place. The threads meet twice per step, which pays once a step has about a million
multiply-adds (MNIST batch 128): one MNIST epoch at batch 512 took 0.035 s against 0.053 s on one thread, measured
in one process on 2 cores."""
from __future__ import annotations

import numpy as np
from torch import nn

from ..losses import Loss
from .numba_loop import ROWS, _forward, _output_grad, compiled, numba, numba_loop

prange = numba.prange if numba is not None else range


def _linear_sgd_parallel(X, order, labels, T, W, b, has_bias, lr, bs, kind, parts):
    """The steps of numba_loop._linear_sgd (same arguments, same math), each split across `parts` threads."""
    n, d = order.shape[0], X.shape[1]
    k = W.shape[0]
    G = np.empty((max(1, min(bs, n)), k), W.dtype)
    seg = -(-d // parts)  # columns of W per thread in the update
    for start in range(0, n, bs):
        end = min(start + bs, n)
        B = end - start
        scale = 1.0 / B if kind != 2 else 2.0 / (B * k)
        full = B - B % ROWS
        for blk in prange(full // ROWS):  # every sample's dL/dz, with the weights before the step
            _forward(X, order, labels, T, start + blk * ROWS, W, b, G, blk * ROWS, scale, kind)
        for t in range(full, B):
            _output_grad(X[order[start + t]], labels, T, order[start + t], W, b, G[t], scale, kind)
        for p in prange(parts):  # each thread its columns lo..hi of W, over every sample of the batch
            lo, hi = p * seg, min(d, (p + 1) * seg)
            # slices, so that the loops run from 0 and numba can vectorize them (no negative-index check)
            for t in range(0, full, ROWS):
                r = start + t
                x0, x1 = X[order[r], lo:hi], X[order[r + 1], lo:hi]
                x2, x3 = X[order[r + 2], lo:hi], X[order[r + 3], lo:hi]
                for j in range(k):
                    w = W[j, lo:hi]
                    g0, g1, g2, g3 = lr * G[t, j], lr * G[t + 1, j], lr * G[t + 2, j], lr * G[t + 3, j]
                    for i in range(hi - lo):
                        w[i] -= g0 * x0[i] + g1 * x1[i] + g2 * x2[i] + g3 * x3[i]
            for t in range(full, B):
                x = X[order[start + t], lo:hi]
                for j in range(k):
                    w = W[j, lo:hi]
                    g = lr * G[t, j]
                    for i in range(hi - lo):
                        w[i] -= g * x[i]
        if has_bias:
            for t in range(B):
                for j in range(k):
                    b[j] -= lr * G[t, j]


def numba_parallel(model: nn.Sequential, loss: Loss, lr: float, batch_size: int, threads: int):
    kernel = compiled(_linear_sgd_parallel, parallel=True)

    def run(*args):
        numba.set_num_threads(threads)  # per calling thread: the run's thread count, not numba's default
        kernel(*args, threads)

    step = numba_loop(model, loss, lr, batch_size, kernel=run)
    step.strategy = f"numba-parallel-{threads}-threads"
    return step
