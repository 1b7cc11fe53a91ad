"""The `gdcore` command. User mistakes end with one line on stderr and exit code 2, never a traceback.

This module imports only the standard library at load time: torch and the engine are imported inside main(), so a
Ctrl-C during start-up ends with one line too."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

RUN_EXAMPLES = """examples:
  gdcore run --workload mnist-logreg                          batch 64, lr 0.1, 1 epoch, preloaded, autograd
  gdcore run --workload mnist-logreg --batch-size 1 --lr 0.01 --step closed-form --stop-at-target
  gdcore run --workload mnist-logreg --batch-size 8 --lr 0.1 --step fused --stop-at-target --resolution 0.1
  gdcore run --workload airfoil-linreg --batch-size full --lr 1 --epochs 6
  gdcore run --workload mnist-logreg --step fused --batch-size 64 --threads 1 --samples 3000 --eval-every 1000
  gdcore run --workload mnist-logreg --batch-size 512 --lr 1 --step closed-form --world-size 2 --threads 1
  torchrun --nnodes 2 --nproc-per-node 1 --rdzv-endpoint HOST:PORT -m gdcore run --workload mnist-logreg ...

stdout holds exactly one JSON record; a progress bar goes to stderr (see --quiet)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage first; one line is what a user needs
        self.exit(2, f"gdcore: error: {message}\n")


def _batch_size(text: str):
    if text == "full":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid batch size {text!r}; allowed: an integer from 1 to N, or 'full'")


def _number(kind, what, allowed):
    def parse(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}; allowed: {allowed}")
    return parse


_THREADS = _number(int, "thread count", "an integer above 0")


def add_quiet(p, bar: str) -> None:
    """--quiet, which every command with a progress bar has."""
    from .progress import DELAY_S

    p.add_argument("--quiet", action="store_true",
                   help=f"no progress bar on stderr (default: {bar} with its ETA, once the work has taken "
                        f"{DELAY_S:g} s; the environment variable TQDM_DELAY=SECONDS sets that wait, 0 draws it "
                        "at once)")


def add_run_parser(sub) -> None:
    from .config import DTYPES, RunConfig
    from .device import DEVICES
    from .feeds import FEEDS
    from .steps import STEPS
    from .workloads import WORKLOADS

    p = sub.add_parser("run", help="run one configuration and print its JSON record", epilog=RUN_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Runs one configuration of the training loop and prints its record as JSON.")
    d = RunConfig()
    p.add_argument("--workload", default=d.workload, help=f"one of: {', '.join(WORKLOADS)} (default: %(default)s)")
    p.add_argument("--batch-size", type=_batch_size, default=None,
                   help="an integer from 1 to N, or 'full' for GD (default: the workload's)")
    p.add_argument("--lr", type=_number(float, "learning rate", "a finite number above 0"), default=None,
                   help="learning rate (default: the workload's)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=_number(float, "budget", "a number of epochs above 0"), default=None,
                        help="budget in epochs (default: the workload's)")
    budget.add_argument("--samples", type=_number(int, "budget", "an integer number of samples above 0"),
                        default=None, help="budget in samples seen")
    p.add_argument("--target", type=_number(float, "target", "a number in the metric's range"), default=None,
                   help="target for the workload's metric (default: the workload's)")
    p.add_argument("--stop-at-target", action="store_true", help="end the run when the target is reached")
    p.add_argument("--feed", "--path", dest="feed", default=d.feed,
                   help=f"how batches reach the step: {', '.join(FEEDS)} (default: %(default)s; --path is an alias)")
    p.add_argument("--step", "--impl", dest="step", default=d.step,
                   help=f"how a step is written: {', '.join(STEPS)} (default: %(default)s; --impl is an alias)")
    p.add_argument("--device", default=d.device, help=f"one of: {', '.join(DEVICES)} (default: %(default)s)")
    p.add_argument("--seed", type=_number(int, "seed", "an integer"), default=d.seed,
                   help="seeds the synthetic data, the initial weights and the shuffle (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="where MNIST/ and airfoil/ are (default: $GDCORE_DATA_DIR, else ./data)")
    p.add_argument("--no-download", action="store_true", help="never fetch missing data files")
    p.add_argument("--eval-every", type=_number(int, "eval-every", "an integer number of samples above 0"),
                   default=None, help="samples between full evaluations, train loss included (default: the workload's)")
    p.add_argument("--resolution", type=_number(float, "resolution", "a fraction from 0.001 to 0.5"), default=None,
                   help="also evaluate the metric on a geometric schedule, so that samples to target is resolved to "
                        "within this fraction (0.1: 10 %%) or one step (default: only every --eval-every)")
    p.add_argument("--first-eval", type=_number(int, "first-eval", "an integer number of samples above 0"),
                   default=None, help="samples at the first evaluation, for a target reached early (1: after the "
                                      "first step; default: --resolution x the workload's eval_every, or --eval-every)")
    p.add_argument("--threads", type=_THREADS, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--dtype", default=d.dtype, help=f"one of: {', '.join(DTYPES)} (default: %(default)s)")
    p.add_argument("--world-size", type=_number(int, "world size", "an integer above 0"), default=d.world_size,
                   help="data-parallel processes started here, each on its share of every batch (default: "
                        "%(default)s; under torchrun, torchrun's WORLD_SIZE); --threads is then per process "
                        "(default: the cores shared out evenly)")
    p.add_argument("--no-allreduce", action="store_true",
                   help="with --world-size: skip the gradient all-reduce, only to measure what it costs (the "
                        "processes then train apart and the result is not a valid run)")
    add_quiet(p, "a bar over the sample budget, moved at every evaluation and showing the latest metric,")


def cmd_run(args) -> int:
    from .config import RunConfig
    from .train import run

    cfg = RunConfig(
        workload=args.workload, batch_size=args.batch_size, lr=args.lr, epochs=args.epochs, samples=args.samples,
        target=args.target, stop_at_target=args.stop_at_target, feed=args.feed, step=args.step, device=args.device,
        seed=args.seed, data_dir=args.data_dir, download=not args.no_download, eval_every=args.eval_every,
        resolution=args.resolution, first_eval=args.first_eval,
        threads=args.threads, dtype=args.dtype, world_size=args.world_size, allreduce=not args.no_allreduce,
    )

    from .launch import join_from_env, launch, under_torchrun

    if under_torchrun():  # torchrun started this process: join its group; rank 0 prints the record
        record = join_from_env(cfg)
    elif cfg.world_size > 1:
        record = launch(cfg, quiet=args.quiet)
    else:
        record = run(cfg)
    if record is not None:
        emit(json.dumps(record, allow_nan=False) + "\n")
    return 0


def emit(text: str) -> None:
    """Writes the result to stdout; a closed, full or broken stdout is the user's one-line error, not a traceback."""
    from .errors import ConfigError

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as e:
        _silence_stdout()
        raise ConfigError(f"cannot write the result to stdout ({e.strerror or type(e).__name__}); "
                          "allowed: a stdout that is open and has room") from None


def _silence_stdout() -> None:
    """Points fd 1 at /dev/null, so the interpreter's own flush at exit does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def add_report_parsers(sub) -> None:
    p = sub.add_parser("report", help="turn benchmark JSON files into charts and report.md")
    p.add_argument("paths", nargs="*", default=[".benchmarks"], metavar="PATH",
                   help="JSON files or folders searched for them (default: .benchmarks)")
    p.add_argument("--out", default="report", help="output folder, owned by gdcore report (default: %(default)s)")
    p.add_argument("--all-runs", action="store_true",
                   help="keep every run of a machine (default: each machine's newest run only)")
    add_quiet(p, "a bar over the files read")
    c = sub.add_parser("compare", help="compare two runs; exit 1 when a metric regresses past --fail-on")
    c.add_argument("base", metavar="BASE", help="a JSON file or an autosave number like 0001; several runs "
                   "comma-separated (0001,0002,0003) are judged over their medians, which covers drift between runs")
    c.add_argument("new", metavar="NEW", help="a JSON file or an autosave number like 0004; several comma-separated "
                   "when BASE has several")
    c.add_argument("--fail-on", default=None, metavar="SPEC",
                   help="e.g. median:10%%,samples_to_target:15%%,final_train_loss:5%%")


ROOFLINE_DEVICES = ("all", "cpu", "cuda")


def add_roofline_parser(sub) -> None:
    p = sub.add_parser("roofline", help="measure each device's matrix-multiply peak and memory bandwidth")
    p.add_argument("--device", default="all",
                   help=f"one of: {', '.join(ROOFLINE_DEVICES)} ('all': every device present; default: %(default)s)")
    p.add_argument("--threads", type=_THREADS, default=None, help="torch CPU threads (default: torch's choice)")


def cmd_roofline(args) -> int:
    import torch

    from .config import MAX_THREADS
    from .errors import ConfigError
    from .roofline import measure

    if args.device not in ROOFLINE_DEVICES:
        raise ConfigError(f"invalid device {args.device!r}; allowed: {', '.join(ROOFLINE_DEVICES)}")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' asked for, but torch sees no CUDA GPU here; allowed: cpu, all")
    if args.threads is not None:
        if not 1 <= args.threads <= MAX_THREADS:
            raise ConfigError(f"invalid threads {args.threads}; allowed: an integer from 1 to {MAX_THREADS}")
        torch.set_num_threads(args.threads)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    results = [measure(d) for d in devices if d == "cpu" or torch.cuda.is_available()]
    emit(json.dumps(results, indent=1) + "\n")
    return 0


def add_seeds_parser(sub) -> None:
    p = sub.add_parser("seeds", help="reproduce the seed documents' experiments and write results/seeds.md")
    p.add_argument("--out", default="results/seeds.md", help="the Markdown file to write (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="where MNIST/ and airfoil/ are (default: $GDCORE_DATA_DIR, else ./data)")
    p.add_argument("--quick", action="store_true", help="only the fast rows: documents 001, 002 and 004's listings and claims, not 000, 003 and the "
                        "initialisation study (about 20 s with one thread)")
    add_quiet(p, "a bar over the experiments, naming the one running,")


def writable_file(path: Path) -> None:
    """ConfigError now, before minutes of work, when `path` cannot be written as a file."""
    from .errors import ConfigError

    if path.is_dir():
        raise ConfigError(f"--out {path} is a folder; allowed: a file path")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"--out {path}: cannot create its folder ({e.strerror}); allowed: a writable path") from None
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"--out {path} is not writable; allowed: a file in a folder you can write")


def cmd_seeds(args) -> int:
    from .seeds import run_seeds

    out = Path(args.out)
    writable_file(out)
    run_seeds(out, args.data_dir, args.quick)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    from .report import write_report

    report = write_report(args.paths, Path(args.out), all_runs=args.all_runs)
    print(f"wrote {report} and its charts", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    from .compare import run_compare

    return run_compare(args.base, args.new, args.fail_on)


COMMANDS = {"run": cmd_run, "report": cmd_report, "compare": cmd_compare, "roofline": cmd_roofline, "seeds": cmd_seeds}


def main(argv=None) -> int:
    try:
        with _deferred_interrupt():  # a Ctrl-C midway through importing torch or numpy can leave them half-loaded
            args = _parse(argv)
        return _main(args) if isinstance(args, argparse.Namespace) else args
    except KeyboardInterrupt:
        print("gdcore: interrupted", file=sys.stderr)
        return 130


@contextmanager
def _deferred_interrupt():
    """Ctrl-C inside is held back and raised as KeyboardInterrupt on leaving: a KeyboardInterrupt raised inside a
    module's import can be swallowed by a library's import fallback (the run then goes on) or leave a module that
    cannot be loaded again (a traceback)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list = []
    previous = signal.signal(signal.SIGINT, lambda *_: held.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt


def _parse(argv):
    """The parsed arguments, or an exit status where there is nothing to run (stdout closed)."""
    from . import __version__

    if sys.stdout is None:  # started with stdout closed: the result would be lost
        print("gdcore: error: stdout is closed; allowed: an open stdout (redirect it to a file)", file=sys.stderr)
        return 2
    parser = _Parser(prog="gdcore", description="Benchmarks for GD, SGD and mini-batch SGD.")
    parser.add_argument("--version", action="version", version=f"gdcore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_run_parser(sub)
    add_report_parsers(sub)
    add_roofline_parser(sub)
    add_seeds_parser(sub)
    return parser.parse_args(argv)


def _main(args) -> int:
    from .errors import ConfigError
    from .progress import shown

    try:
        with shown(not getattr(args, "quiet", False)):  # compare and roofline draw no bar
            return COMMANDS[args.command](args)
    except ConfigError as e:
        print(f"gdcore: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
