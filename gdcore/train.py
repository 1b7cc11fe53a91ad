"""The one training loop. GD, SGD and mini-batch SGD are this loop with batch size N, 1 and B."""
from __future__ import annotations

import math
from typing import Callable

import torch

from . import models
from .config import ConfigError, RunConfig, check_static, resolve_batch_size
from .data import data_dir
from .device import resolve_device
from .env import environment
from .losses import accuracy
from .paths import PATHS
from .steps import BLOCKED, STEPS
from .timer import Stopwatch
from .workloads import WORKLOADS

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class Trainer:
    """Everything a run needs, prepared outside the timed region: the resolved config, the device, the data on
    the device and the data path. `fresh()` gives a new model and step; `epoch(step)` is one epoch of optimization."""

    def __init__(self, cfg: RunConfig):
        check_static(cfg, WORKLOADS)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.workload = w = WORKLOADS[cfg.workload]
        self.device = resolve_device(cfg.device)
        models.apply_init(torch.nn.Sequential(), cfg.init or w.init)  # validates the init spec before loading data
        metric_error = cfg.target is not None and w.metric.check_target(cfg.target)
        if metric_error:
            raise ConfigError(metric_error)
        data = w.load(str(data_dir(cfg.data_dir)), cfg.download, cfg.seed)
        self.data = data.head(cfg.subset) if cfg.subset else data
        n = self.data.n
        samples = cfg.samples or round((cfg.epochs or w.epochs) * n)
        if samples < 1:
            raise ConfigError(f"invalid budget: {cfg.epochs} epochs of N={n} is less than one sample; allowed: more")
        self.cfg = cfg.replace(  # the resolved, frozen config stored with the record
            batch_size=resolve_batch_size(cfg.batch_size or w.batch_size, n),
            lr=float(cfg.lr or w.lr),
            epochs=None,
            samples=samples,
            target=float(cfg.target if cfg.target is not None else w.target),
            device=self.device.type,
            data_dir=str(data_dir(cfg.data_dir)) if w.uses_data_dir else None,
            eval_every=cfg.eval_every or w.eval_every,
            init=cfg.init or w.init,
            threads=torch.get_num_threads(),
        )
        self.dtype = DTYPES[cfg.dtype]
        dev, dt = self.device.torch_device, self.dtype
        as_dev = lambda t: None if t is None else t.to(dev, dt if t.is_floating_point() else t.dtype)  # noqa: E731
        self.eval_sets = [as_dev(t) for t in (self.data.train_x, self.data.train_y, self.data.test_x, self.data.test_y)]
        bs = self.cfg.batch_size
        # A blocked impl (fused) takes many batches per call: as many as fit between two evaluations.
        self.block = min(n, max(bs, self.cfg.eval_every // bs * bs)) if cfg.impl in BLOCKED else bs
        self.batches = PATHS[cfg.path](self.data, bs, self.device, dt, cfg.seed, self.block)
        self.model: torch.nn.Sequential | None = None

    def fresh(self) -> Callable:
        """A new model (the same initial weights for the same seed, on every device) and its step."""
        w = self.workload
        self.model = models.build(w.model, self.cfg.init, self.cfg.seed, self.dtype, self.device.torch_device)
        return STEPS[self.cfg.impl](self.model, w.loss, self.cfg.lr, self.cfg.batch_size)

    def steps_in(self, samples: int) -> int:
        """Optimizer steps taken on a call of the step with `samples` samples."""
        return -(-samples // self.cfg.batch_size) if self.block != self.cfg.batch_size else 1

    def epoch(self, step) -> None:
        """One epoch of optimization and nothing else (what the benchmarks time)."""
        for x, y in self.batches():
            step(x, y)

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float | None, float]:
        """(train loss over the whole training set, test loss or None, the workload's metric)."""
        w, (tx, ty, vx, vy) = self.workload, self.eval_sets
        train_loss = w.loss.value(self.model(tx), ty).item()
        test_loss = test_metric = None
        if vx is not None:
            out = self.model(vx)
            test_loss = w.loss.value(out, vy).item()
            test_metric = accuracy(out, vy).item() if w.metric.name == "test_accuracy" else test_loss
        return train_loss, test_loss, (train_loss if w.metric.name == "train_loss" else test_metric)


def finite(v):
    """The number, or None when it is NaN or infinite (JSON has no such numbers; a diverged run reports null)."""
    return v if v is None or math.isfinite(v) else None


def run(cfg: RunConfig, progress: Callable[[dict], None] | None = None,
        observe: Callable[[torch.nn.Module, dict], None] | None = None) -> dict:
    """Runs one configuration and returns its record (the JSON object `gdcore run` prints).

    progress(point) and observe(model, point) are called at every evaluation, outside the timed region."""
    tr = Trainer(cfg)
    cfg, metric, n = tr.cfg, tr.workload.metric, tr.data.n
    step = tr.fresh()
    clock = Stopwatch(tr.device)
    curve, epoch_seconds = [], []
    state = {"samples": 0, "steps": 0, "hit": None, "diverged": False, "test_loss": None}

    def evaluate() -> bool:
        """Records a curve point; True when the run must stop (diverged, or target reached with stop_at_target)."""
        train_loss, test_loss, value = tr.evaluate()
        point = {"samples": state["samples"], "steps": state["steps"], "seconds": clock.elapsed,
                 "train_loss": finite(train_loss), "test_metric": finite(value)}
        curve.append(point)
        state["test_loss"] = test_loss
        if progress:
            progress(point)
        if observe:
            observe(tr.model, point)
        if not math.isfinite(train_loss):
            state["diverged"] = True
            return True
        if state["hit"] is None and metric.reached(value, cfg.target):
            state["hit"] = point
        return state["hit"] is not None and cfg.stop_at_target

    stop = evaluate()
    next_eval = cfg.eval_every
    while not stop and state["samples"] < cfg.samples:
        start, before = state["samples"], clock.elapsed
        clock.start()
        for x, y in tr.batches():
            step(x, y)
            state["samples"] += x.shape[0]
            state["steps"] += tr.steps_in(x.shape[0])
            if state["samples"] >= next_eval or state["samples"] >= cfg.samples:
                clock.stop()
                stop = evaluate()
                next_eval = (state["samples"] // cfg.eval_every + 1) * cfg.eval_every
                if stop or state["samples"] >= cfg.samples:
                    break
                clock.start()
        else:
            clock.stop()
        if state["samples"] - start == n:
            epoch_seconds.append(clock.elapsed - before)
    return _record(tr, state, curve, epoch_seconds, clock.elapsed)


def describe(tr: Trainer) -> dict:
    """The fields of a record that describe the run rather than its outcome."""
    cfg, env = tr.cfg, environment()
    return {
        "workload": cfg.workload, "batch_size": cfg.batch_size, "lr": cfg.lr, "path": cfg.path, "impl": cfg.impl,
        "device": tr.device.type, "device_name": tr.device.name, "threads": env["threads"],
        "torch_version": env["torch_version"], "seed": cfg.seed, "metric_name": tr.workload.metric.name,
        "target": cfg.target,
    }


def _record(tr: Trainer, state: dict, curve: list, epoch_seconds: list, seconds: float) -> dict:
    last, hit = curve[-1], state["hit"]
    return {
        **describe(tr),
        "epochs": state["samples"] / tr.data.n,
        "samples_seen": state["samples"],
        "steps": state["steps"],
        "train_seconds": seconds,
        "seconds_per_epoch": epoch_seconds,
        "final_train_loss": last["train_loss"],
        "final_test_loss": finite(state["test_loss"]),
        "final_test_metric": last["test_metric"],
        "samples_to_target": hit and hit["samples"],
        "steps_to_target": hit and hit["steps"],
        "seconds_to_target": hit and hit["seconds"],
        "diverged": state["diverged"],
        "curve": curve,
        "config": tr.cfg.to_dict(),
    }
