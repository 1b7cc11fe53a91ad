"""The benchmark grids, declared once as data, and their expansion into cases per profile.

Samples-to-target and final-loss cases run on the `preloaded` path with the `closed-form` step: the tests show that
every path and impl follows the same trajectory, so those quality figures do not depend on them, and this is the
fastest way to get them. Seconds per epoch are measured for every path and impl.
"""
from __future__ import annotations

from dataclasses import dataclass

from gdcore import IMPLS, PATHS, RunConfig
from gdcore.workloads import MAIN_WORKLOADS

BATCH_SIZES = (1, 8, 64, 512, "full")
FUSED_WORKLOADS = ("mnist-logreg", "airfoil-linreg", "toy-linear")  # impl "fused" covers the linear models
PROFILES = ("quick", "default", "full")

# Seconds per epoch: profile -> [(workload, training-set slice or None for all of it, batch sizes)].
EPOCH_TIME = {
    "quick": [("mnist-logreg", 2000, (1, 64, "full")), ("synth-regression", 1000, (1, 64, "full"))],
    "default": [("mnist-logreg", None, BATCH_SIZES), ("airfoil-linreg", None, BATCH_SIZES),
                ("synth-regression", None, BATCH_SIZES)],
    "full": [(w, None, BATCH_SIZES) for w in MAIN_WORKLOADS],
}
ROUNDS = {"quick": 2, "default": 3, "full": 5}  # timed rounds (epochs) per case, after one warm-up round
SLOW_ROUNDS = {"quick": 2, "default": 1, "full": 2}  # for cases of several seconds per epoch (see is_slow)

# Samples to target: workload -> {batch size: learning-rate grid}; every (batch size, lr) is one case.
LR_GRID = {
    "mnist-logreg": {1: (0.003, 0.01, 0.03), 8: (0.03, 0.1, 0.3), 64: (0.1, 0.3, 1.0), 512: (0.3, 1.0, 3.0),
                     "full": (1.0, 2.0, 4.0)},
    "airfoil-linreg": {1: (0.001, 0.005, 0.02), 8: (0.01, 0.05, 0.2), 64: (0.05, 0.2, 0.5), 512: (0.2, 0.5, 1.0),
                       "full": (0.5, 1.0, 1.5)},
    "synth-regression": {1: (0.001, 0.003, 0.01), 8: (0.003, 0.01, 0.03), 64: (0.01, 0.03, 0.1),
                         512: (0.03, 0.06, 0.1), "full": (0.03, 0.06, 0.1)},
    "mnist-mlp": {1: (0.003, 0.01, 0.03), 8: (0.03, 0.1, 0.3), 64: (0.1, 0.3, 1.0), 512: (0.3, 1.0, 2.0),
                  "full": (0.5, 1.0, 2.0)},
    "synth-binary": {1: (0.001, 0.01), 8: (0.01, 0.1), 64: (0.01, 0.1), 512: (0.1, 1.0), "full": (0.1, 1.0)},
    "mnist-seed-logreg": {1: (0.001, 0.01, 0.1), 8: (0.01, 0.1, 1.0), 64: (0.1, 1.0, 3.0), 512: (1.0, 3.0, 10.0),
                          "full": (1.0, 3.0, 10.0)},
    "toy-linear": {1: (0.01, 0.03, 0.1), "full": (0.01, 0.03, 0.1)},
    "random-mlp": {1: (1e-7, 1e-6), 8: (1e-7, 1e-6), "full": (1e-6, 3e-6)},
}
# The sample budget of a samples-to-target run, in epochs, by batch size (small batches reach targets in fewer epochs).
TARGET_EPOCHS = {1: 2, 8: 3, 64: 5, 512: 20, "full": 100}
TARGET_WORKLOADS = {"quick": ["mnist-logreg"], "default": ["mnist-logreg", "airfoil-linreg", "synth-regression"],
                    "full": list(LR_GRID)}
QUICK_LRS = {1: (0.01,), 64: (0.5,), "full": (1.0,)}  # quick: one sensible lr for three batch sizes

# Final loss after a fixed budget (epochs) per workload, at the middle lr of each batch size's grid.
FINAL_EPOCHS = {"mnist-logreg": 1, "airfoil-linreg": 2, "synth-regression": 5, "mnist-mlp": 1, "synth-binary": 1,
                "mnist-seed-logreg": 1, "toy-linear": 100, "random-mlp": 100}
FINAL_QUICK = [("synth-regression", 1000, (1, 64, "full"))]


@dataclass(frozen=True)
class Case:
    kind: str  # "epoch_time", "samples_to_target", "final_loss"
    workload: str
    device: str
    batch_size: int | str
    path: str = "preloaded"
    impl: str = "closed-form"
    lr: float | None = None
    subset: int | None = None
    rounds: int = 1
    epochs: float | None = None

    @property
    def id(self) -> str:
        parts = [self.workload, self.device]
        if self.kind in ("epoch_time", "c_loop"):
            parts += [self.path, self.impl]
        parts.append(f"bs{self.batch_size}")
        if self.lr is not None and self.kind not in ("epoch_time", "c_loop"):
            parts.append(f"lr{self.lr:g}")
        if self.subset:
            parts.append(f"n{self.subset}")
        return "-".join(parts)

    def config(self, data_dir: str, **changes) -> RunConfig:
        kw = dict(workload=self.workload, batch_size=self.batch_size, lr=self.lr, path=self.path, impl=self.impl,
                  device=self.device, subset=self.subset, epochs=self.epochs, data_dir=data_dir)
        return RunConfig(**{**kw, **changes})

    @property
    def group(self) -> str:
        return f"{self.kind.replace('_', '-')} {self.workload} {self.device}"


def _n(workload: str) -> int | None:
    return {"toy-linear": 3, "random-mlp": 64, "airfoil-linreg": 1500}.get(workload)


def _fits(workload: str, bs, subset) -> bool:
    n = subset or _n(workload)
    return bs == "full" or n is None or bs < n


def is_slow(workload: str, subset, bs, path: str) -> bool:
    """Seconds per epoch on a 2-core CPU: full MNIST through the DataLoader, or batch 1 on full MNIST or synth data."""
    big = not subset and (workload.startswith("mnist") or workload.startswith("synth"))
    return big and (bs == 1 or (path == "dataloader" and workload.startswith("mnist")))


def impls(workload: str, device: str) -> tuple[str, ...]:
    return tuple(i for i in IMPLS if i != "fused" or workload in FUSED_WORKLOADS)


def epoch_time_cases(profile: str, devices) -> list[Case]:
    return [
        Case("epoch_time", w, dev, bs, path, impl, subset=subset,
             rounds=SLOW_ROUNDS[profile] if is_slow(w, subset, bs, path) else ROUNDS[profile])
        for w, subset, sizes in EPOCH_TIME[profile] for dev in devices for bs in sizes if _fits(w, bs, subset)
        for path in PATHS for impl in impls(w, dev)
    ]


def samples_to_target_cases(profile: str, devices) -> list[Case]:
    cases = []
    for w in TARGET_WORKLOADS[profile]:
        grid = QUICK_LRS if profile == "quick" else LR_GRID[w]
        for dev in devices:
            for bs, lrs in grid.items():
                if _fits(w, bs, None):
                    cases += [Case("samples_to_target", w, dev, bs, lr=lr, epochs=TARGET_EPOCHS[bs]) for lr in lrs]
    return cases


def final_loss_cases(profile: str, devices) -> list[Case]:
    scope = FINAL_QUICK if profile == "quick" else [(w, None, BATCH_SIZES) for w in TARGET_WORKLOADS[profile]]
    return [
        Case("final_loss", w, dev, bs, lr=LR_GRID[w][bs][len(LR_GRID[w][bs]) // 2], subset=subset,
             epochs=FINAL_EPOCHS[w])
        for w, subset, sizes in scope for dev in devices for bs in sizes if bs in LR_GRID[w] and _fits(w, bs, subset)
    ]


# The plain C loop of issue 6 (SGD, batch 1, softmax regression), timed beside the fused step.
C_LOOP = {"quick": [("mnist-logreg", 2000)], "default": [("mnist-logreg", None)], "full": [("mnist-logreg", None)]}


def c_loop_cases(profile: str, devices) -> list[Case]:
    return [Case("c_loop", w, "cpu", 1, "preloaded", "c-loop", lr=0.01, subset=subset, rounds=ROUNDS[profile])
            for w, subset in C_LOOP[profile]]


CASES = {"c_loop": c_loop_cases, "epoch_time": epoch_time_cases, "samples_to_target": samples_to_target_cases, "final_loss": final_loss_cases}
