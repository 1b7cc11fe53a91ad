"""Data feeds: how batches reach the step. One signature: make(data, device, dtype, seed, batch_size) -> epoch, where
epoch(pieces) yields the next epoch's samples on the device as (x, y) in consecutive pieces of the given sizes (one
batch each, or for a block step the batches between two evaluations), all from one seeded permutation per epoch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch

from .data import Data
from .device import Device
from .registry import Registry

Epoch = Callable[[Sequence[int]], Iterator[tuple[torch.Tensor, torch.Tensor]]]


class EpochShuffle:
    """One seeded permutation per epoch. Every feed draws its orders from it, so given a seed they feed the same
    samples in the same order (torch's RandomSampler draws an extra permutation at the end of each epoch)."""

    def __init__(self, n: int, seed: int):
        self.n = n
        self.generator = torch.Generator().manual_seed(seed)

    def next_order(self) -> torch.Tensor:
        return torch.randperm(self.n, generator=self.generator)


class PlannedBatches(torch.utils.data.Sampler):
    """A DataLoader batch_sampler that yields the epoch's permutation cut into the pieces the loop planned."""

    def __init__(self, shuffle: EpochShuffle):
        self.shuffle = shuffle
        self.pieces: Sequence[int] = ()

    def __iter__(self):
        order, i = self.shuffle.next_order().tolist(), 0
        for size in self.pieces:
            yield order[i:i + size]
            i += size

    def __len__(self) -> int:
        return len(self.pieces)


def _as(t: torch.Tensor, device: Device, dtype: torch.dtype) -> torch.Tensor:
    """Features and float labels in the run's dtype; class labels stay integers."""
    return t.to(device.torch_device, dtype if t.is_floating_point() else t.dtype, non_blocking=device.non_blocking)


def preloaded(data: Data, device: Device, dtype: torch.dtype, seed: int, batch_size: int) -> Epoch:
    """The whole training set moved to the device once; each epoch one seeded permutation, batches by index."""
    x, y = _as(data.train_x, device, dtype), _as(data.train_y, device, dtype)
    shuffle = EpochShuffle(data.n, seed)
    gd = batch_size >= data.n
    xs, ys = (x, y) if gd else (torch.empty_like(x), torch.empty_like(y))

    def epoch(pieces):
        order = shuffle.next_order()  # drawn even for full batches, so later epochs keep the same orders
        if not gd:  # GD: the mean gradient does not depend on the order; skip a copy of the set
            order = order.to(device.torch_device, non_blocking=device.non_blocking)
            # One gather per epoch into buffers allocated once (a fresh 188 MB tensor per epoch costs page faults
            # too); the pieces are then contiguous views. A new epoch overwrites the last one's batches.
            torch.index_select(x, 0, order, out=xs)
            torch.index_select(y, 0, order, out=ys)
        i = 0
        for size in pieces:
            yield xs[i:i + size], ys[i:i + size]
            i += size

    return epoch


def dataloader(data: Data, device: Device, dtype: torch.dtype, seed: int, batch_size: int) -> Epoch:
    """torch.utils.data.DataLoader over the per-sample Dataset (torchvision MNIST with ToTensor), as the seeds feed data."""
    batches = PlannedBatches(EpochShuffle(data.n, seed))
    loader = torch.utils.data.DataLoader(data.dataset(), batch_sampler=batches, pin_memory=device.pin_memory)

    def epoch(pieces):
        batches.pieces = pieces
        for xb, yb in loader:
            yield _as(xb.reshape(xb.shape[0], -1), device, dtype), _as(yb, device, dtype)

    return epoch


@dataclass(frozen=True)
class FeedSpec:
    name: str
    make: Callable[[Data, Device, torch.dtype, int, int], Epoch]
    about: str


FEEDS: Registry[FeedSpec] = Registry("feed", [
    FeedSpec("preloaded", preloaded, "the training set on the device once; batches by index from a permutation"),
    FeedSpec("dataloader", dataloader, "torch's DataLoader over the per-sample Dataset (torchvision's for MNIST)"),
])
