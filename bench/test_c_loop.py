"""The plain C loop beside the fused step: one epoch of SGD (batch 1) on mnist-logreg, one thread, -O3 -march=native."""
import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from gdcore import Trainer
from runs import epoch_record

KIND = "c_loop"
SOURCE = Path(__file__).parent / "c" / "sgd_epoch.c"


@pytest.fixture(scope="session")
def c_epoch(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc, gcc) on PATH: the C reference loop is not built")
    lib = tmp_path_factory.mktemp("c") / "sgd_epoch.so"
    subprocess.run([cc, "-O3", "-march=native", "-shared", "-fPIC", "-o", str(lib), str(SOURCE), "-lm"], check=True)
    fn = ctypes.CDLL(str(lib)).sgd_epoch
    fn.restype = None
    p = ctypes.c_void_p
    fn.argtypes = [p, p, p, ctypes.c_long, ctypes.c_long, ctypes.c_long, p, p, ctypes.c_float]
    return fn


def test_c_loop(benchmark, case, gd, c_epoch):
    tr = Trainer(case.config(gd["data_dir"], impl="closed-form"))  # the same model and init; the record's fields
    X = np.ascontiguousarray(tr.data.train_x.numpy())
    labels = np.ascontiguousarray(tr.data.train_y.numpy().astype(np.int64))
    gen = torch.Generator().manual_seed(tr.cfg.seed)
    assert tr.data.test_y.max().item() == 9, "the C loop is written for 10 classes"
    state = {}

    def fresh():
        tr.fresh()
        lin = tr.model[0]
        state["W"] = np.ascontiguousarray(lin.weight.detach().numpy().T)  # input-major, see sgd_epoch.c
        state["b"] = lin.bias.detach().numpy()
        state["order"] = torch.randperm(len(X), generator=gen).numpy().astype(np.int64)
        return (), {}

    def one_epoch():
        c_epoch(X.ctypes.data, labels.ctypes.data, state["order"].ctypes.data, len(X), X.shape[1],
                state["W"].shape[1], state["W"].ctypes.data, state["b"].ctypes.data, tr.cfg.lr)

    benchmark.group = case.group.replace("c-loop", "epoch-time")
    benchmark.pedantic(one_epoch, setup=fresh, rounds=case.rounds, warmup_rounds=1, iterations=1)
    with torch.no_grad():  # the last round's weights back into the model, for its quality figures
        tr.model[0].weight.copy_(torch.from_numpy(state["W"].T))
    epoch_record(benchmark, tr, case, gd, impl="c-loop", config={**tr.cfg.to_dict(), "impl": "c-loop"})
    assert benchmark.extra_info["final_test_metric"] > 0.8  # it trains: about 0.9 after one SGD epoch at lr 0.01
