"""gdcore: one training engine for GD, SGD and mini-batch SGD, timed honestly on CPU and CUDA.

Names are imported on first use, so that `gdcore` on the command line answers Ctrl-C during start-up cleanly."""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

_NAMES = {  # name -> module that defines it
    "RunConfig": "config", "ConfigError": "errors", "DataError": "errors", "RunSetup": "train", "run": "train",
    "Record": "record", "WORKLOADS": "workloads", "STEPS": "steps", "FEEDS": "feeds",
}
__all__ = [*_NAMES, "__version__"]


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'gdcore' has no attribute {name!r}")
