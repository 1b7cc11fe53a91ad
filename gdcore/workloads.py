"""The workloads: a dataset, a model, a loss, a quality metric, a default target, and defaults for a sensible run."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from . import data as D
from . import synthetic as S
from .losses import BCE_LOGITS, CROSS_ENTROPY, HALF_SE, MSE, SSE, TEST_ACCURACY, TEST_MSE, TRAIN_LOSS, Loss, Metric
from .models import mlp
from .registry import Registry


@dataclass(frozen=True)
class Workload:
    name: str
    load: Callable[[str, bool, int], D.Data]  # (data_dir, download, seed) -> Data
    model: Callable[[], nn.Sequential]
    loss: Loss
    metric: Metric
    target: float  # default target for `metric`
    lr: float  # default learning rate
    batch_size: int | str  # default batch size
    epochs: float  # default budget
    eval_every: int  # default samples between evaluations
    init: str = "default"  # default initialisation (see models.apply_init)
    needs: str | None = None  # the real data set it reads from the data directory ("mnist", "airfoil")
    n: int | None = None  # training-set size, for checks and grids before the data are loaded
    about: str = ""
    variant_of: str | None = None  # a seed document's buggy setup, run as published (see `gdcore seeds`)


def _mnist(root, download, seed):
    return D.load_mnist(root, download)


def _airfoil(root, download, seed):
    return D.load_airfoil(root, download)


def _synthetic(fn):
    return lambda root, download, seed: fn(seed)


_LIST = [
    Workload("mnist-logreg", _mnist, lambda: mlp([784, 10]), CROSS_ENTROPY, TEST_ACCURACY, 0.90,
             lr=0.1, batch_size=64, epochs=1, eval_every=6000, needs="mnist", n=60000,
             about="MNIST, softmax regression Linear(784, 10), cross-entropy"),
    Workload("mnist-seed-logreg", _mnist, lambda: mlp([784, 10], head=(nn.Sigmoid(), nn.Softmax(dim=1))),
             CROSS_ENTROPY, TEST_ACCURACY, 0.80, lr=0.001, batch_size=1, epochs=1, eval_every=6000, needs="mnist", n=60000,
             about="MNIST, seed 000's Linear -> Sigmoid -> Softmax with CrossEntropyLoss on those outputs"),
    Workload("mnist-mlp", _mnist, lambda: mlp([784, 256, 10]), CROSS_ENTROPY, TEST_ACCURACY, 0.95,
             lr=0.1, batch_size=64, epochs=2, eval_every=6000, needs="mnist", n=60000,
             about="MNIST, 784-256-10 ReLU MLP, cross-entropy"),
    Workload("airfoil-linreg", _airfoil, lambda: mlp([5, 1]), HALF_SE, TRAIN_LOSS, 0.245,
             lr=0.05, batch_size=10, epochs=2, eval_every=100, init="normal:0.01", needs="airfoil", n=1500,
             about="UCI airfoil self-noise (1500 rows, standardized), Linear(5, 1), squared error / 2"),
    Workload("synth-regression", _synthetic(S.synth_regression), lambda: mlp([500, 256, 1]), MSE, TEST_MSE, 0.005,
             lr=0.03, batch_size=50, epochs=10, eval_every=1400, n=7000,
             about="seed 003: 10000 x 500 Gaussian inputs, linear target + noise, 500-256-1 ReLU MLP, MSE"),
    Workload("synth-binary", _synthetic(S.synth_binary), lambda: mlp([200, 100, 1]), BCE_LOGITS, TEST_ACCURACY, 0.99,
             lr=0.01, batch_size=50, epochs=1, eval_every=1400, n=14000,
             about="seed 003 done right: N(+2, 1) vs N(-2, 1) in 200 dims, 200-100-1 ReLU MLP, BCE with logits"),
    Workload("toy-linear", _synthetic(S.toy_linear), lambda: mlp([1, 1], bias=False), MSE, TRAIN_LOSS, 1e-6,
             lr=0.01, batch_size="full", epochs=100, eval_every=3, init="const:1", n=3,
             about="seed 001: x = [1, 2, 3], y = 2x, y = w.x from w = 1, squared error"),
    Workload("random-mlp", _synthetic(S.random_mlp), lambda: mlp([1000, 100, 10], bias=False), SSE, TRAIN_LOSS, 1.0,
             lr=1e-6, batch_size="full", epochs=500, eval_every=640, init="normal:1", n=64,
             about="seed 004: 64 random 1000-dim inputs, 10 random outputs, 1000-100-10 ReLU without biases, sum of squares"),
]
# Seed documents' setups with their bugs, run as published; not part of any benchmark grid.
_VARIANTS = [
    Workload("synth-binary-seed003-bug", _synthetic(S.synth_binary_seed_bug), lambda: mlp([200, 100, 1]), BCE_LOGITS,
             TEST_ACCURACY, 0.99, lr=0.0002, batch_size=50, epochs=100, eval_every=14000, init="normal:1",
             n=14000, variant_of="synth-binary",
             about="seed 003's binary data as published: x2_train = x1[:7000], both classes share their features"),
    Workload("mnist-mlp-seed003-nobias", _mnist, lambda: mlp([784, 256, 10], bias=False), CROSS_ENTROPY,
             TEST_ACCURACY, 0.95, lr=0.0003125, batch_size=32, epochs=20, eval_every=60000, init="normal:0.01",
             needs="mnist", n=60000, variant_of="mnist-mlp",
             about="seed 003's MNIST MLP as published: params = [W1, b2, W2, b2] never trains b1 (a zero scalar), "
                   "and b2 (one scalar added to every logit) cannot change a softmax: an MLP without biases"),
]
WORKLOADS: Registry[Workload] = Registry("workload", _LIST + _VARIANTS)
MAIN_WORKLOADS = [w.name for w in _LIST]  # the benchmarked ones: not the seed documents' buggy variants
