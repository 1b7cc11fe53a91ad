"""gdcore: one training engine for GD, SGD and mini-batch SGD, timed honestly on CPU and CUDA."""
from .config import IMPLS, PATHS, ConfigError, RunConfig
from .train import Trainer, run
from .workloads import WORKLOADS

__all__ = ["RunConfig", "ConfigError", "Trainer", "run", "WORKLOADS", "PATHS", "IMPLS"]
__version__ = "0.1.0"
