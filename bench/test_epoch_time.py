"""Seconds per epoch: one round is one epoch of optimization from a fresh model, and nothing else."""
import math

from gdcore import Trainer
from gdcore.roofline import epoch_cost
from gdcore.train import describe

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
    train_loss, test_loss, metric = tr.evaluate()  # the model after the last timed epoch, outside the timing
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    rounds = list(getattr(stats, "data", []) or [])
    n, bs = tr.data.n, tr.cfg.batch_size
    x, y = tr.eval_sets[0], tr.eval_sets[1]  # as the device holds them: bytes per sample for the roofline
    x_bytes, y_bytes = x[0].numel() * x.element_size(), y[0].numel() * y.element_size()
    finite = lambda v: v if v is not None and math.isfinite(v) else None  # noqa: E731
    benchmark.extra_info.update({
        **describe(tr), "kind": KIND, "profile": gd["profile"], "n": n, "rounds": case.rounds,
        "epochs": 1, "samples_seen": n, "steps": math.ceil(n / bs), "train_seconds": sum(rounds) or None,
        "seconds_per_epoch": rounds, "final_train_loss": finite(train_loss), "final_test_loss": finite(test_loss),
        "final_test_metric": finite(metric), "samples_to_target": None, "steps_to_target": None,
        "seconds_to_target": None, "diverged": not math.isfinite(train_loss), "curve": [],
        "config": tr.cfg.to_dict(),
        **epoch_cost(tr.model, n, x_bytes, y_bytes),
    })
    assert all(t > 0 for t in rounds)
