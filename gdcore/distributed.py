"""Data-parallel mini-batch SGD on torch.distributed, inside one rank: K processes (ranks) run the same loop, each on
its contiguous share of every global batch; the gradients are averaged across ranks, weighted by share, so a run
with K ranks and global batch B follows the trajectory of one process with batch B. Starting the ranks is
gdcore/launch.py's job."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn

from .errors import ConfigError
from .losses import Loss
from .models import backward
from .steps.spec import frozen

def process_group(world_size: int) -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) without data parallelism."""
    if world_size == 1:
        return 0, 1
    if not dist.is_available() or not dist.is_initialized():
        raise ConfigError(f"world_size {world_size} needs a process group; allowed: `gdcore run --world-size "
                          f"{world_size}`, torchrun, or gdcore.launch.launch(cfg) from Python")
    if dist.get_world_size() != world_size:
        raise ConfigError(f"invalid world_size {world_size}; allowed: the process group's size, "
                          f"{dist.get_world_size()}")
    return dist.get_rank(), world_size


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", dist.get_rank()))


def data_parallel(spec, model: nn.Sequential, loss: Loss, lr: float, batch_size: int, allreduce: bool = True):
    """The step `spec` on this rank's share of a global batch. The loop sets `step.global_size` before each call.

    A mean loss's gradient over the global batch is sum_r (n_r / B) g_r; a sum loss's is sum_r g_r. "ddp" steps scale
    their share's loss by K n_r / B (or K) and let DistributedDataParallel average; "allreduce" steps scale their
    hand-derived gradients by n_r / B (or 1) and all-reduce the sum. allreduce=False skips the communication (to
    measure its cost; the ranks then drift apart)."""
    world, mean = dist.get_world_size(), loss.reduction == "mean"
    template: list = []  # one real row, for a rank whose share of a short last batch is empty

    def share_weight(x, size):
        if not template:
            template[:] = [x[:1].clone(), None]
        return (x.shape[0] / size if mean else 1.0)

    if spec.distributed == "ddp":
        ddp = nn.parallel.DistributedDataParallel(
            model, device_ids=[local_rank()] if next(model.parameters()).is_cuda else None)
        state = {"weight": 1.0}
        scaled = Loss(loss.name, lambda o, y: loss.value(o, y) * state["weight"], loss.grad, loss.reduction)
        inner = spec.make(ddp, scaled, lr, batch_size)

        def step(x, y):
            w = share_weight(x, step.global_size)
            if x.shape[0] == 0:  # take part in the all-reduce with a zero gradient
                x, y = template[0], template[1]
                w = 0.0
            elif template[1] is None:
                template[1] = y[:1].clone()
            state["weight"] = w * world
            if allreduce:
                return inner(x, y)
            with ddp.no_sync():
                return inner(x, y)
    elif spec.distributed == "allreduce":
        params = frozen(model)

        def step(x, y):
            w = share_weight(x, step.global_size)
            if x.shape[0] == 0:
                grads = [torch.zeros_like(p) for p in params]
            else:
                _, grads = backward(model, x, y, loss)
                if w != 1.0:
                    torch._foreach_mul_(grads, w)
            if allreduce:
                flat = torch.cat([g.reshape(-1) for g in grads])  # one collective per step, not one per tensor
                dist.all_reduce(flat)
                grads = list(torch.split(flat, [g.numel() for g in grads]))
                grads = [g.view_as(p) for g, p in zip(grads, params)]
            torch._foreach_add_(params, grads, alpha=-lr)
    else:
        raise ConfigError(f"step {spec.name!r} cannot run on several processes")
    step.global_size = batch_size
    step.strategy = f"{spec.distributed}-{world}-ranks" + ("" if allreduce else "-no-allreduce")
    return step
