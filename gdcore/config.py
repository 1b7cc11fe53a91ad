"""The frozen description of one run: what the CLI builds, the benchmarks parametrize and every record stores."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

PATHS = ("dataloader", "preloaded")
IMPLS = ("autograd", "optim", "closed-form", "fused")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")


class ConfigError(ValueError):
    """A user's mistake in a run's configuration or data: one line, what was wrong and what is allowed."""


@dataclass(frozen=True)
class RunConfig:
    workload: str = "mnist-logreg"
    batch_size: int | str | None = None  # an integer, "full" (= N, full-batch GD), or None for the workload's default
    lr: float | None = None  # None: the workload's default learning rate
    epochs: float | None = None  # budget in epochs (may be fractional); at most one of epochs/samples
    samples: int | None = None  # budget in samples seen; None with epochs None: the workload's default budget
    target: float | None = None  # None: the workload's default target for its metric
    path: str = "preloaded"  # how batches reach the step: "dataloader" or "preloaded"
    impl: str = "autograd"  # how a step is written: "autograd", "optim", "closed-form" or "fused" (linear models)
    device: str = "auto"  # "cpu", "cuda", or "auto" (cuda when present)
    seed: int = 0  # seeds synthetic data, model init and shuffling; the same on every device
    data_dir: str | None = None  # None: $GDCORE_DATA_DIR, else ./data
    eval_every: int | None = None  # samples between evaluations; None: the workload's default
    stop_at_target: bool = False  # end the run at the first evaluation that reaches the target
    dtype: str = "float32"  # "float64" for exact comparisons in tests
    init: str | None = None  # "default", "zeros", "normal:STD", "const:V", "xavier", "he"; None: the workload's
    threads: int | None = None  # torch CPU threads; None leaves torch's choice (recorded either way)
    download: bool = True  # fetch missing MNIST/airfoil files from their public homes
    subset: int | None = None  # use only the first `subset` training samples (quick benchmark profiles)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_choice(what: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")


def check_static(cfg: RunConfig, workloads) -> None:
    """Checks everything that does not need the data (the batch size against N is checked once N is known)."""
    check_choice("workload", cfg.workload, workloads)
    check_choice("path", cfg.path, PATHS)
    check_choice("impl", cfg.impl, IMPLS)
    check_choice("device", cfg.device, DEVICES)
    check_choice("dtype", cfg.dtype, DTYPES)
    if cfg.lr is not None and not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ConfigError(f"invalid learning rate {cfg.lr!r}; allowed: a finite number above 0")
    if cfg.epochs is not None and cfg.samples is not None:
        raise ConfigError("give the budget as epochs or as samples, not both")
    if cfg.epochs is not None and not (math.isfinite(cfg.epochs) and cfg.epochs > 0):
        raise ConfigError(f"invalid budget: epochs {cfg.epochs!r}; allowed: a number above 0")
    if cfg.samples is not None and not cfg.samples > 0:
        raise ConfigError(f"invalid budget: samples {cfg.samples!r}; allowed: an integer above 0")
    if cfg.eval_every is not None and not cfg.eval_every > 0:
        raise ConfigError(f"invalid eval_every {cfg.eval_every!r}; allowed: an integer above 0 (samples)")
    if cfg.threads is not None and not cfg.threads > 0:
        raise ConfigError(f"invalid thread count {cfg.threads!r}; allowed: an integer above 0")
    if cfg.subset is not None and not cfg.subset > 0:
        raise ConfigError(f"invalid subset {cfg.subset!r}; allowed: an integer above 0")
    bs = cfg.batch_size
    if bs is not None and bs != "full" and not (isinstance(bs, int) and not isinstance(bs, bool)):
        raise ConfigError(f"invalid batch size {bs!r}; allowed: an integer from 1 to N, or 'full'")
    if isinstance(bs, int) and bs < 1:
        raise ConfigError(f"invalid batch size {bs}; allowed: an integer from 1 to N, or 'full'")


def resolve_batch_size(bs, n: int) -> int:
    if bs == "full":
        return n
    if not 1 <= bs <= n:
        raise ConfigError(f"invalid batch size {bs}; allowed: an integer from 1 to N={n}, or 'full'")
    return bs
