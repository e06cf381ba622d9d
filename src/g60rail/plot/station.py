"""Figures of the Songjiang HSR station passenger flow.

Each function takes the tables of a run (a ``dict`` of DataFrames, or any object with a
``.tables`` attribute such as :class:`~g60rail.model.station.StationRun` or a Result),
reads ``pax_hourly`` (or ``pax_los``) and draws on the given Axes, or on a new figure,
which it returns.  Plots never run a simulation.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["hall_occupancy", "los_heatmap", "pax_by_hour", "wait_heatmap"]


def _table(source: Any, name: str) -> pd.DataFrame:
    tables = source.tables if hasattr(source, "tables") else source
    if not isinstance(tables, Mapping) or name not in tables:
        raise ValueError(f"expected run tables with a {name!r} table")
    return tables[name]


def _hourly(source: Any) -> pd.DataFrame:
    return _table(source, "pax_hourly")


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.figure
        if not isinstance(fig, Figure):  # a SubFigure: return the figure holding it
            fig = fig.figure
        return fig, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def pax_by_hour(source: Any, ax: Axes | None = None) -> Figure:
    """Passengers arriving and the 95th-percentile security wait by hour of day.

    Bars: mean arrivals per hour of day over the run's days.  Lines (right axis): the
    mean and the worst hourly p95 wait of that hour of day.
    """
    h = _hourly(source)
    fig, ax = _axes(ax, (9, 4.5))
    by = h.groupby("hour_of_day")
    hours = np.arange(24)
    arrivals = by["arrivals"].mean().reindex(hours, fill_value=0.0)
    p95_mean = by["wait_p95_min"].mean().reindex(hours)
    p95_max = by["wait_p95_min"].max().reindex(hours)
    ax.bar(hours, arrivals.to_numpy(), color="#9ecae1", label="arrivals (mean)")
    ax.set_xlabel("hour of day [h]")
    ax.set_ylabel("passengers arriving [pax/h]")
    ax.set_xticks(hours[::2])
    ax2 = ax.twinx()
    ax2.plot(hours, p95_mean.to_numpy(), color="#d62728", marker="o", label="p95 wait (mean)")
    ax2.plot(hours, p95_max.to_numpy(), color="#d62728", ls="--", label="p95 wait (worst day)")
    ax2.set_ylabel("95th-percentile security wait [min]")
    ax2.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [str(x.get_label()) for x in handles], loc="upper left")
    ax.set_title("Passengers and security wait by hour of day")
    return fig


def hall_occupancy(
    source: Any,
    day: datetime.date | None = None,
    ax: Axes | None = None,
    capacity_pax: float | None = None,
) -> Figure:
    """Waiting-hall occupancy over one day (default: the day with the highest peak).

    Draws the hourly time-average and the hourly maximum, and the hall's capacity when
    ``capacity_pax`` is given.
    """
    h = _hourly(source)
    fig, ax = _axes(ax, (9, 4.5))
    dates = h["time"].dt.normalize()
    if day is None:
        busiest = int(np.argmax(h["hall_occupancy_max"].to_numpy())) if len(h) else -1
        day = h["time"].iloc[busiest].date() if len(h) else None
    sel = h[dates == pd.Timestamp(day)] if day is not None else h.iloc[:0]
    ax.step(sel["time"], sel["hall_occupancy"], where="post", label="mean in hour")
    ax.step(sel["time"], sel["hall_occupancy_max"], where="post", label="max in hour")
    if capacity_pax is not None:
        ax.axhline(capacity_pax, color="k", ls=":", label="capacity")
    ax.set_xlabel("time of day")
    ax.set_ylabel("passengers in the waiting hall [pax]")
    ax.set_title(f"Waiting hall, {day.isoformat() if day is not None else 'no data'}")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return fig


def wait_heatmap(source: Any, ax: Axes | None = None) -> Figure:
    """Day by hour-of-day heatmap of the 95th-percentile security wait [min]."""
    h = _hourly(source)
    fig, ax = _axes(ax, (9, 6))
    grid = (
        h.assign(date=h["time"].dt.date)
        .pivot_table(index="date", columns="hour_of_day", values="wait_p95_min", aggfunc="max")
        .reindex(columns=range(24))
    )
    n_days = max(len(grid), 1)
    image = ax.imshow(
        grid.to_numpy(dtype=float),
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        extent=(-0.5, 23.5, n_days - 0.5, -0.5),
    )
    ax.set_xlabel("hour of day [h]")
    ax.set_ylabel("day")
    ax.set_xticks(range(0, 24, 2))
    step = max(1, n_days // 12)
    ticks = list(range(0, len(grid), step))
    ax.set_yticks(ticks)
    ax.set_yticklabels([str(grid.index[i]) for i in ticks])
    fig.colorbar(image, ax=ax, label="95th-percentile security wait [min]")
    ax.set_title("Security wait p95 by day and hour")
    return fig


LOS_COLORS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
"""Colours of the levels of service A (green) to F (red)."""


def los_heatmap(source: Any, day: datetime.date | None = None, ax: Axes | None = None) -> Figure:
    """Fruin level of service per queue area (rows) and hour of day (columns).

    Reads ``pax_los``.  Without ``day`` each cell is the worst level of that zone and hour
    of day over the run; with ``day`` the levels of that calendar day.  Colours go from A
    (green, 1.2 m² a person or more) to F (red, below 0.2 m²).
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    los = _table(source, "pax_los")
    fig, ax = _axes(ax, (10, 6))
    sel = los if day is None else los[los["time"].dt.normalize() == pd.Timestamp(day)]
    grid = (
        sel.assign(hour=sel["time"].dt.hour, zone=sel["zone"].astype(str))
        .pivot_table(index="zone", columns="hour", values="los_level", aggfunc="max")
        .reindex(columns=range(24))
    )
    zones = [z for z in los["zone"].cat.categories if z in grid.index] if len(grid) else []
    grid = grid.reindex(zones)
    cmap = ListedColormap(list(LOS_COLORS))
    norm = BoundaryNorm(np.arange(0.5, 7.5), cmap.N)
    image = ax.imshow(
        grid.to_numpy(dtype=float),
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        norm=norm,
        extent=(-0.5, 23.5, len(zones) - 0.5, -0.5),
    )
    ax.set_xlabel("hour of day [h]")
    ax.set_xticks(range(0, 24, 2))
    ax.set_yticks(range(len(zones)))
    ax.set_yticklabels(zones)
    bar = fig.colorbar(image, ax=ax, ticks=range(1, 7), label="level of service (Fruin, queuing)")
    bar.ax.set_yticklabels(list("ABCDEF"))
    what = "worst over the run" if day is None else day.isoformat()
    ax.set_title(f"Level of service by queue area and hour ({what})")
    return fig
