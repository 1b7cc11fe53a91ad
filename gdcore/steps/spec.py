"""What every step implementation declares: one signature, and what it supports (benchopt's `skip()`)."""
from __future__ import annotations

import importlib
import importlib.util
import sys

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from ..errors import ConfigError
from ..losses import Loss

if TYPE_CHECKING:
    from ..workloads import Workload

# make(model, loss, lr, batch_size) -> step(x, y). A step updates the model's parameters in place and returns
# nothing the loop reads: reading a tensor's value would synchronize the device.
Step = Callable[[torch.Tensor, torch.Tensor], object]
Make = Callable[[nn.Sequential, Loss, float, int], Step]


def everything(workload: "Workload", device: str, batch_size: int | str, dtype: str) -> str | None:
    return None


@dataclass(frozen=True)
class StepSpec:
    name: str
    make: Make
    about: str  # one line for --help and the README
    # "batch": one call is one step on one batch; "block": one call runs every step on the consecutive batches
    # between two evaluations (the loop hands it those samples at once)
    consumes: str = "batch"
    # (batch size, device) -> True when there it takes gdcore.feeds.Rows (rows read through the epoch's permutation,
    # never gathered) as well as tensors
    reads_rows: Callable[[int, str], bool] = lambda batch_size, device: False
    # (workload, device, batch size, dtype) -> None when supported, else the reason it is not
    supports: Callable[["Workload", str, int | str, str], str | None] = everything
    family: str = "gdcore"  # "gdcore": the engine's steps; "reference": a yardstick beside them (the C loop)
    # how it runs on several data-parallel processes: "ddp" (the model wrapped in DistributedDataParallel),
    # "allreduce" (the hand-derived gradients all-reduced), or None (it cannot)
    distributed: str | None = None
    # True when it computes the same SGD steps as closed-form (tested to follow autograd's trajectory); False for a
    # peer whose model or update differs (scikit-learn's one-vs-rest SGDClassifier): timed, never compared
    same_math: bool = True


def linear_model(workload: "Workload") -> nn.Linear | None:
    """The workload's single Linear layer when its model is exactly one (built on the meta device: no memory)."""
    with torch.device("meta"):
        model = workload.model()
    return model[0] if len(model) == 1 and isinstance(model[0], nn.Linear) else None


def frozen(model: nn.Module) -> list[torch.Tensor]:
    """The model's parameters with autograd off: a step that writes its own gradients updates them in place."""
    params = list(model.parameters())
    for p in params:
        p.requires_grad_(False)
    return params


INSTALL = "pip install -e .[peers]"  # what brings the optional peer libraries


def missing(module: str, what: str) -> str | None:
    """Why `module` cannot be imported, or None: cheap (no import); sys.modules[module] = None counts as missing."""
    if module in sys.modules:
        return None if sys.modules[module] is not None else f"{what} is not installed: {INSTALL}"
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    return None if found else f"{what} is not installed: {INSTALL}"


def require(module: str, step: str, what: str):
    """The imported module, or ConfigError saying that step `step` needs `what` and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(f"step {step!r} needs {what} ({e}): {INSTALL}") from e
