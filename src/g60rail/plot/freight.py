"""Freight figures: throughput, yard and gate, resource use, dwell and transit times.

Every function takes a :class:`~g60rail.result.Result` (or its ``tables`` dict; the
utilisation chart also takes a plain KPI dict), an optional matplotlib ``Axes`` and returns
the ``Figure``.  Figures are built on :class:`matplotlib.figure.Figure` objects, never on
pyplot's global state, so they render headless and in parallel.  Time axes carry real
dates (the scenario's calendar), other axes their units.

A service keeps its colour in every figure: the outbound direction is drawn solid, its
``*_return`` counterpart dashed in the same colour (see :func:`service_style`).
"""

from __future__ import annotations

import zlib
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from g60rail.plot.axes import date_axis, figure_and_axes, no_data, tables_of

__all__ = [
    "cumulative_teu",
    "dwell_ecdf",
    "service_style",
    "teu_per_day",
    "transit_ecdf",
    "utilization",
    "yard_and_gate",
]

# Fixed colours for the baseline's services; other ids get a stable colour from their name.
_PALETTE = (
    "tab:red",
    "tab:blue",
    "tab:green",
    "tab:purple",
    "tab:orange",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "tab:gray",
)
_KNOWN = {
    "g60": "tab:red",
    "shanghai_yunnan": "tab:blue",
    "lmx": "tab:green",
    "china_europe": "tab:purple",
}


def service_style(service: str) -> dict[str, Any]:
    """Line colour and style of a service, the same in every figure.

    ``x`` and ``x_return`` share a colour; the return direction is dashed.

    Parameters
    ----------
    service
        Service id, e.g. ``"g60"`` or ``"g60_return"``.

    Returns
    -------
    dict
        ``color`` and ``linestyle`` keyword arguments for matplotlib.
    """
    base = service.removesuffix("_return")
    color = _KNOWN.get(base) or _PALETTE[zlib.crc32(base.encode()) % len(_PALETTE)]
    return {"color": color, "linestyle": "--" if service.endswith("_return") else "-"}


# ------------------------------------------------------------------ throughput ------
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

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    ts = tables_of(result)["timeseries"]
    fig, ax = figure_and_axes(ax, (10, 4.5))
    cols = sorted(c for c in ts.columns if c.startswith("teu_departed."))
    for col in cols:
        sid = col.split(".", 1)[1]
        y = ts[col].rolling(rolling_days, min_periods=1, center=True).mean()
        ax.plot(ts["date"], y, label=sid, **service_style(sid))
    date_axis(ax)
    ax.set_ylabel(f"TEU departed per day ({rolling_days}-day mean)")
    ax.set_title("Train departures by service and direction")
    ax.set_ylim(bottom=0)
    if cols:
        ax.legend(fontsize="small", ncols=2)
    return fig


def cumulative_teu(result: Any, ax: Axes | None = None) -> Figure:
    """Cumulative TEU booked, departed by train, and delivered, since the start of the run.

    The gap between *booked* and *delivered* is what is inside the system (on the road to
    the hub, in yards, on trains, at borders); it is shaded.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (needs ``timeseries``).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    ts = tables_of(result)["timeseries"]
    fig, ax = figure_and_axes(ax, (10, 4.5))
    # values are counted per day; plot them at the end of their day
    t = ts["date"] + pd.Timedelta(days=1)
    # a day-level counter appears in the table once it has counted something
    zero = pd.Series(0.0, index=ts.index)
    created = ts.get("teu_created", zero).cumsum()
    delivered = ts.get("teu_delivered", zero).cumsum()
    departed_cols = [c for c in ts.columns if c.startswith("teu_departed.")]
    ax.plot(t, created, color="0.2", label="booked (TEU created)")
    if departed_cols:
        departed = ts[departed_cols].sum(axis=1).cumsum()
        ax.plot(t, departed, color="tab:blue", label="departed by train (all legs)")
    ax.plot(t, delivered, color="tab:green", label="delivered to consignee")
    ax.fill_between(t, delivered, created, color="tab:orange", alpha=0.2, label="in the system")
    date_axis(ax)
    ax.set_ylabel("cumulative TEU")
    ax.set_ylim(bottom=0)
    ax.set_title("Cumulative TEU")
    ax.legend(fontsize="small", loc="upper left")
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

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    ts = tables_of(result)["timeseries"]
    fig, ax = figure_and_axes(ax, (10, 4.5))
    ax.plot(ts["date"], ts[f"yard_teu_mean.{place}"], label="yard, daily mean")
    ax.plot(ts["date"], ts[f"yard_teu_max.{place}"], label="yard, daily max", alpha=0.7)
    ax.plot(ts["date"], ts[f"yard_capacity_teu.{place}"], "k--", label="yard capacity")
    date_axis(ax)
    ax.set_ylabel("yard occupancy (TEU)")
    ax.set_ylim(bottom=0)
    gate = ax.twinx()
    gate.step(
        ts["date"],
        ts[f"gate_queue_max.{place}"],
        where="post",
        color="tab:red",
        label="gate queue, daily max",
    )
    gate.set_ylabel("trucks queueing at the gate")
    gate.set_ylim(bottom=0, top=max(1.0, float(ts[f"gate_queue_max.{place}"].max())) * 1.15)
    lines = ax.get_legend_handles_labels()
    glines = gate.get_legend_handles_labels()
    ax.legend(lines[0] + glines[0], lines[1] + glines[1], fontsize="small", loc="upper left")
    ax.set_title(f"Yard and gate at {place}")
    return fig


# ------------------------------------------------------------------ resources -------
_RESOURCE = {
    "reach_stacker": "reach stackers",
    "track": "loading tracks",
    "gate": "gate lanes",
    "officer": "customs officers",
    "set": "train sets",
}


def _utilization_rows(kpis: dict[str, float], hub_place: str) -> list[tuple[str, str, float]]:
    """(place, resource, utilisation) for every ``*_utilization`` KPI with a value."""
    rows = []
    for key, value in kpis.items():
        if not key.endswith("_utilization") or value != value:
            continue
        parts = key.split(".")
        what = parts[-1].removesuffix("_utilization")
        if parts[0] == "hub":
            place = hub_place if len(parts) == 2 else parts[1]
        elif parts[0] == "border":
            place = parts[1]
        elif parts[0] == "pax":
            place = "HSR station"
        elif parts[0] == "freight":  # freight.<pool>.set_utilization
            place = parts[1]
        else:
            place = parts[0]
        rows.append((place, _RESOURCE.get(what, what.replace("_", " ")), float(value)))
    order = {r: i for i, r in enumerate(_RESOURCE.values())}
    # the hub first, then the other terminals, the border ports, the train-set pools, the
    # station
    group = {p: 0 if p == hub_place else 4 if p == "HSR station" else 1 for p, _, _ in rows}
    group.update({p: 2 for p, w, _ in rows if w == "customs officers"})
    group.update({p: 3 for p, w, _ in rows if w == "train sets"})
    rows.sort(key=lambda r: (group[r[0]], r[0], order.get(r[1], 99), r[1]))
    return rows


def utilization(
    result: Any,
    ax: Axes | None = None,
    *,
    hub_place: str = "songjiang",
    limit: float | None = 0.85,
) -> Figure:
    """Utilisation of reach stackers, loading tracks, gate lanes, customs officers and
    train sets.

    One horizontal bar per ``*_utilization`` KPI (busy hours over available hours, whole
    run), grouped by place; station resources appear when the run has them.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``kpis`` dict.
    ax
        Axes to draw on; a new figure when omitted.
    hub_place
        Label of the main hub, whose KPIs are named ``hub.<resource>_utilization``.
    limit
        Draw a reference line at this utilisation (0.85: a common planning ceiling above
        which queues grow quickly; an estimate, not a rule).  ``None`` for no line.

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    kpis = getattr(result, "kpis", result)
    rows = _utilization_rows(kpis, hub_place)
    fig, ax = figure_and_axes(ax, (8, 0.35 * max(len(rows), 4) + 1.2))
    colors = {name: _PALETTE[i + 1] for i, name in enumerate(_RESOURCE.values())}
    if not rows:
        no_data(ax, "utilisation KPIs")
    y = np.arange(len(rows))[::-1]
    for yi, (_place, what, u) in zip(y, rows, strict=True):
        ax.barh(yi, 100 * u, color=colors.get(what, "tab:gray"), height=0.7)
        ax.text(100 * u + 1, yi, f"{100 * u:.1f} %", va="center", fontsize="small")
    ax.set_yticks(y, [f"{place}: {what}" for place, what, _ in rows])
    top = max([100 * u for *_, u in rows] + [100 * (limit or 0), 10.0])
    ax.set_xlim(0, min(110.0, top * 1.15) if top <= 100 else top * 1.15)
    if limit is not None:
        ax.axvline(100 * limit, color="0.3", ls=":", lw=1)
        ax.text(
            100 * limit,
            1.0,
            f" {100 * limit:.0f} %",
            transform=ax.get_xaxis_transform(),
            va="bottom",
            fontsize="x-small",
            color="0.3",
        )
    ax.set_xlabel("utilisation (% of available resource-hours)")
    ax.set_title("Resource utilisation over the run")
    return fig


# ------------------------------------------------------------ distributions -------
def _service_routes(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Service -> destination of its trains (from the trains table)."""
    trains = tables.get("trains")
    if trains is None or trains.empty:
        return {}
    # pandas-stubs types to_dict() as dict[Hashable, Any]: here service id -> place id
    return cast("dict[str, str]", trains.groupby("service")["destination"].first().to_dict())


def _ecdf_by_service(ax: Axes, values: pd.Series, services: pd.Series, unit_days: bool) -> int:
    drawn = 0
    for sid in sorted(services.dropna().unique()):
        v = values[(services == sid) & values.notna()].to_numpy(float)
        if len(v) == 0:
            continue
        if unit_days:
            v = v / 24.0
        ax.ecdf(v, label=f"{sid} (n={len(v)}, median {np.median(v):.1f})", **service_style(sid))
        drawn += 1
    return drawn


def transit_ecdf(result: Any, ax: Axes | None = None, *, days: bool = False) -> Figure:
    """Distribution (ECDF) of rail transit time by service.

    Transit runs from the train's departure at the box's first terminal to the box standing
    in the destination's yard, as the ``transit.*`` KPIs.  Only boxes carried the whole
    length of their service count (e.g. G60 boxes to Vientiane, not those unloaded at
    Kunming), so each curve is one origin-destination pair; boxes still travelling at the
    end of the run are left out.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (``containers``, ``trains``).
    ax
        Axes to draw on; a new figure when omitted.
    days
        Show days instead of hours.

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    tables = tables_of(result)
    c = tables["containers"]
    fig, ax = figure_and_axes(ax, (8, 4.5))
    end = _service_routes(tables)
    rail = c[(c["mode"] == "rail") & (c["destination"] == c["service"].map(end))]
    n = _ecdf_by_service(ax, rail["t_arrived"] - rail["t_departed"], rail["service"], days)
    if n == 0:
        no_data(ax, "completed rail transits")
    ax.set_xlabel(f"transit, train departure to arrival at destination ({'d' if days else 'h'})")
    ax.set_ylabel("share of boxes (cumulative)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Rail transit time by service (end to end)")
    if n:
        ax.legend(fontsize="x-small", loc="lower right")
    return fig


def dwell_ecdf(
    result: Any,
    ax: Axes | None = None,
    *,
    stage: Literal["origin", "destination"] = "origin",
    days: bool = False,
) -> Figure:
    """Distribution (ECDF) of container dwell by service.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``tables`` dict (needs ``containers``).
    ax
        Axes to draw on; a new figure when omitted.
    stage
        ``"origin"``: gate-in at the first terminal to the train's departure (yard dwell
        plus loading; what the hub's capacity decides).  ``"destination"``: arrival at the
        destination's yard to delivery to the consignee (the consignee's pick-up dwell).
    days
        Show days instead of hours.

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    c = tables_of(result)["containers"]
    rail = c[c["mode"] == "rail"]
    fig, ax = figure_and_axes(ax, (8, 4.5))
    if stage == "origin":
        values = rail["t_departed"] - rail["t_gate_in"]
        what = "dwell at the first terminal, gate-in to train departure"
    elif stage == "destination":
        values = rail["t_delivered"] - rail["t_arrived"]
        what = "dwell at the destination, arrival to delivery"
    else:
        raise ValueError(f"stage must be 'origin' or 'destination', got {stage!r}")
    n = _ecdf_by_service(ax, values, rail["service"], days)
    if n == 0:
        no_data(ax, "dwell times")
    ax.set_xlabel(f"{what} ({'d' if days else 'h'})")
    ax.set_ylabel("share of boxes (cumulative)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Container dwell by service ({stage})")
    if n:
        ax.legend(fontsize="x-small", loc="lower right")
    return fig
