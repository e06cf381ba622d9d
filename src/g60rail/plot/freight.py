"""Freight figures: throughput by service and direction, yard occupancy and gate queue."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["teu_per_day", "yard_and_gate"]


def _tables(result_or_tables: Any) -> dict[str, pd.DataFrame]:
    return getattr(result_or_tables, "tables", result_or_tables)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 4.5)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def teu_per_day(result: Any, ax: Axes | None = None, *, rolling_days: int = 7) -> Figure:
    """TEU departing per day for each service (one line per service and direction).

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (needs ``timeseries``).
    ax
        Axes to draw on; a new figure when omitted.
    rolling_days
        Width of the centred rolling mean, days (1 = raw daily values).
    """
    ts = _tables(result)["timeseries"]
    fig, ax = _axes(ax)
    cols = sorted(c for c in ts.columns if c.startswith("teu_departed."))
    for col in cols:
        y = ts[col].rolling(rolling_days, min_periods=1, center=True).mean()
        ax.plot(ts["date"], y, label=col.split(".", 1)[1])
    ax.set_xlabel("date")
    ax.set_ylabel(f"TEU departed per day ({rolling_days}-day mean)")
    ax.set_title("Train departures by service and direction")
    ax.legend(fontsize="small", ncols=2)
    fig.autofmt_xdate()
    return fig


def yard_and_gate(result: Any, place: str = "songjiang", ax: Axes | None = None) -> Figure:
    """Daily yard occupancy (mean and max) against capacity, with the gate queue.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (needs ``timeseries``).
    place
        The hub or terminal to show.
    ax
        Axes for the yard; the gate queue goes on a twin axis.
    """
    ts = _tables(result)["timeseries"]
    fig, ax = _axes(ax)
    ax.plot(ts["date"], ts[f"yard_teu_mean.{place}"], label="yard, daily mean")
    ax.plot(ts["date"], ts[f"yard_teu_max.{place}"], label="yard, daily max", alpha=0.7)
    ax.plot(ts["date"], ts[f"yard_capacity_teu.{place}"], "k--", label="yard capacity")
    ax.set_xlabel("date")
    ax.set_ylabel("yard occupancy (TEU)")
    gate = ax.twinx()
    gate.step(
        ts["date"],
        ts[f"gate_queue_max.{place}"],
        where="post",
        color="tab:red",
        label="gate queue, daily max",
    )
    gate.set_ylabel("trucks queueing at the gate")
    lines = ax.get_legend_handles_labels()
    glines = gate.get_legend_handles_labels()
    ax.legend(lines[0] + glines[0], lines[1] + glines[1], fontsize="small", loc="upper left")
    ax.set_title(f"Yard and gate at {place}")
    fig.autofmt_xdate()
    return fig
