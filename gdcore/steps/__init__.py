"""The step registry: every way of writing a step, registered once with what it supports. Adding a step is one
module with its SPEC and one line here."""
from __future__ import annotations

from ..errors import ConfigError
from ..registry import Registry
from . import c_loop, compiled, fused, jax_scan, plain, sklearn_sgd
from .spec import Step, StepSpec

STEPS: Registry[StepSpec] = Registry("step", [plain.AUTOGRAD, plain.OPTIM, plain.CLOSED_FORM, fused.SPEC, c_loop.SPEC,
                                          jax_scan.SPEC, sklearn_sgd.SPEC, compiled.SPEC])



def check(spec: StepSpec, workload, device: str, batch_size, dtype: str, world_size: int = 1) -> None:
    """ConfigError when `spec` cannot run the case, saying why and which registered steps can."""
    if world_size > 1 and spec.distributed is None:
        ok = [s.name for s in STEPS.values() if s.distributed]
        raise ConfigError(f"step {spec.name!r} cannot run on several processes (world_size {world_size}); "
                          f"allowed with world_size above 1: {', '.join(ok)}")
    reason = spec.supports(workload, device, batch_size, dtype)
    if reason:
        ok = [s.name for s in STEPS.values() if not s.supports(workload, device, batch_size, dtype)]
        raise ConfigError(f"step {spec.name!r} cannot run {workload.name} on {device} at batch size {batch_size} "
                          f"({dtype}): {reason}; allowed here: {', '.join(ok)}")


__all__ = ["STEPS", "Step", "StepSpec", "check"]
