"""Data feeds: how batches reach the step. One signature: make(data, device, dtype, seed, batch_size, shard) -> epoch,
where epoch(pieces) yields the next epoch's samples on the device as (x, y) in consecutive pieces of the given sizes
(one batch each, or for a block step the batches between two evaluations), all from one seeded permutation per
epoch. With data parallelism, shard = (rank, world size), and each piece is this rank's contiguous share of it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch

from .data import Data
from .device import Device
from .registry import Registry

Epoch = Callable[[Sequence[int]], Iterator[tuple]]  # (features, targets) per piece: tensors, or Rows for both


@dataclass(frozen=True)
class Rows:
    """The rows data[index] in that order, not gathered: what the preloaded feed hands a step that reads rows through
    the epoch's permutation itself (StepSpec.reads_rows), so the epoch's data are never copied."""

    data: torch.Tensor
    index: torch.Tensor

    def gather(self) -> torch.Tensor:
        return self.data.index_select(0, self.index)

    def __getitem__(self, rows: slice) -> "Rows":
        """Some of the rows, still not gathered: Rows slice like the tensors they stand for."""
        return Rows(self.data, self.index[rows])

    def __len__(self) -> int:
        return self.index.shape[0]


class EpochShuffle:
    """One seeded permutation per epoch. Every feed draws its orders from it, so given a seed they feed the same
    samples in the same order (torch's RandomSampler draws an extra permutation at the end of each epoch)."""

    def __init__(self, n: int, seed: int):
        self.n = n
        self.generator = torch.Generator().manual_seed(seed)

    def next_order(self) -> torch.Tensor:
        return torch.randperm(self.n, generator=self.generator)


Shard = tuple[int, int]  # (rank, world size); (0, 1) without data parallelism


def share(size: int, shard: Shard) -> tuple[int, int]:
    """This rank's contiguous share [lo, hi) of a piece of `size` samples: sizes differ by at most one."""
    rank, world = shard
    base, extra = divmod(size, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (rank < extra)


def shard_positions(pieces: Sequence[int], shard: Shard) -> tuple[torch.Tensor, list[int]]:
    """Positions in the epoch's order of this rank's shares of every piece, and the shares' sizes (vectorized: the
    feed runs inside the timed region)."""
    rank, world = shard
    sizes = torch.tensor(pieces, dtype=torch.long)
    starts = torch.cumsum(sizes, 0) - sizes
    base, extra = sizes // world, sizes % world
    lo = rank * base + torch.clamp(extra, max=rank)
    counts = base + (extra > rank).long()
    first = torch.repeat_interleave(starts + lo, counts)
    offsets = torch.arange(int(counts.sum())) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    return first + offsets, counts.tolist()


class PlannedBatches(torch.utils.data.Sampler):
    """A DataLoader batch_sampler that yields the epoch's permutation cut into the pieces the loop planned (this
    rank's share of each)."""

    def __init__(self, shuffle: EpochShuffle, shard: Shard):
        self.shuffle, self.shard = shuffle, shard
        self.pieces: Sequence[int] = ()

    def __iter__(self):
        order, i = self.shuffle.next_order().tolist(), 0
        for size in self.pieces:
            lo, hi = share(size, self.shard)
            if hi > lo:  # an empty share is not a batch: the feed yields it without the loader
                yield order[i + lo:i + hi]
            i += size

    def __len__(self) -> int:
        return len(self.pieces)


def _as(t: torch.Tensor, device: Device, dtype: torch.dtype) -> torch.Tensor:
    """Features and float labels in the run's dtype; class labels stay integers."""
    return t.to(device.torch_device, dtype if t.is_floating_point() else t.dtype, non_blocking=device.non_blocking)


def preloaded(data: Data, device: Device, dtype: torch.dtype, seed: int, batch_size: int,
              shard: Shard = (0, 1), rows: bool = False) -> Epoch:
    """The whole training set moved to the device once; each epoch one seeded permutation, batches by index.
    With `rows` (a step that reads rows through the permutation), pieces are Rows of the set instead of copies."""
    x, y = _as(data.train_x, device, dtype), _as(data.train_y, device, dtype)
    shuffle = EpochShuffle(data.n, seed)
    gd, parallel = batch_size >= data.n, shard[1] > 1
    if gd and parallel:  # GD: the mean gradient does not depend on the order; each rank sums its contiguous rows
        lo, hi = share(data.n, shard)
        x, y = x[lo:hi], y[lo:hi]
    xs, ys = (x, y) if gd else (torch.empty_like(x), torch.empty_like(y))
    cached: dict = {}

    def epoch(pieces):
        order = shuffle.next_order()  # drawn even for full batches, so later epochs keep the same orders
        sizes = pieces
        if gd and parallel:
            sizes = [x.shape[0]]
        elif parallel:  # this rank's rows only, as DistributedSampler would give it
            if cached.get("pieces") is not pieces:
                cached.update(pieces=pieces, shares=shard_positions(pieces, shard))
            positions, sizes = cached["shares"]
            order = order[positions]
        if not gd:  # GD: the mean gradient does not depend on the order; skip a copy of the set
            order = order.to(device.torch_device, non_blocking=device.non_blocking)
            if rows and not parallel:
                i = 0
                for size in sizes:
                    yield Rows(x, order[i:i + size]), Rows(y, order[i:i + size])
                    i += size
                return
            # One gather per epoch into buffers allocated once (a fresh 188 MB tensor per epoch costs page faults
            # too); the pieces are then contiguous views. A new epoch overwrites the last one's batches.
            m = order.shape[0]
            torch.index_select(x, 0, order, out=xs[:m])
            torch.index_select(y, 0, order, out=ys[:m])
        i = 0
        for size in sizes:
            yield xs[i:i + size], ys[i:i + size]
            i += size

    return epoch


def dataloader(data: Data, device: Device, dtype: torch.dtype, seed: int, batch_size: int,
               shard: Shard = (0, 1), rows: bool = False) -> Epoch:
    """torch.utils.data.DataLoader over the per-sample Dataset (torchvision MNIST with ToTensor), as the seeds feed data."""
    batches = PlannedBatches(EpochShuffle(data.n, seed), shard)
    loader = torch.utils.data.DataLoader(data.dataset(), batch_sampler=batches, pin_memory=device.pin_memory)
    empty = data.train_x[:0], data.train_y[:0]

    def epoch(pieces):
        batches.pieces = pieces
        it = iter(loader)
        for size in pieces:  # a rank's share of a piece smaller than the world is empty: the loader cannot batch it
            xb, yb = next(it) if share(size, shard)[1] > share(size, shard)[0] else empty
            yield _as(xb.flatten(1), device, dtype), _as(yb, device, dtype)

    return epoch


@dataclass(frozen=True)
class FeedSpec:
    name: str
    make: Callable[..., Epoch]  # (data, device, dtype, seed, batch_size, shard, rows) -> epoch; rows: see Rows
    about: str


FEEDS: Registry[FeedSpec] = Registry("feed", [
    FeedSpec("preloaded", preloaded, "the training set on the device once; batches by index from a permutation"),
    FeedSpec("dataloader", dataloader, "torch's DataLoader over the per-sample Dataset (torchvision's for MNIST)"),
])
