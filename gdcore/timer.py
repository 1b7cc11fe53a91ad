"""Clocks that are honest on every device: they synchronize before reading the time."""
from __future__ import annotations

import time
from typing import Callable

from .device import Device


def synced_clock(device: Device) -> Callable[[], float]:
    """A perf_counter that first waits for queued device work (hand it to pytest-benchmark as its timer)."""
    if device.type == "cpu":
        return time.perf_counter

    def clock() -> float:
        device.sync()
        return time.perf_counter()

    return clock


class Stopwatch:
    """Accumulates the time between start() and stop(); evaluation happens while it is stopped."""

    def __init__(self, device: Device):
        self.clock = synced_clock(device)
        self.elapsed = 0.0
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = self.clock()

    def stop(self) -> float:
        self.elapsed += self.clock() - self._t0
        self._t0 = None
        return self.elapsed
