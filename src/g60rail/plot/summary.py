"""The figures ``g60rail run`` writes next to its tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from g60rail.plot.freight import teu_per_day, yard_and_gate
from g60rail.result import atomic_write

__all__ = ["write_run_figures"]


def write_run_figures(result: Any, out: Path, dpi: int = 110) -> list[Path]:
    """Render a run's standard figures as PNG files in ``out``; return their paths."""
    figures = {
        "teu_per_day.png": teu_per_day(result),
        "yard_gate.png": yard_and_gate(result),
    }
    paths = []
    for name, fig in figures.items():
        path = Path(out) / name
        with atomic_write(path, "wb") as fh:
            fig.savefig(fh, dpi=dpi, format="png")
        paths.append(path)
    return paths
