"""Train graph: a time-distance diagram along the corridor, one line per train.

Each line joins the events the run recorded for a train (departure, arrival and
clearance at each border port, final arrival); a stop without a record (an intermediate
terminal) is placed by the legs' nominal running times, so it is an estimate.  Trains
still running at the end of the run are not drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from g60rail.plot.axes import date_axis, figure_and_axes, no_data, tables_of
from g60rail.plot.freight import service_style
from g60rail.scenario.schema import Scenario

__all__ = ["default_route", "route_km", "train_graph"]


def default_route(scenario: Scenario) -> list[str]:
    """The longest service route of a scenario (the G60 line in the baseline)."""
    routes = [s.route for s in scenario.services.values()]
    if not routes:
        raise ValueError("the scenario has no services, so no route for a train graph")
    longest = max(routes, key=len)
    return list(longest)


def _leg(scenario: Scenario, a: str, b: str) -> Any:
    for leg in scenario.legs:
        if leg.key == frozenset((a, b)) and leg.mode == "rail":
            return leg
    raise ValueError(f"no rail leg joins {a!r} and {b!r}")


class _TrainRow(Protocol):
    """A row of the ``trains`` table, as ``DataFrame.itertuples`` yields it."""

    tid: int
    service: str
    t_departed: float
    t_arrived: float


class _BorderRow(Protocol):
    """A row of the ``border`` table, as ``DataFrame.itertuples`` yields it."""

    tid: int
    port: str
    t_in: float
    t_out: float


def route_km(scenario: Scenario, route: Sequence[str]) -> dict[str, float]:
    """Route km of every place along ``route``, from the scenario's rail legs (0 at the start)."""
    km = {route[0]: 0.0}
    for a, b in itertools.pairwise(route):
        km[b] = km[a] + _leg(scenario, a, b).km
    return km


def _nominal_h(scenario: Scenario, a: str, b: str) -> float:
    return float(_leg(scenario, a, b).mean_running_h)


def _train_path(
    scenario: Scenario,
    stops: Sequence[str],
    t_dep: float,
    t_arr: float,
    border: dict[str, tuple[float, float]],
) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Recorded and estimated (time, place) points of one train along its stops.

    Recorded: departure, border arrival/clearance, arrival.  A stop in between with no
    record (Kunming on the G60) gets an arrival time from the previous recorded point plus
    the nominal running time, and a departure time from the next recorded point minus the
    nominal running time (clipped so time never runs backwards).
    """
    known: dict[int, tuple[float, float]] = {0: (t_dep, t_dep), len(stops) - 1: (t_arr, t_arr)}
    for i, p in enumerate(stops):
        if p in border:
            known[i] = border[p]
    points: list[tuple[float, str]] = []
    estimated: list[tuple[float, str]] = []
    idx = sorted(known)
    for i, p in enumerate(stops):
        if i in known:
            t_in, t_out = known[i]
            points += [(t_in, p), (t_out, p)] if t_out > t_in else [(t_in, p)]
            continue
        prev = max(j for j in idx if j < i)
        nxt = min(j for j in idx if j > i)
        lo, hi = known[prev][1], known[nxt][0]
        t_in = lo + sum(_nominal_h(scenario, stops[j], stops[j + 1]) for j in range(prev, i))
        t_out = hi - sum(_nominal_h(scenario, stops[j], stops[j + 1]) for j in range(i, nxt))
        t_in = min(max(t_in, lo), hi)
        t_out = min(max(t_out, t_in), hi)
        estimated += [(t_in, p), (t_out, p)]
        points += [(t_in, p), (t_out, p)]
    return points, estimated


def train_graph(
    result: Any,
    scenario: Scenario,
    ax: Axes | None = None,
    *,
    route: Sequence[str] | None = None,
    services: Iterable[str] | None = None,
) -> Figure:
    """Time-distance diagram of the trains along the corridor (one line per train).

    The vertical axis is route km along ``route`` (Songjiang 0 km, Kunming, Mohan, Boten,
    Vientiane in the baseline; places marked on the right), the horizontal axis real dates.
    Every completed train whose service runs along a part of ``route`` (either direction)
    is one line: flat parts are stops.

    The trains table records only departure and arrival, so the line is built from the
    recorded events of each train: departure at its origin, arrival at and clearance from
    each border port (``border`` table, matched by ``tid``), arrival at its destination
    (marked by dots).  An intermediate stop with no record (Kunming on the G60) is placed
    with the legs' nominal running times between the neighbouring recorded events: an
    estimate (the real running times are random and path waits are not recorded there).
    Trains still running when the run ends are not in the trains table and not drawn.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (``trains``, ``border``).
    scenario
        The scenario that was run (for the route km of its legs and its calendar).
    ax
        Axes to draw on; a new figure when omitted.
    route
        Places along the diagram's distance axis; default: the longest service route.
    services
        Only these services (default: every service along ``route``).

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    tables = tables_of(result)
    trains, border = tables["trains"], tables.get("border")
    route = list(route) if route is not None else default_route(scenario)
    km = route_km(scenario, route)
    start = pd.Timestamp(scenario.meta.start)
    fig, ax = figure_and_axes(ax, (11, 5.5))
    wanted = set(services) if services is not None else None
    by_tid: dict[int, dict[str, tuple[float, float]]] = {}
    if border is not None:
        # pandas-stubs types each field of a row as any scalar; the columns are known
        for b in cast("Iterable[_BorderRow]", border.itertuples(index=False)):
            by_tid.setdefault(int(b.tid), {})[str(b.port)] = (float(b.t_in), float(b.t_out))
    labelled: set[str] = set()
    drawn = 0
    for row in cast("Iterable[_TrainRow]", trains.itertuples(index=False)):
        sid = str(row.service)
        spec = scenario.services.get(sid)
        if spec is None or (wanted is not None and sid not in wanted):
            continue
        if not all(p in km for p in spec.route):
            continue
        if not np.isfinite(row.t_arrived):
            continue
        points, est = _train_path(
            scenario,
            spec.route,
            float(row.t_departed),
            float(row.t_arrived),
            by_tid.get(int(row.tid), {}),
        )
        t = start + pd.to_timedelta([p[0] for p in points], unit="h")
        y = [km[p[1]] for p in points]
        label = None if sid in labelled else sid
        labelled.add(sid)
        ax.plot(t, y, lw=1.2, label=label, gid=f"train {row.tid}", **service_style(sid))
        rec = [
            (tt, yy)
            for (tt, yy), p in zip(zip(t, y, strict=True), points, strict=True)
            if p not in est
        ]
        if rec:
            ax.plot(
                # datetimes are valid x data (matplotlib units), but its stubs take only
                # ArrayLike (matplotlib issue 27140)
                [r[0] for r in rec],  # type: ignore[arg-type]
                [r[1] for r in rec],
                ".",
                ms=3,
                color=service_style(sid)["color"],
            )
        drawn += 1
    if drawn == 0:
        no_data(ax, "completed trains along this route")
    date_axis(ax)
    ax.set_ylabel(f"route km from {route[0]} (km)")
    top = max(km.values())
    ax.set_ylim(-0.03 * top, 1.03 * top)
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
        ax.axhline(k, color="0.85", lw=0.8, zorder=0)
    ax.set_title(f"Train graph {' - '.join(route)}  ({drawn} trains; dots: recorded events)")
    if drawn:
        ax.legend(fontsize="x-small", ncols=6, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return fig
