"""`gdcore report`: benchmark JSON files in, PNG charts and report.md out. Reads only the JSON files."""
from __future__ import annotations

from pathlib import Path

from . import charts
from .results import Row, load

CHARTS = [  # (file stem, title, function): one function per chart
    ("epoch_time", "Seconds per epoch against batch size", charts.epoch_time),
    ("samples_to_target", "Samples and steps to target (best lr per batch size)", charts.samples_to_target),
    ("final_loss", "Final train loss and test metric after a fixed budget", charts.final_loss),
    ("curves", "Convergence curves at the best learning rates", charts.curves),
    ("speedups", "Speedups: data path and step implementation", charts.speedups),
]


def fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def machines(rows: list[Row]) -> list[str]:
    return list(dict.fromkeys(r.machine for r in rows))


def write_report(paths: list[str], out: Path) -> Path:
    """Writes the charts and report.md into `out`; returns the report's path."""
    rows = load(paths)
    out.mkdir(parents=True, exist_ok=True)
    ms = machines(rows)
    parts = ["# gdcore benchmark report", "",
             f"Sources: {', '.join(sorted({r.file for r in rows}))}.", ""]
    for i, m in enumerate(ms):
        mrows = [r for r in rows if r.machine == m]
        suffix = "" if len(ms) == 1 else f"-m{i + 1}"
        torch_v = sorted({str(r.torch_version) for r in mrows})
        parts += [f"## {m}" if len(ms) > 1 else f"Machine: {m}", "",
                  f"torch {', '.join(torch_v)}; devices {', '.join(sorted({r.device for r in mrows}))}; "
                  f"{len(mrows)} benchmarks.", ""]
        for stem, title, draw in CHARTS:
            png = out / f"{stem}{suffix}.png"
            table = draw(mrows, png)
            if table is None:
                continue
            parts += [f"### {title}", "", f"![{title}]({png.name})", "", md_table(*table), ""]
    hw = charts.hardware(rows, out / "hardware.png")
    if hw is not None:
        parts += ["## Hardware comparison", "", "![Hardware comparison](hardware.png)", "",
                  "Speedup is the first machine's seconds per epoch divided by each other machine's.", "",
                  md_table(*hw), ""]
    report = out / "report.md"
    report.write_text("\n".join(parts))
    return report
