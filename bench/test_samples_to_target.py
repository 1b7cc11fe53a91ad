"""Samples to target: each batch size at its own best learning rate, tuned over the profile's seeds (gdcore.tune),
with the gradient noise scale measured along the best lr's median seed. One benchmark round is the whole search."""
from gdcore.config import MAX_SAMPLES
from gdcore.tune import Search, noise_along, search
from grids import PROFILES, RESOLUTION
from runs import config, seeds_record

KIND = "samples_to_target"


def test_samples_to_target(benchmark, case, gd, workload, device, feed, step, batch_size, lr, subset, world_size,
                           allreduce, threads):
    prof = PROFILES[gd["profile"]]
    # the metric on the fine schedule; the train loss (a pass over the training set) only where a run ends
    cfg = config(case, gd, stop_at_target=True, resolution=RESOLUTION, eval_every=MAX_SAMPLES)
    benchmark.group = case.group
    found = benchmark.pedantic(search, args=(cfg, Search(case.lrs, prof.seeds, max_lrs=prof.max_lrs)), rounds=1,
                               warmup_rounds=0, iterations=1)
    rec = seeds_record(found["records"], case, gd, lr_search=found["lr_search"], best_lr=found["best_lr"] is not None)
    if found["best_lr"] is not None:
        # at the median seed's evaluations (first_eval: gdcore.tune.run_resolved evaluated it from the first step)
        rec["noise_scale"] = noise_along(cfg.replace(lr=found["best_lr"], seed=rec["seed"],
                                                     first_eval=rec["config"].get("first_eval")))
    benchmark.extra_info.update(rec)
    assert all(t["samples_seen"] > 0 for t in found["lr_search"]["trials"])
