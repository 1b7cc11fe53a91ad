"""The benchmark grids, declared once as data: one Grid per workload (everything the suite knows about it), and one
Profile per profile name (what runs). Their expansion into cases is at the bottom.

Samples-to-target and final-loss cases run on the `preloaded` feed with the fastest step that follows the same
trajectory (`fused` for the linear models, else `closed-form`): the tests show that every feed and step follows the
same trajectory, so those quality figures do not depend on them. A samples-to-target case tunes the learning rate of
its batch size (gdcore.tune: the grid below is where the search starts) over the profile's seeds, and evaluates
finely enough that its figures are resolved to within RESOLUTION. Seconds per epoch are measured for every step
that supports the case (the step registry says which); on the other feeds, the profile says which steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gdcore.feeds import FEEDS
from gdcore.steps import STEPS
from gdcore.workloads import WORKLOADS

BATCH_SIZES = (1, 8, 64, 512, "full")
ANY = None


@dataclass(frozen=True)
class Grid:
    """Everything the suite knows about one workload; its size and the data it needs come from the workload."""

    workload: str
    lrs: dict  # batch size -> learning rates the samples-to-target search starts from (final loss: the middle one)
    final_epochs: float  # sample budget of the final-loss cases, in epochs
    # (batch size, feed) of epoch-time cases that take seconds per epoch on a 2-core CPU at full size (ANY: every)
    slow: tuple = ()
    # batch size -> sample budget (epochs) of its samples-to-target search, where TARGET_EPOCHS is too short
    target_epochs: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return WORKLOADS[self.workload].n

    @property
    def needs(self) -> str | None:
        return WORKLOADS[self.workload].needs

    def is_slow(self, bs, feed: str, subset) -> bool:
        return not subset and any(b in (ANY, bs) and f in (ANY, feed) for b, f in self.slow)

    def fits(self, bs, subset=None) -> bool:
        return bs == "full" or bs < (subset or self.n)

    def middle_lr(self, bs) -> float:
        return self.lrs[bs][len(self.lrs[bs]) // 2]


MNIST_SLOW = ((1, ANY), (ANY, "dataloader"))
GRIDS = {g.workload: g for g in [
    Grid("mnist-logreg", {1: (0.003, 0.01, 0.03), 8: (0.03, 0.1, 0.3), 64: (0.1, 0.3, 1.0), 512: (0.3, 1.0, 3.0),
                          "full": (1.0, 2.0, 4.0)}, final_epochs=1, slow=MNIST_SLOW),
    Grid("airfoil-linreg", {1: (0.001, 0.005, 0.02), 8: (0.01, 0.05, 0.2), 64: (0.05, 0.2, 0.5), 512: (0.2, 0.5, 1.0),
                            "full": (0.5, 1.0, 1.5)}, final_epochs=2),
    # large batches are held back by curvature, not noise: about 260-300 steps at any batch from 512 up
    Grid("synth-regression", {1: (0.001, 0.003, 0.01), 8: (0.003, 0.01, 0.03), 64: (0.01, 0.03, 0.1),
                              512: (0.03, 0.06, 0.1), "full": (0.06, 0.1, 0.14)}, final_epochs=5, slow=((1, ANY),),
         target_epochs={512: 40, "full": 400}),
    Grid("mnist-mlp", {1: (0.003, 0.01, 0.03), 8: (0.03, 0.1, 0.3), 64: (0.1, 0.3, 1.0), 512: (0.3, 1.0, 2.0),
                       "full": (0.5, 1.0, 2.0)}, final_epochs=1, slow=MNIST_SLOW),
    Grid("synth-binary", {1: (0.001, 0.01), 8: (0.01, 0.1), 64: (0.01, 0.1), 512: (0.1, 1.0), "full": (0.1, 1.0)},
         final_epochs=1, slow=((1, ANY),)),
    Grid("mnist-seed-logreg", {1: (0.001, 0.01, 0.1), 8: (0.01, 0.1, 1.0), 64: (0.1, 1.0, 3.0),
                               512: (1.0, 3.0, 10.0), "full": (1.0, 3.0, 10.0)}, final_epochs=1, slow=MNIST_SLOW),
    Grid("toy-linear", {1: (0.01, 0.03, 0.1), "full": (0.01, 0.03, 0.1)}, final_epochs=100),
    # 64 samples: the train loss 1.0 takes 80-260 epochs at lr 1e-6 to 3e-6 (seed 004 trains 500)
    Grid("random-mlp", {1: (1e-7, 1e-6), 8: (1e-7, 1e-6), "full": (1e-6, 3e-6)}, final_epochs=100,
         target_epochs={1: 300, 8: 300, "full": 600}),
]}
# The sample budget of a samples-to-target run, in epochs, by batch size (small batches reach targets in fewer epochs).
TARGET_EPOCHS = {1: 2, 8: 3, 64: 5, 512: 10, "full": 60}
RESOLUTION = 0.1  # samples to target resolved to within 10 % (or one step): see RunConfig.resolution
QUALITY_STEPS = ("fused", "closed-form")  # the first that supports a case runs its quality figures


def quality_step(workload: str, device: str, bs) -> str:
    wl = WORKLOADS[workload]
    return next(s for s in QUALITY_STEPS if STEPS[s].supports(wl, device, bs, "float32") is None)


@dataclass(frozen=True)
class Profile:
    epoch_time: list  # [(workload, training-set slice or None, batch sizes)]
    samples_to_target: list  # [workload]
    final_loss: list  # [(workload, slice, batch sizes)]
    rounds: int  # timed rounds (epochs) per epoch-time case, after one warm-up round
    slow_rounds: int  # for the Grid's slow cases
    lr_override: dict = field(default_factory=dict)  # batch size -> lrs (quick: one sensible lr per batch size)
    seeds: tuple = (0, 1, 2)  # every quality figure is the median over these seeds, with its range
    max_lrs: int = 8  # cap on the learning rates one samples-to-target search tries
    # on feeds other than preloaded, time every step (False) or only the quality step (True: the fastest with the
    # same math, which shows a feed's own cost best)
    feed_quality_step_only: bool = False
    # data parallelism: [(workload, slice, batch sizes, world sizes above 1)], timed for every distributable step on
    # the preloaded feed at the same total thread count, plus closed-form without its all-reduce (what it costs)
    parallel: list = field(default_factory=list)


PROFILES = {
    "quick": Profile([("mnist-logreg", 2000, (1, 64, "full")), ("synth-regression", 1000, (1, 64, "full"))],
                     ["mnist-logreg"], [("synth-regression", 1000, (1, 64, "full"))], rounds=5, slow_rounds=3,
                     lr_override={1: (0.01,), 64: (0.5,), "full": (1.0,)}, seeds=(0,), max_lrs=1,
                     parallel=[("mnist-logreg", 2000, (64,), (2,))]),
    "default": Profile([(w, None, BATCH_SIZES) for w in ("mnist-logreg", "airfoil-linreg", "synth-regression")],
                       ["mnist-logreg", "airfoil-linreg", "synth-regression"],
                       [(w, None, BATCH_SIZES) for w in ("mnist-logreg", "airfoil-linreg", "synth-regression")],
                       rounds=3, slow_rounds=1, parallel=[("mnist-logreg", None, (64, 512, "full"), (2,))],
                       feed_quality_step_only=True),
    "full": Profile([(w, None, BATCH_SIZES) for w in GRIDS], list(GRIDS), [(w, None, BATCH_SIZES) for w in GRIDS],
                    rounds=5, slow_rounds=2, parallel=[("mnist-logreg", None, (64, 512, "full"), (2,))],
                    seeds=(0, 1, 2, 3, 4)),
}


@dataclass(frozen=True)
class Case:
    """One benchmark case: its plain parameters (what pytest parametrizes) and what the grid adds."""

    kind: str  # "epoch_time", "samples_to_target", "final_loss"
    workload: str
    device: str
    feed: str
    step: str
    batch_size: int | str
    lr: float | None
    subset: int | None
    world_size: int = 1
    allreduce: bool = True
    threads: int | None = None  # per process; None: the suite's --gd-threads
    rounds: int = 1
    epochs: float | None = None
    lrs: tuple = ()  # where a samples-to-target search starts (its lr parameter is None: the search picks it)

    PARAMS = ("workload", "device", "feed", "step", "batch_size", "lr", "subset", "world_size", "allreduce", "threads")

    @property
    def record_kind(self) -> str:
        """A one-process case timed only as the reference of the data-parallel ones (its own thread count)."""
        return "scaling_reference" if self.kind == "epoch_time" and self.threads and self.world_size == 1 \
            else self.kind

    @property
    def params(self) -> tuple:
        return tuple(getattr(self, k) for k in self.PARAMS)

    @property
    def id(self) -> str:
        parts = [self.workload, self.device]
        if self.kind == "epoch_time":
            parts += [self.feed, self.step]
        parts.append(f"bs{self.batch_size}")
        if self.kind != "epoch_time":
            parts.append("tuned" if self.lr is None else f"lr{self.lr:g}")
        if self.subset:
            parts.append(f"n{self.subset}")
        if self.world_size > 1:
            parts.append(f"K{self.world_size}" + ("" if self.allreduce else "-noallreduce"))
        if self.threads:
            parts.append(f"t{self.threads}")
        return "-".join(parts)

    @property
    def group(self) -> str:
        return f"{self.kind.replace('_', '-')} {self.workload} {self.device}"


def epoch_time_cases(profile: str, devices, threads: int = 1) -> list[Case]:
    prof, out = PROFILES[profile], []
    for w, subset, sizes in prof.epoch_time:
        g, wl = GRIDS[w], WORKLOADS[w]
        for dev in devices:
            for bs in sizes:
                if not g.fits(bs, subset):
                    continue
                for feed in FEEDS:
                    for spec in STEPS.values():
                        # peers and references are timed on the preloaded feed: the feed's cost is measured with
                        # gdcore's own steps, and a DataLoader epoch at batch 1 would only time the DataLoader
                        if feed != "preloaded" and (spec.family != "gdcore" or prof.feed_quality_step_only
                                                    and spec.name != quality_step(w, dev, bs)):
                            continue
                        if spec.supports(wl, dev, bs, "float32") is None:
                            rounds = prof.slow_rounds if g.is_slow(bs, feed, subset) else prof.rounds
                            out.append(Case("epoch_time", w, dev, feed, spec.name, bs, wl.lr, subset,
                                            rounds=rounds))
    for w, subset, sizes, worlds in prof.parallel:
        wl = WORKLOADS[w]
        for dev in devices:
            for bs in sizes:
                for k in worlds:
                    t = max(1, threads // k)  # the ranks split the suite's threads: the same cores in all
                    steps = [s.name for s in STEPS.values() if s.distributed and s.supports(wl, dev, bs, "float32") is None]
                    for step in steps:
                        for world in (1, k):  # the one-process reference at the ranks' thread count, and K ranks
                            out.append(Case("epoch_time", w, dev, "preloaded", step, bs, wl.lr, subset, world,
                                            threads=t, rounds=prof.rounds))
                    out.append(Case("epoch_time", w, dev, "preloaded", "closed-form", bs, wl.lr, subset, k,
                                    allreduce=False, threads=t, rounds=prof.rounds))
    return list(dict.fromkeys(out))


def samples_to_target_cases(profile: str, devices, threads: int = 1) -> list[Case]:
    prof, out = PROFILES[profile], []
    for w in prof.samples_to_target:
        g = GRIDS[w]
        for dev in devices:
            for bs, lrs in (prof.lr_override or g.lrs).items():
                if g.fits(bs):
                    out.append(Case("samples_to_target", w, dev, "preloaded", quality_step(w, dev, bs), bs, None,
                                    None, epochs=g.target_epochs.get(bs, TARGET_EPOCHS[bs]), lrs=tuple(lrs)))
    return out


def final_loss_cases(profile: str, devices, threads: int = 1) -> list[Case]:
    return [Case("final_loss", w, dev, "preloaded", quality_step(w, dev, bs), bs, GRIDS[w].middle_lr(bs), subset,
                 epochs=GRIDS[w].final_epochs)
            for w, subset, sizes in PROFILES[profile].final_loss for dev in devices for bs in sizes
            if bs in GRIDS[w].lrs and GRIDS[w].fits(bs, subset)]


CASES = {"epoch_time": epoch_time_cases, "samples_to_target": samples_to_target_cases,
         "final_loss": final_loss_cases}
