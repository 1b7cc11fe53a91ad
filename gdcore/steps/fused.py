"""The `fused` step: many SGD steps per call for linear models (softmax and linear regression), the same math as
`closed-form` in the same sample order, written for speed. It picks one of four ways of running, recorded as
the run's `strategy` (on the CPU the function `strategy` below picks):
- CPU, small steps or one thread: numba_loop.py, every step of a block in one compiled loop on one thread;
- CPU, steps of PARALLEL_WORK multiply-adds or more: numba_parallel.py, that loop with each step split across the
  threads;
- CPU, batches of GEMM_BATCH rows or more (or no numba): chunked_gemm.py, one cache-friendly pass over the batch per
  step in BLAS products, the rows of a large batch split across the threads;
- CUDA: cuda_graph.py, the closed-form step captured once and replayed.
"""
from __future__ import annotations

import torch
from torch import nn

from ..losses import Loss
from .numba_loop import KINDS, numba
from .spec import StepSpec, frozen, linear_model

# Thresholds measured on one MNIST epoch (2 cores, each pair in one process, s per epoch):
# - the loop split across 2 threads against one thread: batch 64 0.050 against 0.052, 128 0.036 against 0.050, 512
#   0.035-0.041 against 0.053-0.054 (a batch-64 step is 0.5 million multiply-adds, batch 128 one million);
# - chunked GEMM (2 threads) against the split loop: batch 4096 0.047 against 0.036, 8192 0.046 against 0.037, 16384
#   0.043 against 0.040, full batch (60000) 0.029 against 0.034.
PARALLEL_WORK = 10**6  # multiply-adds per step (batch x inputs x outputs) from which the loop is split
GEMM_BATCH = 16384  # rows per batch from which BLAS products beat the loop


def strategy(batch_size: int, inputs: int, outputs: int, threads: int, has_numba: bool = True) -> str:
    """Which CPU strategy runs a step of `batch_size` rows on a Linear(inputs, outputs) with `threads` threads."""
    if batch_size >= GEMM_BATCH or not has_numba:
        return "chunked-gemm"
    if threads > 1 and batch_size * inputs * outputs >= PARALLEL_WORK:
        return "numba-parallel"
    return "numba-loop"


def fused(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    """A step over a block of consecutive batches of `batch_size` (see module docstring)."""
    frozen(model)
    if model[0].weight.is_cuda:
        from .cuda_graph import cuda_graph

        return cuda_graph(model, loss, lr, batch_size)
    threads = min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS) if numba is not None else 1
    way = strategy(batch_size, model[0].in_features, model[0].out_features, threads, numba is not None)
    if way == "chunked-gemm":
        from .chunked_gemm import chunked_gemm

        return chunked_gemm(model, loss, lr, batch_size)
    if way == "numba-parallel":
        from .numba_parallel import numba_parallel

        return numba_parallel(model, loss, lr, batch_size, threads)
    from .numba_loop import numba_loop

    return numba_loop(model, loss, lr, batch_size)


def supports(workload, device: str, batch_size, dtype: str) -> str | None:
    if linear_model(workload) is None or workload.loss.name not in KINDS:
        return "it covers one Linear layer with cross-entropy, squared error / 2 or MSE"
    small = batch_size != "full" and batch_size < GEMM_BATCH
    if device == "cpu" and small and numba is None:  # only chunked GEMM would be left: slow for small batches
        return "its CPU loop needs numba (pip install numba)"
    return None


# The CPU strategies read rows through the permutation from batch 2. Batch 1 streams its rows one step at a time:
# there the feed's bulk gather (both cores, into buffers made once) beats it (measured 0.077 against 0.092 s per
# MNIST epoch). The CUDA graph replays on contiguous batches, which the feed's gather on the GPU gives it.
SPEC = StepSpec("fused", fused,
                "linear models: many steps per call (a numba loop on one or more threads, chunked GEMM, or a CUDA graph)",
                consumes="block", supports=supports,
                reads_rows=lambda batch_size, device: device == "cpu" and batch_size > 1)
