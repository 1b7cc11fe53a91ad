"""The peers (issue 14): `jax` and `compiled` follow closed-form's trajectory; `sklearn` is a one-vs-rest classifier
that learns MNIST and is told apart from softmax; each peer skips with the reason when its library is missing, and the
package works without them."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from gdcore import STEPS, WORKLOADS, RunConfig, RunSetup, run
from gdcore.errors import ConfigError
from gdcore.steps import check

TOLERANCE = {"float64": dict(rtol=1e-9, atol=1e-11), "float32": dict(rtol=2e-4, atol=2e-5)}
CASES = [  # workload, subset, batch size, dtype, lr; short last batches (n % batch size) in most
    ("toy-linear", None, 1, "float64", 0.01),
    ("toy-linear", None, 2, "float32", 0.01),
    ("airfoil-linreg", 300, 7, "float64", 0.05),
    ("airfoil-linreg", 300, 1, "float32", 0.05),
    ("mnist-logreg", 500, 1, "float32", 0.01),
    ("mnist-logreg", 1000, 64, "float32", 0.1),
    ("mnist-logreg", 1000, 3, "float64", 0.05),
    ("mnist-logreg", 600, "full", "float32", 1.0),
    ("mnist-logreg", 20000, 512, "float32", 0.1),  # jax: two chunks of 8192 rows, then a window with a short batch
]


def ids(case):
    return "-".join(str(c) for c in case[:4])


def needs(step, workload, batch_size, dtype, request):
    reason = STEPS[step].supports(WORKLOADS[workload], "cpu", batch_size, dtype)
    if reason:
        pytest.skip(f"{step}: {reason}")
    if WORKLOADS[workload].needs:
        request.getfixturevalue("data_root")


def after_one_epoch(cfg: RunConfig):
    tr = RunSetup(cfg)
    step = tr.fresh()
    tr.epoch(step)
    return tr, step, [p.detach().clone() for p in tr.model.parameters()]


def assert_same_trajectory(step_name, workload, subset, bs, dtype, lr, compiled_count):
    """One epoch of the step against closed-form's, then a second epoch and a new model's first: compiled_count() (how
    many executables or graphs exist) does not change after the step is made."""
    base = RunConfig(workload=workload, subset=subset, batch_size=bs, dtype=dtype, lr=lr, device="cpu",
                     eval_every=10**12)
    _, _, ref = after_one_epoch(base.replace(step="closed-form"))
    tr = RunSetup(base.replace(step=step_name))
    step = tr.fresh()
    made = compiled_count(tr)
    tr.epoch(step)
    for g, r in zip(tr.model.parameters(), ref):
        torch.testing.assert_close(g.detach(), r, **TOLERANCE[dtype])
    tr.epoch(step)
    tr.epoch(tr.fresh())
    assert compiled_count(tr) == made, "compiled in the timed loop"
    return tr, step


@pytest.mark.parametrize("workload,subset,bs,dtype,lr", CASES, ids=[ids(c) for c in CASES])
def test_jax_follows_closed_form(workload, subset, bs, dtype, lr, request):
    needs("jax", workload, bs, dtype, request)
    jax = pytest.importorskip("jax")
    from gdcore.steps.jax_scan import CHUNK_ROWS, kernels

    def executables(tr):
        n = tr.cfg.batch_size
        fns = kernels(tr.workload.loss.name, tr.model[0].bias is not None, n, max(1, CHUNK_ROWS // n))
        return [f._cache_size() for f in fns]

    tr, step = assert_same_trajectory("jax", workload, subset, bs, dtype, lr, executables)
    assert tr.strategy == f"jax-{jax.__version__}"


@pytest.mark.parametrize("workload,subset,bs,dtype,lr", CASES, ids=[ids(c) for c in CASES])
def test_compiled_follows_closed_form_without_recompiling(workload, subset, bs, dtype, lr, request):
    needs("compiled", workload, bs, dtype, request)
    from torch._dynamo.utils import counters

    tr, step = assert_same_trajectory("compiled", workload, subset, bs, dtype, lr,
                                      lambda tr: counters["stats"]["unique_graphs"])
    assert step.compile_seconds >= 0 and tr.strategy.startswith("torch-compile-inductor")


def test_jax_blocks_cut_by_evaluations_follow_closed_form(data_root):
    """Blocks cut by evaluations (every 9000 samples, batch 64, chunks of 8192 rows): a chunk then a window at the
    block's end (9024 rows), a padded block with the epoch's short last batch (1952 rows), a padded block (3008)."""
    pytest.importorskip("jax")
    base = RunConfig(workload="mnist-logreg", subset=20000, batch_size=64, lr=0.1, samples=23000, eval_every=9000,
                     device="cpu")
    ref, got = run(base.replace(step="closed-form")), run(base.replace(step="jax"))
    assert [p["samples"] for p in got["curve"]] == [p["samples"] for p in ref["curve"]]
    for p, q in zip(got["curve"], ref["curve"]):
        assert p["train_loss"] == pytest.approx(q["train_loss"], rel=1e-4)


def one_vs_rest_sgd(W, b, X, labels, lr):
    """scikit-learn's SGDClassifier(log_loss) at batch 1 by hand: per class j, a binary logistic regression on
    t = +1 (label j) or -1, w_j <- w_j + lr t x / (exp(t z) + 1), no softmax (float64)."""
    W, b = W.astype(np.float64).copy(), b.astype(np.float64).copy()
    for x, label in zip(X.astype(np.float64), labels):
        t = np.where(np.arange(len(b)) == label, 1.0, -1.0)
        g = -t / (np.exp(t * (W @ x + b)) + 1.0)  # d log(1 + exp(-t z)) / dz
        W -= lr * g[:, None] * x[None, :]
        b -= lr * g
    return W, b


def test_sklearn_is_one_vs_rest_sgd_on_the_same_samples(data_root):
    pytest.importorskip("sklearn")
    cfg = RunConfig(workload="mnist-logreg", subset=200, batch_size=1, lr=0.01, device="cpu", eval_every=10**12,
                    step="sklearn")
    tr = RunSetup(cfg)
    step = tr.fresh()
    W0, b0 = (p.detach().numpy().copy() for p in tr.model.parameters())
    order = torch.randperm(tr.data.n, generator=torch.Generator().manual_seed(cfg.seed))  # the feed's first epoch
    tr.epoch(step)
    W, b = one_vs_rest_sgd(W0, b0, tr.data.train_x[order].numpy(), tr.data.train_y[order].numpy(), cfg.lr)
    np.testing.assert_allclose(tr.model[0].weight.numpy(), W, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tr.model[0].bias.numpy(), b, rtol=1e-4, atol=1e-5)
    _, _, softmax = after_one_epoch(cfg.replace(step="closed-form"))
    assert not torch.allclose(tr.model[0].weight, softmax[0], rtol=1e-2, atol=1e-3), "it is not softmax regression"


def test_sklearn_learns_mnist_and_records_one_vs_rest(data_root):
    pytest.importorskip("sklearn")
    import sklearn

    r = run(RunConfig(workload="mnist-logreg", subset=3000, batch_size=1, lr=0.01, epochs=1, eval_every=1000,
                      step="sklearn", device="cpu"))
    assert r["strategy"] == f"sklearn-{sklearn.__version__}-one-vs-rest"
    assert r["final_test_metric"] > 0.8
    assert [p["samples"] for p in r["curve"]] == [0, 1000, 2000, 3000]
    assert "ONE-VS-REST" in STEPS["sklearn"].about


def test_sklearn_supports_only_batch_one_float32_cpu_softmax_classifiers():
    sk, mnist = STEPS["sklearn"], WORKLOADS["mnist-logreg"]
    assert sk.family == "peer" and not sk.same_math  # timed beside the others, never compared with their trajectory
    assert STEPS["jax"].same_math and STEPS["compiled"].same_math
    for args in [(mnist, "cpu", 8, "float32"), (mnist, "cpu", 1, "float64"), (mnist, "cuda", 1, "float32"),
                 (WORKLOADS["airfoil-linreg"], "cpu", 1, "float32"), (WORKLOADS["mnist-mlp"], "cpu", 1, "float32")]:
        assert sk.supports(*args)


@pytest.mark.parametrize("step,module,words", [("jax", "jax", "jax is not installed"),
                                               ("sklearn", "sklearn", "scikit-learn is not installed")])
def test_a_hidden_library_is_a_reason_not_an_error(step, module, words, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    wl = WORKLOADS["mnist-logreg"]
    reason = STEPS[step].supports(wl, "cpu", 1, "float32")
    assert reason and words in reason and "pip install -e .[peers]" in reason
    with pytest.raises(ConfigError, match=words):
        check(STEPS[step], wl, "cpu", 1, "float32")
    with pytest.raises(ConfigError, match=rf"needs .*pip install -e \.\[peers\]"):
        STEPS[step].make(wl.model(), wl.loss, 0.1, 1)


def test_compiled_without_a_cpp_compiler_is_a_reason(monkeypatch):
    from gdcore.steps import compiled

    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    assert "C++ compiler" in STEPS["compiled"].supports(WORKLOADS["toy-linear"], "cpu", 1, "float32")


def test_the_package_works_without_the_peer_libraries():
    """A fresh interpreter where jax and sklearn cannot be imported: gdcore imports, the registry lists the peers
    with their reasons, and the other steps run."""
    code = textwrap.dedent("""
        import importlib.machinery as m
        import sys
        class Hide(m.PathFinder):  # jax, jaxlib and sklearn are not found, as if not installed
            @classmethod
            def find_spec(cls, name, path=None, target=None):
                if name.split(".")[0] in ("jax", "jaxlib", "sklearn"):
                    return None
                return m.PathFinder.find_spec(name, path, target)
        sys.meta_path[:] = [Hide if f is m.PathFinder else f for f in sys.meta_path]
        from gdcore import STEPS, WORKLOADS, RunConfig, run
        wl = WORKLOADS["toy-linear"]
        assert "jax is not installed" in STEPS["jax"].supports(wl, "cpu", 1, "float32")
        assert "scikit-learn is not installed" in STEPS["sklearn"].supports(WORKLOADS["mnist-logreg"], "cpu", 1,
                                                                              "float32")
        try:
            run(RunConfig(workload="toy-linear", step="jax", device="cpu"))
        except ValueError as e:
            assert "jax is not installed" in str(e), e
        else:
            raise AssertionError("ran without jax")
        run(RunConfig(workload="toy-linear", step="closed-form", device="cpu", epochs=1))
        assert not any(m.split(".")[0] in ("jax", "sklearn") for m in sys.modules)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_a_failed_compile_is_a_reason_for_the_rest_of_the_process(monkeypatch):
    from gdcore.steps import compiled

    def broken(fn):
        def fail(*args):
            raise RuntimeError("InductorError: no working C++ compiler\nmore")
        return fail

    monkeypatch.setattr(compiled, "BROKEN", {})
    monkeypatch.setattr(compiled, "WORKED", set())
    monkeypatch.setattr(compiled, "_COMPILED", {})
    monkeypatch.setattr(compiled.torch, "compile", broken)
    wl = WORKLOADS["toy-linear"]
    with pytest.raises(ConfigError, match="torch.compile failed here: RuntimeError: InductorError"):
        STEPS["compiled"].make(wl.model(), wl.loss, 0.1, 1)
    assert STEPS["compiled"].supports(wl, "cpu", 1, "float32") == compiled.BROKEN["cpu"]
    assert STEPS["compiled"].supports(wl, "cuda", 1, "float32") != compiled.BROKEN["cpu"]
