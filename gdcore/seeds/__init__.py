"""`gdcore seeds`: every experiment of the seed documents run with gdcore, beside the figures they published.

Each experiment is a function returning rows (document, experiment, published, ours, difference, verdict). Only the
`published` column is typed in; everything else comes from the run that writes the file.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from .common import Context, Row
from .quick import QUICK, seed001, seed002, seed004


def write(rows: list[Row], ctx: Context, path: Path, started: float, quick: bool) -> None:
    head = ["document", "experiment", "published", "ours", "difference", "verdict"]
    lines = ["# The seed documents, reproduced", "",
             f"Written by `gdcore seeds{' --quick' if quick else ''}` on {time.strftime('%Y-%m-%d')} in "
             f"{time.time() - started:.0f} s ({torch.get_num_threads()} threads, torch {torch.__version__}). "
             "Every figure in the 'ours' column comes from that run; only 'published' is typed in. Stochastic "
             "figures (random initialisation, shuffling) are the mean over seeds 0-4 with their range; a published "
             "figure is reproduced when it lies within the stated tolerance of our mean or inside that range.", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(getattr(r, k)).replace("|", "/") for k in
                                ("doc", "experiment", "published", "ours", "difference", "verdict")) + " |" for r in rows]
    lines += [""] + ctx.notes
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def run_seeds(out: Path, data_dir: str | None, quick: bool) -> Path:
    started = time.time()
    ctx = Context(data_dir, out.parent, [])
    rows: list[Row] = []
    for experiment in experiments(quick):
        t0 = time.time()
        rows += experiment(ctx)
        print(f"gdcore seeds: {experiment.__name__} done in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    write(rows, ctx, out, started, quick)
    return out



def experiments(quick: bool) -> list:
    if quick:
        return list(QUICK)
    from .slow import EXPERIMENTS  # imports nothing from here: no cycle

    return QUICK + EXPERIMENTS

__all__ = ["run_seeds", "experiments", "Context", "Row", "QUICK", "seed001", "seed002", "seed004"]
