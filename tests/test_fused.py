"""The fused step against the closed-form step (same math, same sample order), and the roofline arithmetic."""
import pytest
import torch

from gdcore import ConfigError, RunConfig, RunSetup
from gdcore.roofline import epoch_cost, limit_seconds, measure
from gdcore.steps import chunked_gemm, fused
from gdcore.steps.fused import strategy


def params_after(cfg: RunConfig, epochs: int = 1):
    tr = RunSetup(cfg)
    step = tr.fresh()
    for _ in range(epochs):
        tr.epoch(step)
    return [p.detach().clone() for p in tr.model.parameters()], tr


CASES = [("toy-linear", None, 1, 0.01), ("toy-linear", None, "full", 0.01), ("airfoil-linreg", None, 1, 0.005),
         ("airfoil-linreg", None, 10, 0.05), ("airfoil-linreg", None, 64, 0.2), ("airfoil-linreg", None, 512, 0.5),
         ("airfoil-linreg", None, "full", 1.0),
         ("mnist-logreg", 3000, 1, 0.01), ("mnist-logreg", 3000, 7, 0.05), ("mnist-logreg", 3000, 64, 0.1),
         ("mnist-logreg", 3000, 300, 0.5), ("mnist-logreg", 3000, 1100, 0.5), ("mnist-logreg", 3000, "full", 1.0)]


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float32", 2e-4)])
@pytest.mark.parametrize("workload,subset,bs,lr", CASES, ids=[f"{w}-bs{b}" for w, _, b, _ in CASES])
def test_fused_matches_closed_form_after_an_epoch(workload, subset, bs, lr, dtype, tol, request):
    if workload != "toy-linear":
        request.getfixturevalue("data_root")
    cfg = RunConfig(workload=workload, subset=subset, batch_size=bs, lr=lr, dtype=dtype, device="cpu",
                    step="closed-form", eval_every=10**9)
    ref, _ = params_after(cfg, epochs=2)
    got, tr = params_after(cfg.replace(step="fused"), epochs=2)
    assert len(tr._one_epoch) == 1  # the fused step ran each epoch in one call
    lin = tr.model[0]
    assert tr.strategy.startswith(strategy(tr.cfg.batch_size, lin.in_features, lin.out_features, tr.threads))
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, rtol=tol, atol=tol)


def test_strategy_by_batch_inputs_outputs_and_threads():
    assert strategy(8, 784, 10, 2) == "numba-loop"  # 63 thousand multiply-adds a step: too few to split
    assert strategy(128, 784, 10, 2) == "numba-parallel"  # one million
    assert strategy(128, 784, 10, 1) == "numba-loop"
    assert strategy(512, 5, 1, 2) == "numba-loop"  # airfoil: tiny steps at any batch size
    assert strategy(60000, 784, 10, 2) == "chunked-gemm"
    assert strategy(8, 784, 10, 2, has_numba=False) == "chunked-gemm"


# Every CPU strategy, forced on small data by lowering its thresholds: (strategy, PARALLEL_WORK, GEMM_BATCH,
# SPLIT_ROWS, CHUNK). Small chunks give several chunks per thread's share.
FORCED = [("numba-loop", 10**12, 10**9, 10**9, 1024), ("numba-parallel-2-threads", 1, 10**9, 10**9, 1024),
          ("chunked-gemm", 1, 1, 10**9, 256), ("chunked-gemm-2-threads", 1, 1, 256, 256)]


@pytest.mark.parametrize("way,work,gemm,split,chunk", FORCED, ids=[f[0] for f in FORCED])
@pytest.mark.parametrize("workload,bs", [("mnist-logreg", "full"), ("mnist-logreg", 1100), ("mnist-logreg", 301),
                                         ("airfoil-linreg", "full")])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float32", 2e-4)])
def test_every_cpu_strategy_matches_closed_form(way, work, gemm, split, chunk, workload, bs, dtype, tol, data_root,
                                                monkeypatch):
    """The one-thread loop, the loop split across threads, and BLAS products by chunks (on one thread's share of the
    rows or on several) all follow closed-form; batch 301 leaves a row outside the loops' blocks of four."""
    from gdcore.steps.numba_loop import numba

    if numba is None or numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs numba and 2 threads")
    for mod, name, value in ((fused, "PARALLEL_WORK", work), (fused, "GEMM_BATCH", gemm),
                             (chunked_gemm, "SPLIT_ROWS", split), (chunked_gemm, "CHUNK", chunk)):
        monkeypatch.setattr(mod, name, value)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        cfg = RunConfig(workload=workload, subset=3000 if workload == "mnist-logreg" else None, batch_size=bs,
                        lr=0.5, dtype=dtype, device="cpu", step="closed-form", eval_every=10**9)
        ref, _ = params_after(cfg, epochs=2)
        got, tr = params_after(cfg.replace(step="fused"), epochs=2)
        assert tr.strategy == way
        assert torch.get_num_threads() == 2  # the step gave the threads back
    finally:
        torch.set_num_threads(threads)
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, rtol=tol, atol=tol)


def test_fused_run_counts_steps_and_samples_like_closed_form():
    cfg = RunConfig(workload="toy-linear", batch_size=1, epochs=50, eval_every=6, device="cpu", step="closed-form")
    from gdcore import run

    a, b = run(cfg), run(cfg.replace(step="fused"))
    assert (a["steps"], a["samples_seen"], len(a["curve"])) == (b["steps"], b["samples_seen"], len(b["curve"])) == (150, 150, 26)
    assert b["final_train_loss"] == pytest.approx(a["final_train_loss"], rel=1e-4)


def test_fused_refuses_nonlinear_workloads():
    with pytest.raises(ConfigError, match="step 'fused' cannot run synth-binary on cpu .* one Linear layer .*; allowed here: "
                                          "autograd, optim, closed-form"):
        RunSetup(RunConfig(workload="synth-binary", step="fused", device="cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graph path: no CUDA GPU on this machine")
def test_fused_cuda_graph_matches_closed_form_on_cuda():
    cfg = RunConfig(workload="toy-linear", batch_size=1, epochs=3, device="cuda", dtype="float64", eval_every=10**9)
    ref, _ = params_after(cfg.replace(step="closed-form"), epochs=3)
    got, _ = params_after(cfg.replace(step="fused"), epochs=3)
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r)


def test_epoch_cost_of_softmax_regression_and_mlp():
    from gdcore.models import mlp

    assert epoch_cost(mlp([784, 10]), 60000, 3136, 8) == {"epoch_flops": 4 * 784 * 10 * 60000,
                                                          "epoch_bytes": 60000 * 3144}
    # the second layer also needs the input gradient: 6 FLOPs per weight
    assert epoch_cost(mlp([784, 256, 10]), 1, 0, 0)["epoch_flops"] == 4 * 784 * 256 + 6 * 256 * 10


def test_limit_is_the_slower_of_compute_and_memory():
    cost = {"epoch_flops": 2e9, "epoch_bytes": 1e9}
    assert limit_seconds(cost, {"gflops": 100.0, "gbps": 10.0}) == pytest.approx(0.1)  # memory-bound
    assert limit_seconds(cost, {"gflops": 10.0, "gbps": 100.0}) == pytest.approx(0.2)  # compute-bound
    assert limit_seconds(cost, None) is None


def test_measure_reports_positive_peaks():
    m = measure("cpu", repeats=1)
    assert m["gflops"] > 1 and m["gbps"] > 0.5 and m["threads"] >= 1


@pytest.mark.parametrize("bs", [8, 300, 1100])
def test_fused_reads_rows_in_place_or_takes_tensors_with_the_same_result(bs, data_root):
    """The preloaded feed hands fused Rows (read through the permutation, never gathered); the DataLoader hands it
    tensors. Both follow closed-form on the gathered batches."""
    from gdcore.feeds import Rows

    cfg = RunConfig(workload="mnist-logreg", subset=1500, batch_size=bs, lr=0.1, dtype="float64", device="cpu",
                    step="closed-form", eval_every=10**9)
    ref, _ = params_after(cfg)
    rows, tr = params_after(cfg.replace(step="fused"))
    x, y = next(tr.feed([bs]))
    assert isinstance(x, Rows) and isinstance(y, Rows) and len(x) == bs
    torch.testing.assert_close(x.gather(), tr.data.train_x.to(torch.float64)[x.index])
    tensors, tr = params_after(cfg.replace(step="fused", feed="dataloader"))
    assert not isinstance(next(tr.feed([bs]))[0], Rows)
    for a, b, r in zip(rows, tensors, ref):
        torch.testing.assert_close(a, r, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(b, r, rtol=1e-9, atol=1e-9)
