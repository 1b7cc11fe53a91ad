"""Data paths: how a batch reaches the step. One signature: make(data, batch_size, device, dtype, seed, block) ->
epoch(), where each call of epoch() yields the next epoch's (x, y) on the device in pieces of `block` samples (the
batch size, or a multiple of it for a step that runs many batches per call)."""
from __future__ import annotations

from typing import Callable, Iterator

import torch

from .data import Data
from .device import Device

Batches = Callable[[], Iterator[tuple[torch.Tensor, torch.Tensor]]]


class EpochShuffle(torch.utils.data.Sampler):
    """One seeded permutation per epoch. Both paths draw their orders from it, so given a seed they feed the same
    samples in the same order (torch's RandomSampler draws an extra permutation at the end of each epoch)."""

    def __init__(self, n: int, seed: int):
        self.n = n
        self.generator = torch.Generator().manual_seed(seed)

    def next_order(self) -> torch.Tensor:
        return torch.randperm(self.n, generator=self.generator)

    def __iter__(self):
        return iter(self.next_order().tolist())

    def __len__(self) -> int:
        return self.n


def _as(t: torch.Tensor, device: Device, dtype: torch.dtype) -> torch.Tensor:
    """Features and float labels in the run's dtype; class labels stay integers."""
    return t.to(device.torch_device, dtype if t.is_floating_point() else t.dtype, non_blocking=device.non_blocking)


def preloaded(data: Data, batch_size: int, device: Device, dtype: torch.dtype, seed: int, block: int | None = None) -> Batches:
    """The whole training set moved to the device once; each epoch one seeded permutation, batches by index."""
    x, y = _as(data.train_x, device, dtype), _as(data.train_y, device, dtype)
    shuffle = EpochShuffle(data.n, seed)
    piece = block or batch_size
    xs, ys = (torch.empty_like(x), torch.empty_like(y)) if batch_size < data.n else (x, y)

    def epoch():
        order = shuffle.next_order()  # drawn even for full batches, so later epochs keep the same orders
        if batch_size >= data.n:  # GD: the mean gradient does not depend on the order; skip a copy of the set
            yield x, y
            return
        order = order.to(device.torch_device, non_blocking=device.non_blocking)
        # One gather per epoch into buffers allocated once (a fresh 188 MB tensor per epoch costs page faults too);
        # the batches are then contiguous views. A new epoch overwrites the last one's batches.
        torch.index_select(x, 0, order, out=xs)
        torch.index_select(y, 0, order, out=ys)
        for i in range(0, data.n, piece):
            yield xs[i:i + piece], ys[i:i + piece]

    return epoch


def dataloader(data: Data, batch_size: int, device: Device, dtype: torch.dtype, seed: int, block: int | None = None) -> Batches:
    """torch.utils.data.DataLoader over the per-sample Dataset (torchvision MNIST with ToTensor), as the seeds feed data."""
    loader = torch.utils.data.DataLoader(
        data.dataset(), batch_size=block or batch_size, sampler=EpochShuffle(data.n, seed), pin_memory=device.pin_memory
    )

    def epoch():
        for xb, yb in loader:
            yield _as(xb.reshape(xb.shape[0], -1), device, dtype), _as(yb, device, dtype)

    return epoch


PATHS = {"preloaded": preloaded, "dataloader": dataloader}
