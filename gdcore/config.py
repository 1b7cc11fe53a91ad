"""The frozen description of one run: what the CLI builds, the benchmarks parametrize and every record stores.
Every field is checked when a RunConfig is made; the allowed choices are read from the registries."""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import torch

from .device import DEVICES
from .errors import ConfigError
from .feeds import FEEDS
from .models import check_init
from .steps import STEPS
from .workloads import WORKLOADS

DTYPES = {"float32": torch.float32, "float64": torch.float64}
MAX_SEED = 2**63 - 1  # torch.manual_seed takes 64 bits; Python ints beyond overflow
MAX_THREADS = 4096  # torch.set_num_threads takes an int32; more threads than this is a typo
MAX_SAMPLES = 10**15  # a budget no run can finish is a mistake, not a benchmark
MAX_WORLD = 1024


@dataclass(frozen=True)
class RunConfig:
    workload: str = "mnist-logreg"
    batch_size: int | str | None = None  # an integer, "full" (= N, full-batch GD), or None for the workload's default
    lr: float | None = None  # None: the workload's default learning rate
    epochs: float | None = None  # budget in epochs (may be fractional); at most one of epochs/samples
    samples: int | None = None  # budget in samples seen; None with epochs None: the workload's default budget
    target: float | None = None  # None: the workload's default target for its metric
    feed: str = "preloaded"  # how batches reach the step (gdcore.feeds.FEEDS)
    step: str = "autograd"  # how a step is written (gdcore.steps.STEPS)
    device: str = "auto"  # "cpu", "cuda", or "auto" (cuda when present)
    seed: int = 0  # seeds synthetic data, model init and shuffling; the same on every device
    data_dir: str | None = None  # None: $GDCORE_DATA_DIR, else ./data
    eval_every: int | None = None  # samples between full evaluations (train loss too); None: the workload's default
    # also evaluate the metric on a geometric schedule, from resolution x the workload's default eval_every samples
    # on, so that samples to target is resolved to within this fraction (or one step); None: every eval_every only
    resolution: float | None = None
    # the sample count of the first evaluation; None: resolution x the workload's default eval_every (or eval_every
    # without a resolution). 1 evaluates after the first step: for a target reached before the default first one
    first_eval: int | None = None
    stop_at_target: bool = False  # end the run at the first evaluation that reaches the target
    dtype: str = "float32"  # "float64" for exact comparisons in tests
    init: str | None = None  # "default", "zeros", "normal:STD", "const:V", "xavier", "he"; None: the workload's
    threads: int | None = None  # torch CPU threads; None leaves torch's choice (recorded either way)
    download: bool = True  # fetch missing MNIST/airfoil files from their public homes
    subset: int | None = None  # use only the first `subset` training samples (quick benchmark profiles)
    world_size: int = 1  # data-parallel processes; each computes the gradient of its share of every global batch
    allreduce: bool = True  # False only to measure what communication costs: the ranks then drift apart

    def __post_init__(self):
        check(self)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _bad(field: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"invalid {field} {value!r}; allowed: {allowed}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _choice(field: str, value, allowed) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise _bad(field, value, ", ".join(allowed))


def _positive_int(field: str, value, high: int, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not _is_int(value) or not 1 <= value <= high:
        raise _bad(field, value, f"an integer from 1 to {high}" + (", or None" if optional else ""))


def check(cfg: RunConfig) -> None:
    """Types and ranges of every field (the batch size against N is checked once N is known)."""
    _choice("workload", cfg.workload, WORKLOADS.names())
    _choice("feed", cfg.feed, FEEDS.names())
    _choice("step", cfg.step, STEPS.names())
    _choice("device", cfg.device, DEVICES)
    _choice("dtype", cfg.dtype, tuple(DTYPES))
    bs = cfg.batch_size
    if not (bs is None or bs == "full" or (_is_int(bs) and 1 <= bs <= MAX_SAMPLES)):
        raise _bad("batch_size", bs, "an integer from 1 to N, or 'full'")
    if cfg.lr is not None and not (_is_real(cfg.lr) and math.isfinite(cfg.lr) and cfg.lr > 0):
        raise _bad("lr", cfg.lr, "a finite number above 0")
    if cfg.epochs is not None and cfg.samples is not None:
        raise ConfigError("give the budget as epochs or as samples, not both")
    if cfg.epochs is not None and not (_is_real(cfg.epochs) and math.isfinite(cfg.epochs) and 0 < cfg.epochs <= 1e9):
        raise _bad("epochs", cfg.epochs, "a number of epochs above 0 (at most 1e9)")
    _positive_int("samples", cfg.samples, MAX_SAMPLES)
    _positive_int("eval_every", cfg.eval_every, MAX_SAMPLES)
    if cfg.resolution is not None and not (_is_real(cfg.resolution) and 0.001 <= cfg.resolution <= 0.5):
        raise _bad("resolution", cfg.resolution, "a fraction from 0.001 to 0.5 (0.1: within 10 %), or None")
    _positive_int("first_eval", cfg.first_eval, MAX_SAMPLES)
    _positive_int("threads", cfg.threads, MAX_THREADS)
    _positive_int("subset", cfg.subset, MAX_SAMPLES)
    if not _is_int(cfg.seed) or not 0 <= cfg.seed <= MAX_SEED:
        raise _bad("seed", cfg.seed, f"an integer from 0 to {MAX_SEED}")
    if cfg.target is not None:
        if not _is_real(cfg.target):
            raise _bad("target", cfg.target, "a number in the metric's range")
        problem = WORKLOADS[cfg.workload].metric.check_target(cfg.target)
        if problem:
            raise ConfigError(problem)
    if not (cfg.data_dir is None or isinstance(cfg.data_dir, (str, os.PathLike))):
        raise _bad("data_dir", cfg.data_dir, "a folder path (str), or None for $GDCORE_DATA_DIR or ./data")
    _positive_int("world_size", cfg.world_size, MAX_WORLD, optional=False)
    if _is_int(bs) and cfg.world_size > bs:
        raise _bad("world_size", cfg.world_size, f"at most the batch size ({bs}): every rank needs a share of a batch")
    for flag in ("stop_at_target", "download", "allreduce"):
        if not isinstance(getattr(cfg, flag), bool):
            raise _bad(flag, getattr(cfg, flag), "True or False")
    if cfg.init is not None:
        check_init(cfg.init)


def resolve_batch_size(bs, n: int) -> int:
    if bs == "full":
        return n
    if not 1 <= bs <= n:
        raise ConfigError(f"invalid batch_size {bs}; allowed: an integer from 1 to N={n}, or 'full'")
    return bs
