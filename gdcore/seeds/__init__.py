"""`gdcore seeds`: every experiment of the seed documents run with gdcore, beside the figures they published.

Each experiment is a function returning rows (document, experiment, seeds, published, ours, difference, verdict),
in a module per seed document (docNNN.py). Only the `published` column is typed in; everything else comes from the
run that writes the file.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from ..progress import bar, shown, status
from .common import COLUMNS, DETERMINISTIC, SEEDS, Context, Row, seeds_label
from .doc000 import seed000, seed000_gd
from .doc001 import seed001
from .doc002 import seed002
from .doc003 import seed003
from .doc004 import seed004, seed004_claims
from .doc004_init import seed004_init, seed004_zeros_linear, seed004_zeros_logistic

QUICK = [seed001, seed002, seed004, seed004_claims, seed004_zeros_linear]  # no MNIST, few epochs: seconds
SLOW = [seed000, seed003, seed004_init, seed004_zeros_logistic, seed000_gd]  # MNIST or many epochs: minutes


def header(rows: list[Row], quick: bool, seconds: float) -> list[str]:
    """The paragraph above the table: how it was made, and which rows are not over the standard seeds."""
    standard, threads = seeds_label(SEEDS), torch.get_num_threads()
    other = [r for r in rows if r.seeds not in (DETERMINISTIC, standard)]
    text = (f"Written by `gdcore seeds{' --quick' if quick else ''}` on {time.strftime('%Y-%m-%d')} in {seconds:.0f} s "
            f"({threads} thread{'s' if threads != 1 else ''}, torch {torch.__version__}). Every figure in the 'ours' "
            "column comes from that run; only 'published' is typed in. The 'seeds' column says where each row's "
            f"figures come from: '{DETERMINISTIC}' marks an experiment with nothing random in it; otherwise the seeds "
            "listed, each changing the initialisation, the data drawn from the seed and the shuffle order. A "
            "stochastic figure is "
            "the median over those seeds with its range (min to max), unless its cell says 'mean'. A published "
            "figure is reproduced when it lies within the stated tolerance of our median or inside that range.")
    if other:
        text += (f" Rows not over seeds {standard}: " + "; ".join(f"document {r.doc}, {r.experiment.split(':')[0]} "
                                                                 f"(seeds {r.seeds})" for r in other) + ".")
    return ["# The seed documents, reproduced", "", text, ""]


def write(rows: list[Row], ctx: Context, path: Path, started: float, quick: bool) -> None:
    lines = header(rows, quick, time.time() - started)
    lines += ["| " + " | ".join(title for title, _ in COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(getattr(r, k)).replace("|", "/") for _, k in COLUMNS) + " |" for r in rows]
    lines += [""] + ctx.notes
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def run_seeds(out: Path, data_dir: str | None, quick: bool) -> Path:
    started = time.time()
    ctx = Context(data_dir, out.parent, [])
    rows: list[Row] = []
    todo = experiments(quick)
    with bar(total=len(todo), desc="gdcore seeds", unit="experiment") as b:
        for experiment in todo:
            status(b, experiment.__name__)
            with shown(False):  # the runs inside an experiment draw no bars of their own
                rows += experiment(ctx)
            b.update()
    write(rows, ctx, out, started, quick)
    return out


def experiments(quick: bool) -> list:
    return list(QUICK) if quick else QUICK + SLOW


__all__ = ["run_seeds", "experiments", "write", "header", "Context", "Row", "QUICK", "SLOW", "seed001", "seed002",
           "seed004", "seed004_claims", "seed004_zeros_linear"]
