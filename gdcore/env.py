"""Facts about the environment that every result records."""
from __future__ import annotations

import platform

import torch

from .device import cpu_name


def environment() -> dict:
    """Versions, thread count and devices: the same facts in run records and in the benchmarks' machine_info."""
    cuda = torch.cuda.is_available()
    return {
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "gpu_name": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_name": cpu_name(),
        "threads": torch.get_num_threads(),
        "python_version": platform.python_version(),
    }
