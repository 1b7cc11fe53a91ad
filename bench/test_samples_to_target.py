"""Samples to target: each (batch size, lr) runs until the workload's target or its budget."""
from runs import benchmark_run

KIND = "samples_to_target"


def test_samples_to_target(benchmark, case, gd, workload, device, feed, step, batch_size, lr, subset, world_size,
                    allreduce, threads):
    r = benchmark_run(benchmark, case, gd, stop_at_target=True)
    assert r["samples_seen"] > 0
