"""Data parallelism on torch.distributed (gloo, 2 processes): K=2 follows K=1's trajectory in float64 for every
distributable step and every feed; bad input and a dead rank end in one line, never a hang."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gdcore import FEEDS, STEPS, RunConfig, run
from gdcore.launch import Workers

DISTRIBUTABLE = [name for name, spec in STEPS.items() if spec.distributed]
CASES = [  # (workload, subset, batch size): a last batch of 13 is shared 7 + 6; batch 3 leaves a last piece of 1,
    ("synth-regression", 301, 32),  # whose share is empty on rank 1
    ("synth-regression", 64, 3),
    ("mnist-logreg", 500, 50),
    ("synth-regression", 301, "full"),  # GD: each rank sums its contiguous rows, no gather
]


@pytest.fixture(scope="module")
def ranks():
    """Two gloo ranks, started once for every comparison in this module (each start costs seconds)."""
    with Workers(RunConfig(workload="toy-linear", batch_size=2, world_size=2, device="cpu", threads=1)) as w:
        yield w


def final_params(cfg: RunConfig) -> list[torch.Tensor]:
    out: list = []
    run(cfg, observe=lambda m, p: out.__setitem__(slice(None), [t.detach().clone() for t in m.parameters()]))
    return out


@pytest.mark.parametrize("feed", list(FEEDS))
@pytest.mark.parametrize("step", DISTRIBUTABLE)
@pytest.mark.parametrize("workload,subset,bs", CASES, ids=[f"{w}-n{n}-bs{b}" for w, n, b in CASES])
def test_two_ranks_follow_one_process_in_float64(ranks, workload, subset, bs, step, feed, request):
    if workload.startswith("mnist"):
        request.getfixturevalue("data_root")
    cfg = RunConfig(workload=workload, subset=subset, batch_size=bs, epochs=2, eval_every=10**9, step=step, feed=feed,
                    device="cpu", dtype="float64", threads=1, lr=0.05)
    one = final_params(cfg)
    two = ranks.command("params", cfg.replace(world_size=2))
    start = final_params(cfg.replace(epochs=None, samples=1))
    assert any(not torch.allclose(a, b) for a, b in zip(one, start)), "the run did not move the parameters"
    for a, b in zip(two, one):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_two_ranks_record_world_size_threads_and_the_same_evaluations(ranks):
    cfg = RunConfig(workload="synth-regression", subset=300, batch_size=30, epochs=2, eval_every=100,
                    step="closed-form", device="cpu", threads=1)
    one, two = run(cfg), ranks.command("run", cfg.replace(world_size=2))
    assert two["world_size"] == 2 and two["threads"] == 1 and one["world_size"] == 1
    assert [p["samples"] for p in two["curve"]] == [p["samples"] for p in one["curve"]]
    assert two["samples_seen"] == one["samples_seen"] and two["steps"] == one["steps"]


def test_skipping_the_allreduce_changes_the_result(ranks):
    """The control used to measure communication: without the all-reduce the ranks train on half the data each."""
    cfg = RunConfig(workload="synth-regression", subset=300, batch_size=30, epochs=1, eval_every=10**9,
                    step="closed-form", device="cpu", dtype="float64", threads=1, world_size=2)
    a = ranks.command("params", cfg)
    b = ranks.command("params", cfg.replace(allreduce=False))
    assert not all(torch.allclose(x, y) for x, y in zip(a, b))


def cli(*args, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "gdcore", "run", "--quiet", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_world_size_2_on_the_cli_prints_one_record():
    done = cli("--workload", "synth-regression", "--batch-size", "64", "--samples", "2000", "--world-size", "2",
               "--threads", "1", "--step", "closed-form")
    assert done.returncode == 0, done.stderr
    import json

    record = json.loads(done.stdout)
    assert record["world_size"] == 2 and record["threads"] == 1 and record["strategy"] == "allreduce-2-ranks"


@pytest.fixture
def busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


BAD = [  # (arguments, environment, what the one line must say)
    (["--world-size", "0"], {}, "invalid world_size 0"),
    (["--world-size", "65", "--batch-size", "64"], {}, "invalid world_size 65; allowed: at most the batch size (64)"),
    (["--world-size", "2", "--batch-size", "full", "--workload", "toy-linear", "--world-size", "4"], {},
     "invalid world_size 4; allowed: at most the batch size (3)"),
    (["--world-size", "2", "--step", "fused", "--workload", "toy-linear"], {},
     "step 'fused' cannot run on several processes"),
    (["--world-size", "2", "--step", "c-loop"], {}, "step 'c-loop' cannot run on several processes"),
    (["--world-size", "2", "--workload", "toy-linear", "--batch-size", "2"], {"MASTER_PORT": "{port}"},
     "is already in use (MASTER_PORT)"),
]
if not torch.cuda.is_available():
    BAD.append((["--world-size", "2", "--device", "cuda", "--workload", "toy-linear", "--batch-size", "2"], {},
                "no CUDA GPU"))


@pytest.mark.parametrize("args,env,expect", BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_world_size_input_is_one_line(args, env, expect, busy_port):
    env = {k: v.replace("{port}", str(busy_port)) for k, v in env.items()}
    done = cli(*args, timeout=60, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("gdcore: error: ") and expect in done.stderr, \
        done.stderr


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _is_rank(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the rank processes")
def test_a_rank_killed_mid_run_stops_the_run_with_one_line():
    proc = subprocess.Popen([sys.executable, "-m", "gdcore", "run", "--quiet", "--workload", "synth-regression",
                             "--batch-size", "8", "--epochs", "1000", "--world-size", "2", "--threads", "1",
                             "--step", "closed-form"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    ranks: list[int] = []
    while time.monotonic() < deadline and len(ranks) < 2:
        time.sleep(0.5)
        ranks = [c for c in _children(proc.pid) if _is_rank(c)]
    assert len(ranks) == 2, "the two ranks did not start"
    time.sleep(6)  # let them join the group and train
    os.kill(ranks[1], signal.SIGKILL)
    t0 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the run hung after a rank died")
    assert proc.returncode == 2 and time.monotonic() - t0 < 90
    assert err.count("\n") == 1 and err.startswith("gdcore: error: rank ") and "died" in err, err
    time.sleep(1)
    assert not any(os.path.exists(f"/proc/{r}") and b"spawn_main" in Path(f"/proc/{r}/cmdline").read_bytes()
                   for r in ranks if os.path.exists(f"/proc/{r}/cmdline")), "a rank was left running"
