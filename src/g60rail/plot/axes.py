"""What every figure shares: the axes to draw on, date ticks, an empty-panel note, and
the tables of a result."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["date_axis", "figure_and_axes", "no_data", "tables_of"]


def tables_of(result_or_tables: Any) -> dict[str, pd.DataFrame]:
    """The tables of a :class:`~g60rail.result.Result`, or the tables dict itself."""
    tables: dict[str, pd.DataFrame] = getattr(result_or_tables, "tables", result_or_tables)
    return tables


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and the figure holding it, or a new figure of ``figsize`` inches with one
    axes."""
    if ax is not None:
        fig = ax.figure
        if not isinstance(fig, Figure):  # a SubFigure: return the figure holding it
            fig = fig.figure
        return fig, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def date_axis(ax: Axes) -> None:
    """Concise real-date ticks on the x axis (no rotation, so it works in grids)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("date")


def no_data(ax: Axes, what: str) -> None:
    """Say in the middle of ``ax`` that the run has no ``what``."""
    ax.text(
        0.5,
        0.5,
        f"no {what} in this run",
        ha="center",
        va="center",
        transform=ax.transAxes,
        color="0.4",
    )
