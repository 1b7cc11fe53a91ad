"""Datasets as CPU tensors: MNIST and airfoil from a data directory, the synthetic ones from the run's seed."""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .config import ConfigError

AIRFOIL_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat"
AIRFOIL_MD5 = "3972a8c9356256d50f350a799a381fb3"
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
HOW_TO_POINT = "point the project at a copy with --data-dir DIR or GDCORE_DATA_DIR=DIR"


class DataError(ConfigError):
    """Data that are missing, cannot be downloaded, or are corrupt."""


@dataclass(frozen=True)
class Data:
    """Train and test tensors (float features, labels as the loss wants them); test_* are None without a test set."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor | None
    test_y: torch.Tensor | None
    per_sample: Callable[[], torch.utils.data.Dataset] | None = None  # the seed documents' Dataset (MNIST)

    @property
    def n(self) -> int:
        return self.train_x.shape[0]

    def dataset(self) -> torch.utils.data.Dataset:
        """The per-sample Dataset the dataloader path reads: torchvision's for MNIST, else a TensorDataset."""
        if self.per_sample is not None:
            return self.per_sample()
        return torch.utils.data.TensorDataset(self.train_x, self.train_y)

    def head(self, n: int) -> "Data":
        """The first n training samples (the test set stays whole)."""
        if n >= self.n:
            return self
        per_sample = self.per_sample
        if per_sample is not None:
            per_sample = lambda full=self.per_sample: torch.utils.data.Subset(full(), range(n))  # noqa: E731
        return Data(self.train_x[:n], self.train_y[:n], self.test_x, self.test_y, per_sample)


def present(root: Path) -> dict[str, bool]:
    """Which of the real data sets are in `root`, in the layout the loaders read."""
    return {
        "mnist": all((root / "MNIST" / "raw" / f).exists() for f in MNIST_FILES),
        "airfoil": (root / "airfoil" / "airfoil_self_noise.dat").exists(),
    }


def data_dir(explicit: str | None) -> Path:
    """--data-dir, else $GDCORE_DATA_DIR, else ./data."""
    return Path(explicit or os.environ.get("GDCORE_DATA_DIR") or "data")


@functools.lru_cache(maxsize=4)
def load_mnist(root: str, download: bool) -> Data:
    import torchvision
    from torchvision import transforms

    raw = Path(root) / "MNIST" / "raw"

    def make(train: bool, transform=None, dl=False):
        with contextlib.redirect_stdout(sys.stderr):  # torchvision prints download progress; stdout holds our JSON
            return torchvision.datasets.MNIST(root, train=train, transform=transform, download=dl)

    try:
        train, test = make(True, dl=download), make(False, dl=download)
    except Exception as e:  # torchvision raises RuntimeError/URLError/OSError for missing or unreachable files
        missing = [f for f in MNIST_FILES if not (raw / f).exists()]
        how = "download failed" if download else "download is off"
        raise DataError(
            f"MNIST not found in {raw.resolve()} (missing {', '.join(missing) or 'files'}; {how}: "
            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}); {HOW_TO_POINT} holding MNIST/raw/"
        ) from None
    try:
        tx, ty, vx, vy = train.data, train.targets, test.data, test.targets
        if tuple(tx.shape) != (60000, 28, 28) or tuple(vx.shape) != (10000, 28, 28) or len(ty) != 60000 or len(vy) != 10000:
            raise ValueError(f"unexpected shapes {tuple(tx.shape)}, {tuple(vx.shape)}")
        if int(ty.max()) > 9 or int(vy.max()) > 9:
            raise ValueError("labels outside 0..9")
    except Exception as e:
        raise DataError(f"MNIST files in {raw.resolve()} are corrupt ({e}); {HOW_TO_POINT} holding a good copy") from None
    flat = lambda x: (x.reshape(x.shape[0], -1).float() / 255)  # noqa: E731  # exactly ToTensor's scaling
    per_sample = lambda: make(True, transform=transforms.ToTensor())  # noqa: E731
    return Data(flat(tx), ty.long(), flat(vx), vy.long(), per_sample)


@functools.lru_cache(maxsize=2)
def load_airfoil(root: str, download: bool) -> Data:
    folder = Path(root) / "airfoil"
    path = folder / "airfoil_self_noise.dat"
    if not path.exists() and download:
        try:
            from torchvision.datasets.utils import download_url

            with contextlib.redirect_stdout(sys.stderr):
                download_url(AIRFOIL_URL, str(folder), path.name, md5=AIRFOIL_MD5)
        except Exception as e:
            raise DataError(
                f"airfoil file {path.resolve()} is missing and the download failed ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
                f"{HOW_TO_POINT} holding airfoil/airfoil_self_noise.dat"
            ) from None
    if not path.exists():
        raise DataError(f"airfoil file {path.resolve()} is missing (download is off); {HOW_TO_POINT} holding airfoil/airfoil_self_noise.dat")
    try:
        table = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2)
        if table.shape[1] != 6 or table.shape[0] < 1500 or not np.isfinite(table).all():
            raise ValueError(f"expected at least 1500 rows of 6 finite tab-separated numbers, got shape {table.shape}")
    except Exception as e:
        raise DataError(f"airfoil file {path.resolve()} is corrupt ({str(e).splitlines()[0]}); {HOW_TO_POINT} holding a good copy") from None
    table = (table - table.mean(axis=0)) / table.std(axis=0)  # as seed 002: standardize all 1503 rows, keep 1500
    t = torch.from_numpy(table[:1500]).float()
    return Data(t[:, :5].contiguous(), t[:, 5:].contiguous(), None, None)


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
