"""Train graph: a time-distance diagram along the corridor, one line per train.

Drawn from the ``sections`` table of a run: every train's entry into and exit from every
section it ran, freight and passenger trains alike.  Flat parts are stops and waits at a
station, where trains meet and pass; maintenance windows are shaded.  Trains still
running at the end of the run are drawn as far as they got.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from g60rail.plot.axes import date_axis, figure_and_axes, no_data, tables_of
from g60rail.plot.freight import service_style
from g60rail.scenario.clock import Clock
from g60rail.scenario.schema import Scenario

__all__ = ["default_route", "route_km", "train_graph"]


def default_route(scenario: Scenario) -> list[str]:
    """The longest service route of a scenario (the G60 line in the baseline)."""
    routes = [s.route for s in scenario.services.values()]
    if not routes:
        raise ValueError("the scenario has no services, so no route for a train graph")
    longest = max(routes, key=len)
    return list(longest)


def _leg_km(scenario: Scenario, a: str, b: str) -> float:
    for leg in scenario.legs:
        if leg.key == frozenset((a, b)) and leg.mode != "road":
            return float(leg.km)
    raise ValueError(f"no rail leg or line joins {a!r} and {b!r}")


def route_km(scenario: Scenario, route: Sequence[str]) -> dict[str, float]:
    """Route km along ``route`` (0 at its first place) of its places and of every line
    station between them."""
    km = {route[0]: 0.0}
    for a, b in itertools.pairwise(route):
        line_id = scenario.line_between(a, b)
        if line_id is None:
            km[b] = km[a] + _leg_km(scenario, a, b)
            continue
        stations = scenario.lines[line_id].stations
        ids = [st.id for st in stations]
        i, j = ids.index(a), ids.index(b)
        step = 1 if j > i else -1
        for k in range(i + step, j + step, step):
            km[ids[k]] = km[a] + abs(stations[k].km - stations[i].km)
    return km


def _maintenance(
    scenario: Scenario, km: dict[str, float], t0: float, t1: float
) -> list[tuple[float, float, float, float]]:
    """(start_h, end_h, km_low, km_high) of the maintenance windows along the route."""
    clock = Clock.of(scenario)
    out = []
    for line in scenario.lines.values():
        zones = clock.station_zones(scenario, line)
        for i, (a, b) in enumerate(itertools.pairwise(line.station_ids)):
            window = line.maintenance_of(i)
            if window is None or a not in km or b not in km:
                continue
            lo, hi = sorted((km[a], km[b]))
            for s, e in clock.daily_windows(
                window.start_h, window.duration_min / 60.0, zones[i], t1
            ):
                if e > t0 and s < t1:
                    out.append((s, e, lo, hi))
    return out


def train_graph(
    result: Any,
    scenario: Scenario,
    ax: Axes | None = None,
    *,
    route: Sequence[str] | None = None,
    services: Iterable[str] | None = None,
    days: float | None = 7.0,
    first_day: float = 0.0,
    passenger_trains: bool = True,
) -> Figure:
    """Time-distance diagram of the trains along the corridor (one line per train).

    The vertical axis is route km along ``route`` (Songjiang 0 km, Kunming, Mohan, Boten,
    Vientiane in the baseline; places marked on the right, line stations as grey lines),
    the horizontal axis real dates.  Each train is one line through the times it entered
    and left each section (``sections`` table): flat parts are stops, border clearance,
    unloading and waits for a meet or a maintenance window (shaded).  Train sets running
    empty (light runs) are dotted, in their service's colour.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (``sections``).
    scenario
        The scenario that was run (for its lines, legs and calendar).
    ax
        Axes to draw on; a new figure when omitted.
    route
        Places along the diagram's distance axis; default: the longest service route.
    services
        Only these freight services and their light runs (default: every service along
        ``route``).
    days, first_day
        The window drawn, in days from the start of the run (default: the first week;
        ``days=None`` for the whole run).
    passenger_trains
        Draw the passenger trains too (thin grey lines).

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    tables = tables_of(result)
    sections = tables.get("sections")
    route = list(route) if route is not None else default_route(scenario)
    km = route_km(scenario, route)
    start = pd.Timestamp(scenario.meta.start)
    fig, ax = figure_and_axes(ax, (11, 5.5))
    t0 = 24.0 * first_day
    t1 = t0 + 24.0 * days if days is not None else np.inf
    wanted = set(services) if services is not None else None
    drawn = 0
    labelled: set[str] = set()
    rows = pd.DataFrame() if sections is None else sections
    if len(rows):
        on_route = rows["from"].isin(km.keys()) & rows["to"].isin(km.keys())
        rows = rows[on_route & (rows["t_exit"] >= t0) & (rows["t_enter"] <= t1)]
    for tid, g in rows.groupby("tid", sort=True):
        g = g.sort_values("t_enter", kind="stable")
        sid = str(g["service"].iloc[0])
        passenger = g["kind"].iloc[0] == "passenger"
        if passenger and not passenger_trains:
            continue
        if not passenger and wanted is not None and sid not in wanted:
            continue
        hours = np.column_stack([g["t_enter"], g["t_exit"]]).ravel()
        y = np.column_stack([g["from"].map(km), g["to"].map(km)]).ravel()
        t = start + pd.to_timedelta(hours, unit="h")
        if passenger:
            style: dict[str, Any] = {"color": "0.55", "lw": 0.7, "linestyle": "-"}
            label = None if "passenger" in labelled else "passenger trains"
            labelled.add("passenger")
        elif g["kind"].iloc[0] == "light":
            style = {"lw": 0.8, **service_style(sid), "linestyle": ":"}
            label = None if "light" in labelled else "empty sets (light runs)"
            labelled.add("light")
        else:
            style = {"lw": 1.2, **service_style(sid)}
            label = None if sid in labelled else sid
            labelled.add(sid)
        ax.plot(t, y, label=label, gid=f"train {tid}", **style)
        drawn += 1
    if drawn == 0:
        no_data(ax, "trains along this route in this window")
    t_end = t1 if np.isfinite(t1) else (float(rows["t_exit"].max()) if len(rows) else t0 + 24.0)
    for s, e, lo, hi in _maintenance(scenario, km, t0, t_end):
        ax.fill_between(
            mdates.date2num(
                [start + pd.Timedelta(hours=max(s, t0)), start + pd.Timedelta(hours=min(e, t_end))]
            ),
            lo,
            hi,
            color="0.88",
            lw=0,
            zorder=0,
        )
    date_axis(ax)
    ax.set_xlim(
        float(mdates.date2num(start + pd.Timedelta(hours=t0))),
        float(mdates.date2num(start + pd.Timedelta(hours=t_end))),
    )
    ax.set_ylabel(f"route km from {route[0]} (km)")
    top = max(km.values())
    ax.set_ylim(-0.03 * top, 1.03 * top)
    for station, k in km.items():
        if station not in route:
            ax.axhline(k, color="0.93", lw=0.5, zorder=0)
    places = ax.secondary_yaxis("right")
    # places closer than 2 % of the route share one tick (Mohan and Boten are 3 km apart)
    ticks: list[tuple[float, str]] = []
    for p in route:
        if ticks and km[p] - ticks[-1][0] < 0.02 * top:
            ticks[-1] = (ticks[-1][0], f"{ticks[-1][1]} / {p}")
        else:
            ticks.append((km[p], p))
    places.set_yticks([k for k, _ in ticks], [n for _, n in ticks])
    for k, _ in ticks:
        ax.axhline(k, color="0.8", lw=0.8, zorder=0)
    ax.set_title(
        f"Train graph {' - '.join(route)}  ({drawn} trains; flat: stops and meets; "
        "shaded: maintenance)"
    )
    if drawn:
        ax.legend(fontsize="x-small", ncols=6, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return fig
