"""The one training loop. GD, SGD and mini-batch SGD are this loop with batch size N, 1 and B; `run()` adds
evaluations and a clock around it, `RunSetup.epoch()` (what the benchmarks time) runs it for one epoch bare."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from . import models
from .config import DTYPES, RunConfig, resolve_batch_size
from .data import data_dir
from .device import resolve_device
from .distributed import data_parallel, local_rank, process_group
from .env import environment
from .errors import ConfigError
from .feeds import FEEDS
from .losses import accuracy
from .progress import bar as progress_bar
from .record import Record, finite
from .steps import STEPS
from .steps import check as check_step
from .timer import Stopwatch
from .workloads import WORKLOADS

Piece = tuple[int, int, int]  # (samples, optimizer steps, evaluation after it: NO_EVAL, METRIC or FULL)
NO_EVAL, METRIC, FULL = 0, 1, 2  # METRIC: the test metric only (the fine schedule); FULL: the train loss too


class _NoClock:
    elapsed = 0.0

    def start(self):
        pass

    def stop(self):
        pass


@dataclass
class Progress:
    samples: int = 0
    steps: int = 0
    next_eval: float = math.inf  # sample count at or after which the next evaluation falls
    next_full: float = math.inf  # ... the next full evaluation (train loss too)
    epoch_seconds: list = field(default_factory=list)


class RunSetup:
    """Everything a run needs, prepared outside the timed region: the resolved config, the device, the data on the
    device and its feed. `fresh()` gives a new model and its step; `epoch(step)` is one epoch of optimization."""

    def __init__(self, cfg: RunConfig):
        self.workload = w = WORKLOADS[cfg.workload]
        self.spec = STEPS[cfg.step]
        self.rank, self.world = process_group(cfg.world_size)
        self.device = resolve_device(cfg.device, local_rank() if self.world > 1 else None)
        check_step(self.spec, w, self.device.type, cfg.batch_size or w.batch_size, cfg.dtype, cfg.world_size)
        self.threads = cfg.threads or torch.get_num_threads()
        torch.set_num_threads(self.threads)  # set explicitly: re-applied after anything that may change it
        root = data_dir(cfg.data_dir)
        data = w.load(str(root), cfg.download, cfg.seed)
        self.data = data.head(cfg.subset) if cfg.subset else data
        n = self.data.n
        samples = cfg.samples or math.ceil((cfg.epochs or w.epochs) * n)
        self.cfg = cfg.replace(  # the resolved, frozen config stored with the record
            batch_size=resolve_batch_size(cfg.batch_size or w.batch_size, n),
            lr=float(cfg.lr or w.lr), epochs=None, samples=samples,
            target=float(cfg.target if cfg.target is not None else w.target),
            device=self.device.type, data_dir=str(root) if w.needs else None,
            eval_every=cfg.eval_every or w.eval_every, init=cfg.init or w.init, threads=self.threads,
        )
        self.dtype = DTYPES[cfg.dtype]
        dev, dt = self.device.torch_device, self.dtype
        as_dev = lambda t: None if t is None else t.to(dev, dt if t.is_floating_point() else t.dtype)  # noqa: E731
        self.eval_sets = [as_dev(t) for t in (self.data.train_x, self.data.train_y, self.data.test_x, self.data.test_y)]
        if self.world > self.cfg.batch_size:
            raise ConfigError(f"invalid world_size {self.world}; allowed: at most the batch size "
                              f"({self.cfg.batch_size}): every rank needs a share of a batch")
        self.feed = FEEDS[cfg.feed].make(self.data, self.device, dt, cfg.seed, self.cfg.batch_size,
                                         (self.rank, self.world), rows=self.spec.reads_rows(self.cfg.batch_size, self.device.type))
        self.model: torch.nn.Sequential | None = None
        self.setup_seconds: float | None = None
        self.strategy: str | None = None
        self._one_epoch = self.plan(Progress(), n)
        self._one_epoch_sizes = [size for size, _, _ in self._one_epoch]

    def fresh(self) -> Callable:
        """A new model (the same initial weights for the same seed, on every device) and its step, built (and any
        kernel compiled and warmed up) here, outside the timed region; the time it took is `setup_seconds`."""
        t0 = time.perf_counter()
        self.model = models.build(self.workload.model, self.cfg.init, self.cfg.seed, self.dtype,
                                  self.device.torch_device)
        if self.world > 1:
            step = data_parallel(self.spec, self.model, self.workload.loss, self.cfg.lr, self.cfg.batch_size,
                                 self.cfg.allreduce)
        else:
            step = self.spec.make(self.model, self.workload.loss, self.cfg.lr, self.cfg.batch_size)
        torch.set_num_threads(self.threads)  # numba's OpenMP start-up resets the process's thread count
        self.device.sync()
        self.setup_seconds = time.perf_counter() - t0
        self.strategy = getattr(step, "strategy", None)
        return step

    def start(self) -> Progress:
        """The progress of a run before its first step: evaluations planned from the config's schedule."""
        every, r, first = self.cfg.eval_every, self.cfg.resolution, self.cfg.first_eval
        if first is None:
            first = every if r is None else max(1, round(r * self.workload.eval_every))
        return Progress(next_eval=min(every, first), next_full=every)

    def next_eval(self, at: int, p: Progress) -> float:
        """The sample count of the evaluation after one at `at`: the next full one, or sooner on the fine schedule,
        whose cut (rounded up to a whole step) sees at most at / (1 - resolution) samples, or one step more."""
        r = self.cfg.resolution
        if r is None:
            return p.next_full
        geometric = max(at + 1, math.floor(at / (1 - r)) - (self.cfg.batch_size - 1))
        return min(p.next_full, geometric)

    def plan(self, p: Progress, budget: int) -> list[Piece]:
        """The next epoch cut into the pieces the step consumes: one per batch, or for a block step one per stretch
        between evaluations. Evaluations (and the end of the budget) fall at the end of the first step that reaches
        them, for every step, so all steps evaluate at the same sample counts and stop at the same budget."""
        n, bs, block = self.data.n, self.cfg.batch_size, self.spec.consumes == "block"
        pieces: list[Piece] = []
        start, pos = p.samples, 0
        while pos < n and start + pos < budget:
            cut_at = min(p.next_eval, budget) - start  # in-epoch offset the next cut must reach
            kind = NO_EVAL
            end = n
            if cut_at <= n:
                end = min(-(-cut_at // bs) * bs, n)
                at = start + end
                kind = FULL if at >= min(p.next_full, budget) else METRIC
                if kind == FULL and at < budget:
                    p.next_full = (at // self.cfg.eval_every + 1) * self.cfg.eval_every
                p.next_eval = self.next_eval(at, p)
            steps = -(-(end - pos) // bs)
            if block:
                pieces.append((end - pos, steps, kind))
            else:
                pieces += [(bs, 1, NO_EVAL)] * (steps - 1) + [(end - pos - bs * (steps - 1), 1, kind)]
            pos = end
        return pieces

    def loop(self, step, pieces: list[Piece], p: Progress, clock=_NoClock(), on_eval=None) -> bool:
        """The training loop over one epoch's pieces; on_eval(full) runs with the clock stopped and returns True to
        stop. Returns True when stopped early."""
        parallel = self.world > 1
        # the feed's cut: the same list object for every epoch() call, so a feed may cache what it derives from it
        sizes = self._one_epoch_sizes if pieces is self._one_epoch else [s for s, _, _ in pieces]
        clock.start()
        for (size, steps, evaluate), (x, y) in zip(pieces, self.feed(sizes)):
            if parallel:  # the share's weight in the global batch's gradient
                step.global_size = size
            step(x, y)
            p.samples += size
            p.steps += steps
            if evaluate and on_eval is not None:
                clock.stop()
                if on_eval(evaluate == FULL):
                    return True
                clock.start()
        clock.stop()
        return False

    def epoch(self, step) -> None:
        """One epoch of optimization and nothing else (what the benchmarks time)."""
        self.loop(step, self._one_epoch, Progress())

    def facts(self) -> dict:
        """What a benchmark of this setup records beside its times: the describing fields, the model's quality
        now, and the FLOPs and bytes an epoch cannot avoid (for the roofline)."""
        from .roofline import epoch_cost

        x, y = self.eval_sets[0], self.eval_sets[1]  # as the device holds them: bytes per sample
        return {"describe": describe(self), "evaluate": self.evaluate(), "n": self.data.n,
                "batch_size": self.cfg.batch_size,
                "cost": epoch_cost(self.model, self.data.n, x[0].numel() * x.element_size(),
                                   y[0].numel() * y.element_size())}

    @torch.no_grad()
    def evaluate(self, train: bool = True) -> tuple[float | None, float | None, float | None]:
        """(train loss over the whole training set, or None when not `train` and the metric does not need it; test
        loss or None; the workload's metric, or None when the model diverged: a metric computed from NaN outputs
        is not a result)."""
        w, (tx, ty, vx, vy) = self.workload, self.eval_sets
        train_loss = test_loss = test_metric = None
        if train or w.metric.name == "train_loss":
            train_loss = w.loss.value(self.model(tx), ty).item()
        if vx is not None:
            out = self.model(vx)
            test_loss = w.loss.value(out, vy).item()
            test_metric = accuracy(out, vy).item() if w.metric.name == "test_accuracy" else test_loss
        value = train_loss if w.metric.name == "train_loss" else test_metric
        if any(v is not None and not math.isfinite(v) for v in (train_loss, test_loss)):
            value = None
        return train_loss, test_loss, value


def run(cfg: RunConfig, observe: Callable[[torch.nn.Module, dict], None] | None = None) -> dict:
    """Runs one configuration and returns its record (the JSON object `gdcore run` prints).

    observe(model, point) is called at every evaluation, outside the timed region. Inside gdcore.progress.shown(), a
    bar over the sample budget (on stderr) moves at every evaluation too, showing the latest metric."""
    tr = RunSetup(cfg)
    cfg, metric, n = tr.cfg, tr.workload.metric, tr.data.n
    step = tr.fresh()
    clock = Stopwatch(tr.device)
    bar = progress_bar(total=cfg.samples, unit="sample", unit_scale=True, desc=f"{cfg.workload} batch {cfg.batch_size}")
    curve: list[dict] = []
    p = tr.start()
    state = {"hit": None, "before": None, "diverged": False, "test_loss": None}

    def on_eval(full: bool = True) -> bool:
        """Records a curve point; True when the run must stop (diverged, or target reached with stop_at_target).
        A point where the run stops is always a full one (its train loss is the record's final one)."""
        train_loss, test_loss, value = tr.evaluate(train=full)
        hit = state["hit"] or (value is not None and metric.reached(value, cfg.target))
        stop = value is None or (hit and cfg.stop_at_target)
        if stop and not full:
            train_loss, test_loss, value = tr.evaluate()
        point = {"samples": p.samples, "steps": p.steps, "seconds": clock.elapsed,
                 "train_loss": finite(train_loss), "test_metric": finite(value)}
        if state["hit"] is None and hit:
            state["hit"], state["before"] = point, curve[-1] if curve else None
        curve.append(point)
        state["test_loss"] = test_loss
        bar.set_postfix_str(f"{metric.name} {'diverged' if value is None else format(value, '.4g')}", refresh=False)
        bar.update(p.samples - bar.n)
        if observe:
            observe(tr.model, point)
        state["diverged"] = value is None
        return stop

    with bar:  # closed (its line ended) before the record is printed or an error is
        stopped = on_eval()
        while not stopped and p.samples < cfg.samples:
            start, before = p.samples, clock.elapsed
            stopped = tr.loop(step, tr.plan(p, cfg.samples), p, clock, on_eval)
            if p.samples - start == n:
                p.epoch_seconds.append(clock.elapsed - before)
    return record(tr, p, state, curve, clock.elapsed).to_dict()


def describe(tr: RunSetup) -> dict:
    """The fields of a record that say what ran and where (read after the run: the threads that actually ran)."""
    cfg, env = tr.cfg, environment()
    identity = {"workload", "batch_size", "lr", "feed", "step", "device", "seed", "target", "world_size"}
    return {
        **{k: getattr(cfg, k) for k in identity}, "metric_name": tr.workload.metric.name,
        "device_name": tr.device.name, "threads": env["threads"], "torch_version": env["torch_version"],
        "setup_seconds": tr.setup_seconds, "strategy": tr.strategy, "n": tr.data.n, "world_size": tr.world,
        # the rest of the resolved config; `epochs` is resolved into `samples`, `threads` is the record's own field
        "config": {k: v for k, v in cfg.to_dict().items() if k not in identity | {"epochs", "threads"}},
    }


def record(tr: RunSetup, p: Progress, state: dict, curve: list, seconds: float) -> Record:
    last, hit, before = curve[-1], state["hit"], state["before"]
    return Record(
        **describe(tr), epochs=p.samples / tr.data.n, samples_seen=p.samples, steps=p.steps,
        train_seconds=seconds, seconds_per_epoch=p.epoch_seconds, final_train_loss=last["train_loss"],
        final_test_loss=finite(state["test_loss"]), final_test_metric=last["test_metric"],
        samples_to_target=hit and hit["samples"], steps_to_target=hit and hit["steps"],
        seconds_to_target=hit and hit["seconds"], diverged=state["diverged"], curve=curve,
        # the evaluation before the one that reached the target: the figure lies in (lower, samples_to_target]
        samples_to_target_lower=before and before["samples"], steps_to_target_lower=before and before["steps"],
    )


__all__ = ["RunSetup", "run", "ConfigError", "Progress"]
