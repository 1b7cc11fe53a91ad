"""Starting data-parallel ranks (gdcore/distributed.py is what runs inside each):

- `launch(cfg)`: starts cfg.world_size ranks on this machine (torch.multiprocessing, spawn) and returns rank 0's record;
- `join_from_env(cfg)`: under torchrun (RANK, WORLD_SIZE, MASTER_ADDR, ... set), joins that group instead;
- `Workers(cfg)`: ranks kept alive between commands (setup, fresh, epoch), for the benchmarks' timed epochs.

gloo on the CPU, NCCL on CUDA (one GPU per rank). A rank that fails or dies stops the others, with one line naming it.
"""
from __future__ import annotations

import datetime
import os
import socket
import time
import traceback

import torch
import torch.distributed as dist

from .errors import ConfigError
from .progress import is_shown, shown
from .train import RunSetup, run

TIMEOUT_S = 60  # a collective that waits longer than this has lost a rank: fail instead of hanging
ADDR = "127.0.0.1"


class DistributedError(ConfigError):
    """A rank failed or died, or the group could not form: one line naming the rank."""


def backend(device: str) -> str:
    return "nccl" if device == "cuda" else "gloo"


def threads_per_rank(cfg, local_world: int) -> int:
    """CPU threads of each rank: the user's --threads, else the cores shared out evenly (never a launcher's default
    such as torchrun's OMP_NUM_THREADS=1)."""
    return cfg.threads or max(1, (os.cpu_count() or 1) // local_world)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((ADDR, port))
            return True
        except OSError:
            return False


def pick_port() -> int:
    """MASTER_PORT when set (and free), else a free port the system picks."""
    if os.environ.get("MASTER_PORT"):
        port = os.environ["MASTER_PORT"]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"invalid MASTER_PORT {port!r}; allowed: a port number from 1 to 65535")
        if not port_free(int(port)):
            raise ConfigError(f"port {port} on {ADDR} is already in use (MASTER_PORT); allowed: a free port, or "
                              f"MASTER_PORT unset to let gdcore pick one")
        return int(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ADDR, 0))
        return s.getsockname()[1]


def _init(rank: int, world: int, port: int, device: str) -> None:
    os.environ.update(MASTER_ADDR=ADDR, MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world))
    dist.init_process_group(backend(device), rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=TIMEOUT_S))


def _check_device(cfg) -> None:
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' (NCCL) asked for, but torch sees no CUDA GPU here; allowed: cpu, auto")


def _serve(rank: int, cfg, port: int, conn, quiet: bool) -> None:
    """A rank's process: joins the group, then answers commands until told to stop."""
    setup = step = None
    try:
        _init(rank, cfg.world_size, port, "cuda" if cfg.device == "cuda" else "cpu")
        while True:
            command, arg = conn.recv()
            if command == "stop":
                break
            if command == "run":
                with shown(not quiet and rank == 0):  # one bar, rank 0's
                    result = run(arg or cfg)
            elif command == "params":  # the final parameters of a run (tests compare them across world sizes)
                final: list = []
                run(arg, observe=lambda m, p: final.__setitem__(slice(None), [t.detach().clone() for t in m.parameters()]))
                result = final
            elif command == "setup":
                setup, result = RunSetup(cfg), None
            elif command == "fresh":
                step, result = setup.fresh(), None
            elif command == "epoch":
                setup.epoch(step)
                setup.device.sync()
                result = None
            elif command == "facts":
                result = setup.facts()
            else:
                raise ValueError(f"unknown command {command!r}")
            conn.send(("ok", result if rank == 0 else None))
    except ConfigError as e:  # the user's mistake, the same on every rank: passed on as it is
        conn.send(("config", str(e)))
    except Exception as e:  # a bug, not a user's mistake: its last line and where, to the parent
        where = traceback.extract_tb(e.__traceback__)[-1]
        conn.send(("error", f"{type(e).__name__}: {e} ({os.path.basename(where.filename)}:{where.lineno})"))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


class Workers:
    """cfg.world_size rank processes on this machine, kept alive between commands; each command goes to every rank
    and returns rank 0's answer. A rank that fails or dies stops them all within TIMEOUT_S, with one line naming it."""

    def __init__(self, cfg, quiet: bool = True):
        _check_device(cfg)
        import torch.multiprocessing as mp

        self.cfg = cfg.replace(threads=threads_per_rank(cfg, cfg.world_size))
        port = pick_port()
        ctx = mp.get_context("spawn")
        self.conns, self.procs = [], []
        for rank in range(cfg.world_size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(rank, self.cfg, port, child, quiet), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
        self.command("setup")

    def command(self, name: str, arg=None, timeout: float | None = None):
        """Sends `name` (with `arg`, e.g. another config for "run") to every rank; rank 0's answer."""
        for c in self.conns:
            c.send((name, arg))
        answers: dict[int, tuple] = {}
        deadline = None if timeout is None else time.monotonic() + timeout
        while len(answers) < len(self.conns):
            for rank, (c, p) in enumerate(zip(self.conns, self.procs)):
                if rank in answers:
                    continue
                try:
                    if c.poll(0.05):
                        answers[rank] = c.recv()
                    elif p.is_alive():
                        continue
                    else:
                        answers[rank] = ("died", None)
                except (EOFError, OSError):  # the rank's end of the pipe closed: it died
                    answers[rank] = ("died", None)
                if answers[rank][0] != "ok":
                    self._fail(name, rank, answers[rank])
            if deadline is not None and time.monotonic() > deadline:
                self.close(force=True)
                raise DistributedError(f"ranks did not answer {name!r} within {timeout:.0f} s; they were stopped")
        return answers[0][1]

    def _fail(self, name: str, rank: int, answer: tuple) -> None:
        """Stops every rank and raises one line naming the culprit: a rank that died, if any, is the cause of the
        others' failed collectives."""
        if answer[0] == "config":
            self.close(force=True)
            raise ConfigError(answer[1])
        time.sleep(0.5)  # a dead rank's exit is seen a moment after its peers' errors
        dead = [(r, p.exitcode) for r, p in enumerate(self.procs) if p.exitcode not in (None, 0)]
        self.close(force=True)
        if dead or answer[0] == "died":
            r, code = dead[0] if dead else (rank, None)
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise DistributedError(f"rank {r} died ({how}) during {name!r}; the other ranks were stopped")
        raise DistributedError(f"rank {rank} failed: {answer[1]}")

    def close(self, force: bool = False) -> None:
        for c, p in zip(self.conns, self.procs):
            if not force and p.is_alive():
                try:
                    c.send(("stop", None))
                except OSError:
                    pass
        for p in self.procs:
            p.join(timeout=0 if force else 10)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def launch(cfg, quiet: bool = True) -> dict:
    """Runs `cfg` on cfg.world_size local processes and returns rank 0's record."""
    with Workers(cfg, quiet=quiet) as w:
        return w.command("run")


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ


def join_from_env(cfg) -> dict | None:
    """Joins the group torchrun describes in the environment, runs `cfg` there, and returns the record on rank 0
    (None on the others; only rank 0 shows a progress bar). The world size is torchrun's; the threads are set here,
    not left to OMP_NUM_THREADS."""
    world = int(os.environ["WORLD_SIZE"])
    if cfg.world_size not in (1, world):
        raise ConfigError(f"invalid world_size {cfg.world_size}; allowed: torchrun's WORLD_SIZE, {world}")
    cfg = cfg.replace(world_size=world, threads=threads_per_rank(cfg, int(os.environ.get("LOCAL_WORLD_SIZE", 1))))
    _check_device(cfg)
    dist.init_process_group(backend("cuda" if cfg.device == "cuda" else "cpu"),
                            timeout=datetime.timedelta(seconds=TIMEOUT_S))
    try:
        with shown(is_shown() and dist.get_rank() == 0):
            record = run(cfg)
        return record if dist.get_rank() == 0 else None
    finally:
        dist.destroy_process_group()


__all__ = ["launch", "join_from_env", "Workers", "DistributedError"]
