"""The hardware limit: a device's matrix-multiply peak and memory bandwidth, and an epoch's minimal time from them."""
from __future__ import annotations

import time

import torch
from torch import nn

from .device import resolve_device
from .timer import synced_clock

GEMM_N = 2048  # square float32 products of this size run near the BLAS/cuBLAS peak
COPY_BYTES = 256 * 2**20  # copies this large do not fit in any cache


def _best(fn, clock, repeats: int) -> float:
    fn()  # warm-up: thread pools, cuBLAS handles, page faults
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def measure(device: str = "cpu", repeats: int = 5) -> dict:
    """{'gflops': float32 matrix-multiply peak, 'gbps': copy bandwidth (bytes read + written per second / 1e9)}."""
    dev = resolve_device(device)
    clock = synced_clock(dev)
    a = torch.randn(GEMM_N, GEMM_N, device=dev.torch_device)
    b, c = torch.randn_like(a), torch.empty_like(a)
    t_mm = _best(lambda: torch.mm(a, b, out=c), clock, repeats)
    src = torch.ones(COPY_BYTES // 4, device=dev.torch_device)
    dst = torch.empty_like(src)
    t_copy = _best(lambda: dst.copy_(src), clock, repeats)
    return {"device": dev.type, "device_name": dev.name, "threads": torch.get_num_threads(),
            "gflops": 2 * GEMM_N**3 / t_mm / 1e9, "gbps": 2 * COPY_BYTES / t_copy / 1e9,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def epoch_cost(model: nn.Sequential, n: int, x_bytes_per_sample: int, y_bytes_per_sample: int) -> dict:
    """FLOPs and bytes one epoch of SGD cannot avoid, at any batch size.

    FLOPs: per sample and Linear(in, out), 2·in·out for the forward product, 2·in·out for the weight gradient and,
    except for the first layer, 2·in·out for the input gradient (elementwise work is ignored: it is small).
    Bytes: the training set read once (the parameters are assumed to stay in cache).
    """
    flops, first = 0, True
    for m in model:
        if isinstance(m, nn.Linear):
            flops += (4 if first else 6) * m.in_features * m.out_features
            first = False
    return {"epoch_flops": flops * n, "epoch_bytes": n * (x_bytes_per_sample + y_bytes_per_sample)}


def limit_seconds(cost: dict, peak: dict) -> float | None:
    """The roofline: an epoch takes at least its FLOPs at the peak rate and its bytes at the bandwidth."""
    if not peak or not cost.get("epoch_flops"):
        return None
    return max(cost["epoch_flops"] / (peak["gflops"] * 1e9), cost["epoch_bytes"] / (peak["gbps"] * 1e9))
