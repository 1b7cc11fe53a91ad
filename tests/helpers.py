"""Small helpers shared by the tests."""
from __future__ import annotations

TIMING_KEYS = {"train_seconds", "seconds_per_epoch", "seconds_to_target", "device_name", "threads", "setup_seconds"}


def without_timings(record: dict) -> dict:
    """A record with every wall-clock figure removed, for comparing runs."""
    out = {k: v for k, v in record.items() if k not in TIMING_KEYS}
    out["curve"] = [{k: v for k, v in p.items() if k != "seconds"} for p in record["curve"]]
    return out
