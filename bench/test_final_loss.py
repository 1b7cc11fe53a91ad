"""Final loss: the train loss and test metric after a fixed sample budget, across batch sizes."""
from runs import benchmark_run

KIND = "final_loss"


def test_final_loss(benchmark, case, gd, workload, device, feed, step, batch_size, lr, subset, world_size,
                    allreduce, threads):
    r = benchmark_run(benchmark, case, gd)
    assert r["samples_seen"] > 0
