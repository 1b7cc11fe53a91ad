"""The plain C loop as a step (`c-loop`): SGD at batch 1 for softmax regression, one thread, -O3 -march=native. A
yardstick for the compiled steps, built with the machine's C compiler on first use (outside any timed region)."""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..losses import CROSS_ENTROPY, Loss
from .spec import StepSpec, frozen, linear_model

SOURCE = Path(__file__).with_name("sgd_epoch.c")
CLASSES = 10  # the loop keeps its 10 logits in registers (sgd_epoch.c's K)


def compiler() -> str | None:
    return shutil.which("cc") or shutil.which("gcc")


def build() -> ctypes.CDLL:
    """The shared library, compiled once per source version into a cache folder."""
    cc = compiler()
    if cc is None:
        raise ConfigError("step 'c-loop' needs a C compiler (cc or gcc) on PATH; allowed without one: autograd, "
                          "optim, closed-form, fused")
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gdcore"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache = Path(tempfile.gettempdir())
    lib = cache / f"sgd_epoch-{digest}.so"
    if not lib.exists():
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        done = subprocess.run([cc, "-O3", "-march=native", "-shared", "-fPIC", "-o", str(tmp), str(SOURCE), "-lm"],
                              capture_output=True, text=True)
        if done.returncode:
            raise ConfigError(f"step 'c-loop': {cc} failed to build {SOURCE.name}: "
                              f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
        tmp.replace(lib)  # atomic: a concurrent build never loads a half-written file
    fn = ctypes.CDLL(str(lib)).sgd_epoch
    fn.restype = None
    p = ctypes.c_void_p
    fn.argtypes = [p, p, ctypes.c_long, ctypes.c_long, ctypes.c_long, p, p, ctypes.c_float]
    return fn


def c_loop(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    fn = build()
    lin = model[0]
    frozen(model)
    Wt = np.ascontiguousarray(lin.weight.numpy().T)  # input-major, see sgd_epoch.c
    b = lin.bias.numpy()  # a view: updated in place

    def step(x, y):
        X = x.numpy()
        labels = y.numpy()
        fn(X.ctypes.data, labels.ctypes.data, X.shape[0], X.shape[1], CLASSES, Wt.ctypes.data, b.ctypes.data, lr)
        lin.weight.copy_(torch.from_numpy(Wt.T))  # the model reads its weights back (7850 floats, microseconds)

    step.strategy = "c"
    return step


def supports(workload, device: str, batch_size, dtype: str) -> str | None:
    lin = linear_model(workload)
    if lin is None or workload.loss is not CROSS_ENTROPY or lin.out_features != CLASSES or lin.bias is None:
        return "it is written for softmax regression with 10 classes (mnist-logreg)"
    if device != "cpu" or dtype != "float32" or batch_size != 1:
        return "it runs SGD at batch size 1, in float32, on the CPU"
    if compiler() is None:
        return "no C compiler (cc, gcc) on PATH"
    return None


SPEC = StepSpec("c-loop", c_loop, "a plain C loop (SGD, batch 1, softmax regression), one thread: a yardstick",
                consumes="block", supports=supports, family="reference")
