"""Seconds per epoch: one round is one epoch of optimization from a fresh model, and nothing else."""
from gdcore import Trainer
from runs import epoch_record

KIND = "epoch_time"


def test_epoch_time(benchmark, case, gd):
    # loads the data and moves it to the device, not timed; a fused step gets a whole epoch per call
    tr = Trainer(case.config(gd["data_dir"], eval_every=10**12))

    def fresh_model():
        step = tr.fresh()
        tr.device.sync()
        return (step,), {}

    def one_epoch(step):
        tr.epoch(step)
        tr.device.sync()  # pytest-benchmark reads its clock when this returns: queued GPU work is inside the timing

    benchmark.group = case.group
    benchmark.pedantic(one_epoch, setup=fresh_model, rounds=case.rounds, warmup_rounds=1, iterations=1)
    rounds = epoch_record(benchmark, tr, case, gd)
    assert all(t > 0 for t in rounds)
