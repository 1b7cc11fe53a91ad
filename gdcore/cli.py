"""The `gdcore` command. User mistakes end with one line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from .config import DEVICES, IMPLS, PATHS, ConfigError, RunConfig
from .workloads import WORKLOADS


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


def add_run_parser(sub) -> None:
    p = sub.add_parser("run", help="run one configuration and print its JSON record")
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
    p.add_argument("--path", default=d.path, help=f"one of: {', '.join(PATHS)} (default: %(default)s)")
    p.add_argument("--impl", default=d.impl, help=f"one of: {', '.join(IMPLS)} (default: %(default)s)")
    p.add_argument("--device", default=d.device, help=f"one of: {', '.join(DEVICES)} (default: %(default)s)")
    p.add_argument("--seed", type=_number(int, "seed", "an integer"), default=d.seed)
    p.add_argument("--data-dir", default=None, help="where MNIST/ and airfoil/ are (default: $GDCORE_DATA_DIR, else ./data)")
    p.add_argument("--no-download", action="store_true", help="never fetch missing data files")
    p.add_argument("--eval-every", type=_number(int, "eval-every", "an integer number of samples above 0"),
                   default=None, help="samples between evaluations (default: the workload's)")
    p.add_argument("--threads", type=_number(int, "thread count", "an integer above 0"), default=None,
                   help="torch CPU threads (default: torch's choice)")
    p.add_argument("--dtype", default=d.dtype, help="float32 or float64 (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def cmd_run(args) -> int:
    from .train import run

    cfg = RunConfig(
        workload=args.workload, batch_size=args.batch_size, lr=args.lr, epochs=args.epochs, samples=args.samples,
        target=args.target, stop_at_target=args.stop_at_target, path=args.path, impl=args.impl, device=args.device,
        seed=args.seed, data_dir=args.data_dir, download=not args.no_download, eval_every=args.eval_every,
        threads=args.threads, dtype=args.dtype,
    )

    def progress(p):
        m = p["test_metric"]
        print(f"samples {p['samples']:>9}  steps {p['steps']:>8}  {p['seconds']:8.3f} s  "
              f"train_loss {p['train_loss'] if p['train_loss'] is None else format(p['train_loss'], '.6g')}  "
              f"metric {m if m is None else format(m, '.6g')}", file=sys.stderr, flush=True)

    record = run(cfg, progress=None if args.quiet else progress)
    json.dump(record, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0


def add_report_parsers(sub) -> None:
    p = sub.add_parser("report", help="turn benchmark JSON files into PNG charts and report.md")
    p.add_argument("paths", nargs="*", default=[".benchmarks"], metavar="PATH",
                   help="JSON files or folders searched for them (default: .benchmarks)")
    p.add_argument("--out", default="report", help="output folder (default: %(default)s)")
    c = sub.add_parser("compare", help="compare two runs; exit 1 when a metric regresses past --fail-on")
    c.add_argument("base", metavar="BASE", help="a JSON file or an autosave number like 0001")
    c.add_argument("new", metavar="NEW", help="a JSON file or an autosave number like 0002")
    c.add_argument("--fail-on", default=None, metavar="SPEC",
                   help="e.g. median:10%%,samples_to_target:15%%,final_train_loss:5%%")


def add_roofline_parser(sub) -> None:
    p = sub.add_parser("roofline", help="measure each device's matrix-multiply peak and memory bandwidth")
    p.add_argument("--device", default="all", help="cpu, cuda, or all present (default: %(default)s)")
    p.add_argument("--threads", type=_number(int, "thread count", "an integer above 0"), default=None)


def cmd_roofline(args) -> int:
    import torch

    from .roofline import measure

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device not in ("all", "cpu", "cuda"):
        raise ConfigError(f"unknown device {args.device!r}; allowed: all, cpu, cuda")
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    results = [measure(d) for d in devices if not (args.device == "all" and d == "cuda" and not torch.cuda.is_available())]
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def add_seeds_parser(sub) -> None:
    p = sub.add_parser("seeds", help="reproduce the seed documents' experiments and write results/seeds.md")
    p.add_argument("--out", default="results/seeds.md", help="the Markdown file to write (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="where MNIST/ and airfoil/ are (default: $GDCORE_DATA_DIR, else ./data)")
    p.add_argument("--quick", action="store_true", help="only documents 001, 002 and 004's loss sequence (seconds)")


def cmd_seeds(args) -> int:
    from .seeds import run_seeds

    out = run_seeds(Path(args.out), args.data_dir, args.quick)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    from .report import write_report

    report = write_report(args.paths, Path(args.out))
    print(f"wrote {report} and its charts", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    from .compare import run_compare

    return run_compare(args.base, args.new, args.fail_on)


def main(argv=None) -> int:
    parser = _Parser(prog="gdcore", description="Benchmarks for GD, SGD and mini-batch SGD.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_run_parser(sub)
    add_report_parsers(sub)
    add_roofline_parser(sub)
    add_seeds_parser(sub)
    args = parser.parse_args(argv)
    try:
        return {"run": cmd_run, "report": cmd_report, "compare": cmd_compare, "roofline": cmd_roofline, "seeds": cmd_seeds}[args.command](args)
    except ConfigError as e:
        print(f"gdcore: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gdcore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
