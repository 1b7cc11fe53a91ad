"""The step registry: every way of writing a step, registered once with what it supports. Adding a step is one
module with its SPEC and one line here."""
from __future__ import annotations

from ..registry import Registry
from . import c_loop, compiled, fused, jax_scan, plain, sklearn_sgd
from .spec import Step, StepSpec

STEPS: Registry[StepSpec] = Registry("step", [plain.AUTOGRAD, plain.OPTIM, plain.CLOSED_FORM, fused.SPEC, c_loop.SPEC,
                                          jax_scan.SPEC, sklearn_sgd.SPEC, compiled.SPEC])

__all__ = ["STEPS", "Step", "StepSpec"]
