"""Progress bars of the long commands (`gdcore run`, `seeds`, `report`): tqdm on stderr, with an ETA.

A bar is drawn only inside `shown()`, which the gdcore command enters unless --quiet: library calls (the benchmarks,
the learning-rate search) stay silent. A bar appears once its work has taken DELAY_S seconds, so short work prints
nothing; TQDM_DELAY=SECONDS sets that wait (0: at once), as tqdm's other TQDM_* variables set its other defaults."""
from __future__ import annotations

import math
import os
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import ConfigError

DELAY_S = 2.0  # work shorter than this shows no bar: for it a bar is noise
_shown: ContextVar[bool] = ContextVar("gdcore_progress_shown", default=False)


def delay() -> float:
    """Seconds before a bar appears: $TQDM_DELAY, else DELAY_S."""
    text = os.environ.get("TQDM_DELAY")
    if text is None:
        return DELAY_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value >= 0:
        raise ConfigError(f"invalid TQDM_DELAY {text!r}; allowed: a number of seconds >= 0")
    return value


@contextmanager
def shown(on: bool = True):
    """Bars made inside are drawn (on=True) or not (on=False)."""
    token = _shown.set(on)
    try:
        yield
    finally:
        _shown.reset(token)


def is_shown() -> bool:
    return _shown.get()


class _Silent:
    """What bar() gives outside shown(): tqdm's interface, drawing nothing and making no tqdm (whose first instance
    makes a multiprocessing lock: a data-parallel rank killed mid-run would leak its semaphore)."""

    disable, n = True, 0

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, k=1):
        self.n += k

    def set_postfix_str(self, *a, **kw):
        pass

    def set_description_str(self, *a, **kw):
        pass

    def close(self):
        pass


def bar(iterable=None, **kw):
    """A tqdm bar on stderr (read now: a redirected stderr is honoured) that appears after delay() seconds; outside
    shown(), one that draws nothing."""
    if not _shown.get():
        return _Silent(iterable)
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())  # one process draws: a thread lock, not tqdm's default multiprocessing one
    return tqdm(iterable, file=sys.stderr, delay=delay(), dynamic_ncols=True, **kw)


def status(b, text: str) -> None:
    """Sets the bar's postfix and redraws it, but only once it is on screen: tqdm's own refresh ignores `delay`."""
    b.set_postfix_str(text, refresh=False)
    if not b.disable and time.time() >= b.start_t + b.delay:
        b.refresh()
