"""The synthetic data sets of the seed documents, drawn from the run's seed (no files, no network)."""
from __future__ import annotations

import functools

import torch

from .data import Data


def _normal(gen: torch.Generator, *shape, mean=0.0, std=1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64).mul_(std).add_(mean).float()


@functools.lru_cache(maxsize=4)
def synth_regression(seed: int) -> Data:
    """Seed 003: 10000 x 500, y = x.w + b + N(0, 0.01^2), w = 0.0056, b = 0.028; 7000 train / 3000 test."""
    gen = torch.Generator().manual_seed(seed)
    x = _normal(gen, 10000, 500)
    y = x.double() @ torch.full((500, 1), 0.0056, dtype=torch.float64) + 0.028
    y = (y + _normal(gen, 10000, 1, std=0.01).double()).float()
    return Data(x[:7000], y[:7000], x[7000:], y[7000:])


@functools.lru_cache(maxsize=4)
def synth_binary(seed: int) -> Data:
    """Seed 003 done right: N(+2, 1) labelled 1 and N(-2, 1) labelled 0, 200 dims; 7000 + 7000 train, 3000 + 3000 test."""
    gen = torch.Generator().manual_seed(seed)
    pos, neg = _normal(gen, 10000, 200, mean=2.0), _normal(gen, 10000, 200, mean=-2.0)
    ones, zeros = torch.ones(10000, 1), torch.zeros(10000, 1)
    return Data(
        torch.cat([pos[:7000], neg[:7000]]), torch.cat([ones[:7000], zeros[:7000]]),
        torch.cat([pos[7000:], neg[7000:]]), torch.cat([ones[7000:], zeros[7000:]]),
    )


@functools.lru_cache(maxsize=2)
def synth_binary_seed_bug(seed: int) -> Data:
    """Seed 003's binary data as published: `x2_train = x1[:7000]`, so class 0 has class 1's very features."""
    gen = torch.Generator().manual_seed(seed)
    pos = _normal(gen, 10000, 200, mean=2.0)
    ones, zeros = torch.ones(10000, 1), torch.zeros(10000, 1)
    return Data(
        torch.cat([pos[:7000], pos[:7000]]), torch.cat([ones[:7000], zeros[:7000]]),
        torch.cat([pos[7000:], pos[7000:]]), torch.cat([ones[7000:], zeros[7000:]]),
    )


def toy_linear(seed: int) -> Data:
    """Seed 001: x = [1, 2, 3], y = 2x (no randomness)."""
    x = torch.tensor([[1.0], [2.0], [3.0]])
    return Data(x, 2 * x, None, None)


@functools.lru_cache(maxsize=4)
def random_mlp(seed: int) -> Data:
    """Seed 004: 64 random inputs of 1000 dims and 10 random outputs, all N(0, 1)."""
    gen = torch.Generator().manual_seed(seed)
    return Data(_normal(gen, 64, 1000), _normal(gen, 64, 10), None, None)
