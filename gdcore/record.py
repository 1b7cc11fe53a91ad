"""The one record schema: what `gdcore run` prints, what the suite stores in each benchmark's extra_info, what the
reports read back and validate. Its fields are listed here and nowhere else."""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field

from .errors import ConfigError

SCHEMA_VERSION = 2  # 1: the unversioned records before it (fields `impl` and `path`, a full `config` copy)


def resolved_to(hit: int, lower: int, batch_size: int, resolution: float) -> bool:
    """Whether samples to target `hit` is resolved to within `resolution`: the evaluation before it, at `lower`
    samples, saw at least (1 - resolution) x as many samples, or one step fewer."""
    return lower >= (1 - resolution) * hit or hit - lower <= batch_size


@dataclass
class Record:
    """One run: the resolved configuration, the environment that ran it, and its outcome. Times count
    optimization only; non-finite numbers are None (JSON null)."""

    # what ran (the resolved RunConfig's identity; its other fields are in `config`)
    workload: str
    batch_size: int  # the integer used: N for full-batch GD
    lr: float
    feed: str  # how batches reach the step (gdcore.feeds)
    step: str  # how a step is written (gdcore.steps)
    device: str  # "cpu" or "cuda"
    seed: int
    metric_name: str
    target: float
    # where it ran
    device_name: str
    threads: int  # torch's CPU threads during the run, read after it (per process when world_size > 1)
    torch_version: str
    # the outcome
    epochs: float  # epochs seen
    samples_seen: int
    steps: int
    train_seconds: float | None
    seconds_per_epoch: list
    final_train_loss: float | None
    final_test_loss: float | None
    final_test_metric: float | None  # None when diverged: a diverged model's metric is not a result
    samples_to_target: int | None
    steps_to_target: int | None
    seconds_to_target: float | None
    diverged: bool
    curve: list  # one point per evaluation: samples, steps, seconds, train_loss, test_metric
    # the evaluation before the one that reached the target (the figures lie in (lower, *_to_target])
    samples_to_target_lower: int | None = None
    steps_to_target_lower: int | None = None
    setup_seconds: float | None = None  # building the step (JIT compilation, C build): never in the times above
    strategy: str | None = None  # which strategy a step that picks one ran (fused: numba-loop, chunked-gemm, ...)
    world_size: int = 1  # data-parallel processes (ranks); this record is rank 0's
    config: dict = field(default_factory=dict)  # the resolved RunConfig's remaining fields (budget, dtype, ...)
    # benchmark cases only (pytest bench writes them)
    kind: str | None = None  # "epoch_time", "samples_to_target", "final_loss"
    profile: str | None = None
    best_lr: bool | None = None
    n: int | None = None  # training-set size
    rounds: int | None = None
    epoch_flops: int | None = None
    epoch_bytes: int | None = None
    # several seeds (gdcore.tune): the top-level outcome fields are medians, these are the per-seed values: lists
    # under "seed", "samples_to_target", "steps_to_target", "final_train_loss", "final_test_metric", "curves"
    over_seeds: dict | None = None
    lr_search: dict | None = None  # the learning-rate search behind best_lr: grid, every trial, whether bracketed
    noise_scale: dict | None = None  # B_simple along the best runs: per-point values and the mean up to the target
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return {k: finite(v) if isinstance(v, float) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Record":
        """Validates a stored record (the current schema, or version 1 mapped onto it); ConfigError names the field."""
        if not isinstance(d, dict):
            raise ConfigError(f"a record must be a JSON object, got {type(d).__name__}")
        d = upgrade(d)
        kw = {}
        for f in dataclasses.fields(cls):
            if f.name not in d:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise ConfigError(f"record field {f.name!r} is missing")
                continue
            kw[f.name] = check_type(f.name, d[f.name], _HINTS[f.name])
        return cls(**kw)


_HINTS = typing.get_type_hints(Record)
FIELDS = tuple(f.name for f in dataclasses.fields(Record))


def finite(v):
    """The number, or None when it is NaN or infinite (JSON has no such numbers; a diverged run reports null)."""
    return v if v is None or not isinstance(v, float) or math.isfinite(v) else None


def _allowed(hint) -> tuple:
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return tuple(typing.get_origin(a) or a for a in args)


def check_type(name: str, value, hint):
    """`value` if it has the field's type (an int passes as a float, a bool never as a number); else ConfigError."""
    allowed = _allowed(hint)
    ok = (value is None and type(None) in allowed) or (
        not isinstance(value, bool) and (isinstance(value, int) and (int in allowed or float in allowed)
                                         or isinstance(value, float) and float in allowed)
    ) or (isinstance(value, bool) and bool in allowed) or any(
        isinstance(value, t) for t in allowed if t in (str, list, dict))
    if not ok:
        names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise ConfigError(f"record field {name!r} is {value!r} ({type(value).__name__}); allowed: {names}")
    if isinstance(value, float) and float in allowed and not math.isfinite(value) and type(None) not in allowed:
        raise ConfigError(f"record field {name!r} is {value!r}; allowed: a finite number")
    return value


def upgrade(d: dict) -> dict:
    """Schema 1 (no schema_version): `impl` and `path` were the step and feed, `config` repeated the record."""
    version = d.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ConfigError(f"record field 'schema_version' is {version!r}; allowed: an integer")
    if version >= SCHEMA_VERSION:
        return d
    d = dict(d)
    d.setdefault("step", d.pop("impl", None))
    d.setdefault("feed", d.pop("path", None))
    cfg = d.get("config")
    if isinstance(cfg, dict):
        d["config"] = {k: v for k, v in cfg.items() if k not in d and k not in ("impl", "path")}
    for key, default in (("device_name", "unknown"), ("torch_version", "unknown"), ("seed", 0), ("steps", 0),
                         ("epochs", 0.0), ("diverged", False), ("curve", []), ("seconds_per_epoch", []),
                         ("train_seconds", None), ("final_test_loss", None), ("metric_name", "unknown"),
                         ("samples_seen", 0), ("threads", 0)):
        d.setdefault(key, default)
    for key in ("samples_to_target", "steps_to_target", "seconds_to_target", "final_train_loss",
                "final_test_metric"):
        d.setdefault(key, None)
    d["schema_version"] = SCHEMA_VERSION
    return d
