"""The `fused` step: many SGD steps per call for linear models (softmax and linear regression), the same math as
`closed-form` in the same sample order, written for speed. It picks one of three strategies, recorded as `strategy`:
- CPU, batches below GEMM_BATCH: numba_loop.py, every step of a block in one compiled loop on one thread;
- CPU, larger batches: chunked_gemm.py, one cache-friendly pass over the batch per step, the rows of a large batch
  split across the threads;
- CUDA: cuda_graph.py, the closed-form step captured once and replayed.
"""
from __future__ import annotations

from torch import nn

from ..losses import Loss
from .numba_loop import KINDS, numba
from .spec import StepSpec, frozen, linear_model

GEMM_BATCH = 256  # from this batch size on, BLAS products beat the per-sample compiled loop


def fused(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    """A step over a block of consecutive batches of `batch_size` (see module docstring)."""
    frozen(model)
    if model[0].weight.is_cuda:
        from .cuda_graph import cuda_graph

        return cuda_graph(model, loss, lr, batch_size)
    if batch_size >= GEMM_BATCH:
        from .chunked_gemm import chunked_gemm

        return chunked_gemm(model, loss, lr, batch_size)
    from .numba_loop import numba_loop

    return numba_loop(model, loss, lr, batch_size)


def supports(workload, device: str, batch_size, dtype: str) -> str | None:
    if linear_model(workload) is None or workload.loss.name not in KINDS:
        return "it covers one Linear layer with cross-entropy, squared error / 2 or MSE"
    small = batch_size != "full" and batch_size < GEMM_BATCH
    if device == "cpu" and small and numba is None:
        return "its CPU loop needs numba (pip install numba)"
    return None


# The CPU strategies read rows through the permutation from batch 2. Batch 1 streams its rows one step at a time:
# there the feed's bulk gather (both cores, into buffers made once) beats it (measured 0.077 against 0.092 s per
# MNIST epoch). The CUDA graph replays on contiguous batches, which the feed's gather on the GPU gives it.
SPEC = StepSpec("fused", fused, "linear models: many steps per call (numba loop, chunked GEMM, or a CUDA graph)",
                consumes="block", supports=supports, reads_rows=lambda batch_size, device: device == "cpu" and batch_size > 1)
