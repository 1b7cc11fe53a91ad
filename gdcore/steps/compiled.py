"""The `compiled` peer: `torch.compile` (inductor) of the closed-form step, the math of `plain.closed_form`
(`models.backward`, then `torch._foreach_add_`), for every model closed-form runs.

Compilation happens in `make`, outside any timed region, on dummy batches and a copy of the model (the model itself
is not changed); the seconds it took are `step.compile_seconds` (and part of the record's `setup_seconds`).

Batch shapes: batches of one row are compiled for that shape (static). From batch size 2 on, the batch dimension of
x and y is marked dynamic (`torch._dynamo.mark_dynamic`), so that the epoch's short last batch (n % batch_size rows)
reuses a compiled graph instead of recompiling in the timed loop. Torch still compiles apart a few size ranges (size 1
is specialized; inductor's CPU reductions switch code at 4097 rows): make warms up one size of each range a batch of
this size or shorter can fall in. Padding was the alternative; it would change the mean's denominator and need a
masked loss, so the closed-form math could not be used as it is.

Each configuration (model structure, loss, dtype, device, batch-size mode) gets its own copy of the step function's
code object, so that dynamo's per-code recompile limit (8) is never reached across the many configurations a test
session builds; a new model of the same structure reuses the compiled code (torch guards on shapes, not identities).
"""
from __future__ import annotations

import copy
import os
import shutil
import time
import types

import torch
from torch import nn

from ..errors import ConfigError
from ..losses import CROSS_ENTROPY, Loss
from ..models import backward
from .jax_scan import missing
from .spec import StepSpec, frozen

BROKEN: dict[str, str] = {}  # device -> why torch.compile failed there in this process (supports() then says so)
WORKED: set[str] = set()  # devices where a compile succeeded: a later failure there is the model's, not the machine's


def _step(model, params, x, y, loss, lr):
    value, grads = backward(model, x, y, loss)
    torch._foreach_add_(params, grads, alpha=-lr)
    return value


_COMPILED: dict[tuple, object] = {}


def compiled_step(key: tuple):
    """torch.compile of a copy of _step with its own code object (its own dynamo cache), one per key."""
    if key not in _COMPILED:
        name = f"_step_{len(_COMPILED)}"
        code = _step.__code__.replace(co_name=name, co_qualname=name)
        _COMPILED[key] = torch.compile(types.FunctionType(code, _step.__globals__, name))
    return _COMPILED[key]


def _dims(model: nn.Sequential) -> tuple[int, int]:
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return linears[0].in_features, linears[-1].out_features


def _dummy(rows: int, model: nn.Sequential, loss: Loss, like: torch.Tensor):
    d, k = _dims(model)
    x = torch.zeros((rows, d), dtype=like.dtype, device=like.device)
    y = (torch.zeros(rows, dtype=torch.int64, device=like.device) if loss is CROSS_ENTROPY
         else torch.zeros((rows, k), dtype=like.dtype, device=like.device))
    return x, y


def compiled(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    params = frozen(model)
    first = params[0]
    dynamic = batch_size > 1
    structure = tuple((type(m).__name__, tuple(getattr(m, "weight", torch.empty(0)).shape), getattr(m, "bias", None)
                       is not None) for m in model)
    fn = compiled_step((structure, loss.name, first.dtype, first.device.type, dynamic, float(lr)))

    def mark(x, y):
        torch._dynamo.mark_dynamic(x, 0)
        torch._dynamo.mark_dynamic(y, 0)

    # Warm up on a copy of the model, at every size range torch may compile apart: the batch size; a small size no
    # other dimension has (a short last batch; inductor's CPU code splits reductions at 4096 rows, so a large batch
    # and a small tail get different graphs); one row (torch specializes size 1).
    shadow = copy.deepcopy(model)
    shadow_params = list(shadow.parameters())
    taken = {s for p in params for s in p.shape} | set(_dims(model))
    small = next(s for s in range(2, 10**6) if s not in taken)
    sizes = [batch_size] + ([small] if small < batch_size else []) + [1] if dynamic else [1]
    t0 = time.perf_counter()
    try:
        for rows in sizes:
            x, y = _dummy(rows, model, loss, first)
            if rows > 1:
                mark(x, y)
            fn(shadow, shadow_params, x, y, loss, lr)
        if first.is_cuda:
            torch.cuda.synchronize()
    except Exception as e:  # inductor without a working compiler, an unsupported Python, ...
        first_line = (str(e).strip().splitlines() or [""])[0]
        reason = f"torch.compile failed here: {type(e).__name__}: {first_line}"
        if first.device.type not in WORKED:
            BROKEN[first.device.type] = reason
        raise ConfigError(f"step 'compiled': {reason}") from e
    compile_seconds = time.perf_counter() - t0
    WORKED.add(first.device.type)

    def step(x, y):
        return fn(model, params, x, y, loss, lr)

    step.compile_seconds = compile_seconds
    step.strategy = f"torch-compile-inductor-{'dynamic-batch' if dynamic else 'static'}"
    return step


def supports(workload, device: str, batch_size, dtype: str) -> str | None:
    if device in BROKEN:
        return BROKEN[device]
    if device == "cuda":
        reason = missing("triton", "triton")
        return reason and "torch.compile needs triton on CUDA (it comes with torch's CUDA wheels)"
    cxx = os.environ.get("CXX")
    if not (cxx and shutil.which(cxx)) and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        return "torch.compile's CPU backend (inductor) needs a C++ compiler (g++, c++, clang++ or $CXX) on PATH"
    return None


SPEC = StepSpec("compiled", compiled, "peer: torch.compile (inductor) of the closed-form step, compiled when the step "
                "is made", supports=supports, family="peer")
