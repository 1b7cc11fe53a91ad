"""Seconds per epoch: one round is one epoch of optimization from a fresh model, and nothing else. Every step in the
registry that supports the case is timed here, the C loop included."""
from gdcore.train import RunSetup
from runs import config, epoch_record

KIND = "epoch_time"


def test_epoch_time(benchmark, case, gd, workload, device, feed, step, batch_size, lr, subset):
    # loads the data and moves it to the device, not timed; a block step gets a whole epoch per call
    tr = RunSetup(config(case, gd, epochs=None, eval_every=10**12))

    def fresh_model():
        step_fn = tr.fresh()  # builds the model and the step (compiling any kernel), not timed
        tr.device.sync()
        return (step_fn,), {}

    def one_epoch(step_fn):
        tr.epoch(step_fn)
        tr.device.sync()  # pytest-benchmark reads its clock when this returns: queued GPU work is inside the timing

    benchmark.group = case.group
    benchmark.pedantic(one_epoch, setup=fresh_model, rounds=case.rounds, warmup_rounds=1, iterations=1)
    rounds = epoch_record(benchmark, tr, case, gd)
    assert all(t > 0 for t in rounds)
