"""The figures ``g60rail run`` writes next to its tables, and the one-page summary.

The summary page (``summary.png``) puts the run's key pictures and a table of headline KPIs
on one sheet: the train graph and the corridor map (when the scenario is known), TEU per
day, cumulative TEU, yard and gate at the hub, resource utilisation and transit times, and
the HSR station's hourly flow and security waits when the run simulated the station.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from g60rail.plot.corridor import corridor_map
from g60rail.plot.freight import (
    cumulative_teu,
    dwell_ecdf,
    teu_per_day,
    transit_ecdf,
    utilization,
    yard_and_gate,
)
from g60rail.plot.trains import train_graph
from g60rail.result import atomic_write
from g60rail.scenario.schema import Scenario

__all__ = [
    "HEADLINE_KPIS",
    "kpi_table",
    "render_run_figures",
    "scenario_of",
    "summary_figure",
    "write_run_figures",
]

HEADLINE_KPIS: tuple[tuple[str, str, str], ...] = (
    ("freight.teu_created", "TEU booked", "TEU"),
    ("freight.teu_delivered", "TEU delivered", "TEU"),
    ("freight.teu_in_system_end", "TEU still in the system at the end", "TEU"),
    ("freight.trains_departed", "trains departed (all services)", "trains"),
    ("freight.train_fill_teu_mean", "mean train load", "TEU"),
    ("freight.g60.trains_departed", "G60 trains departed", "trains"),
    ("freight.g60.train_fill_teu_mean", "G60 mean train load", "TEU"),
    ("hub.dwell_h_mean", "hub yard dwell, mean", "h"),
    ("hub.dwell_h_p95", "hub yard dwell, 95th percentile", "h"),
    ("hub.yard_teu_max", "hub yard occupancy, max", "TEU"),
    ("hub.gate_wait_h_mean", "hub gate wait, mean", "h"),
    ("hub.reach_stacker_utilization", "hub reach-stacker utilisation", "%"),
    ("border.mohan.clearance_h_mean", "Mohan train clearance, mean", "h"),
    ("border.boten.clearance_h_mean", "Boten train clearance, mean", "h"),
    ("transit.songjiang_kunming.h_mean", "transit Songjiang → Kunming, mean", "h"),
    ("transit.kunming_vientiane.h_mean", "transit Kunming → Vientiane, mean", "h"),
    ("transit.songjiang_vientiane.h_mean", "transit Songjiang → Vientiane, mean", "h"),
    ("door.songjiang_vientiane.h_mean", "door to door Songjiang → Vientiane (rail)", "h"),
    ("road.songjiang_vientiane.h_mean", "truck Songjiang → Vientiane, mean", "h"),
    ("pax.passengers", "HSR station passengers", "pax"),
    ("pax.security_wait_min_mean", "security wait, mean", "min"),
    ("pax.security_wait_min_p95", "security wait, 95th percentile", "min"),
    ("pax.missed_departures", "missed departures", "pax"),
    ("pax.hall_occupancy_max", "station hall occupancy, max", "pax"),
)
"""(KPI, label, unit) rows of the summary's KPI table, shown when the run has the KPI."""


def _fmt(value: float, unit: str) -> str:
    if value != value:
        return "–"
    if unit == "%":
        return f"{100 * value:.1f}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def kpi_table(result: Any, ax: Axes | None = None) -> Figure:
    """The headline KPIs of a run as a table (label, value, unit).

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` or its ``kpis`` dict.
    ax
        Axes to draw on (its frame is hidden); a new figure when omitted.

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    kpis = getattr(result, "kpis", result)
    if ax is None:
        fig = Figure(figsize=(6, 6), layout="constrained")
        ax = fig.add_subplot()
    else:
        parent = ax.figure
        # a SubFigure: return the figure holding it
        fig = parent if isinstance(parent, Figure) else parent.figure
    rows = [[label, _fmt(kpis[k], unit), unit] for k, label, unit in HEADLINE_KPIS if k in kpis]
    created = kpis.get("freight.teu_created", math.nan)
    balance = kpis.get("freight.teu_delivered", math.nan) + kpis.get(
        "freight.teu_in_system_end", math.nan
    )
    if created == created and balance == balance:
        ok = "holds" if abs(created - balance) < 1e-6 else "VIOLATED"
        rows.append(["booked = delivered + in the system", ok, ""])
    ax.set_axis_off()
    ax.set_title("Headline KPIs")
    if not rows:
        ax.text(0.5, 0.5, "no KPIs", ha="center", va="center", transform=ax.transAxes)
        return fig
    table = ax.table(
        cellText=rows,
        colLabels=["indicator", "value", "unit"],
        colLoc="left",
        cellLoc="left",
        colWidths=[0.68, 0.2, 0.12],
        loc="upper center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1.0, 1.25)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor("0.85")
        if r == 0:
            cell.set_text_props(fontweight="bold")
    return fig


def scenario_of(result: Any) -> Scenario | None:
    """The packaged scenario a result was run from, when its hash still matches.

    Returns ``None`` for a scenario loaded from a file, or with overrides (its hash then
    differs from the packaged one): pass the scenario explicitly in that case.
    """
    from g60rail.errors import ScenarioError
    from g60rail.scenario.io import load_scenario, packaged_scenarios

    manifest = getattr(result, "manifest", {}) or {}
    name = manifest.get("scenario")
    if not isinstance(name, str) or name not in packaged_scenarios():
        return None
    try:
        sc = load_scenario(name)
    except ScenarioError:
        return None
    return sc if sc.hash == manifest.get("scenario_hash") else None


def summary_figure(result: Any, scenario: Scenario | None = None) -> Figure:
    """One page that explains a run: key plots and the headline KPIs.

    Parameters
    ----------
    result
        The run's :class:`~g60rail.result.Result`.
    scenario
        The scenario that was run; it adds the train graph and the corridor map.  When
        omitted, the packaged scenario of the same name and hash is used if there is one
        (see :func:`scenario_of`), otherwise those two panels are left out.

    Returns
    -------
    Figure
        An A3-landscape-sized figure.
    """
    scenario = scenario if scenario is not None else scenario_of(result)
    station = _station_plots(result)
    fig = Figure(figsize=(19, 17 if station else 13), layout="constrained")
    m = getattr(result, "manifest", {}) or {}
    start = str(m.get("start", ""))[:10]
    fig.suptitle(
        f"g60rail run: scenario {m.get('scenario', '?')} · {m.get('days', float('nan')):g} days "
        f"from {start} · seed {m.get('seed', '?')} · g60rail {m.get('g60rail_version', '?')}",
        fontsize="x-large",
    )
    grid = fig.add_gridspec(
        4 if station else 3, 3, height_ratios=[1.25, 1, 1, 1] if station else [1.25, 1, 1]
    )
    if scenario is not None:
        train_graph(result, scenario, fig.add_subplot(grid[0, :2]))
        corridor_map(scenario, fig.add_subplot(grid[0, 2]), inset=False, km_labels=False)
    else:
        teu_per_day(result, fig.add_subplot(grid[0, :2]))
        kpi_table(result, fig.add_subplot(grid[0, 2]))
    if scenario is not None:
        teu_per_day(result, fig.add_subplot(grid[1, 0]))
    else:
        dwell_ecdf(result, fig.add_subplot(grid[1, 0]))
    cumulative_teu(result, fig.add_subplot(grid[1, 1]))
    hub = scenario.hub.place if scenario is not None else "songjiang"
    ts = result.tables.get("timeseries")
    if ts is not None and f"yard_teu_mean.{hub}" in ts:
        yard_and_gate(result, hub, fig.add_subplot(grid[1, 2]))
    utilization(result, fig.add_subplot(grid[2, 0]), hub_place=hub)
    transit_ecdf(result, fig.add_subplot(grid[2, 1]))
    if scenario is not None:
        kpi_table(result, fig.add_subplot(grid[2, 2]))
    else:
        dwell_ecdf(result, fig.add_subplot(grid[2, 2]), stage="destination")
    if station:
        station["hourly"](result, fig.add_subplot(grid[3, :2]))
        station["wait_heatmap"](result, fig.add_subplot(grid[3, 2]))
    return fig


def _station_plots(result: Any) -> dict[str, Any]:
    """The station figures, when the run has station tables and the station plots exist."""
    if "pax_hourly" not in getattr(result, "tables", {}):
        return {}
    try:
        from g60rail.plot import station
    except ImportError:  # pragma: no cover - the station plots ship with the station model
        return {}
    plots = {
        "hourly": station.pax_by_hour,
        "wait_heatmap": station.wait_heatmap,
        "hall": station.hall_occupancy,
    }
    if "pax_los" in result.tables:
        plots["los"] = station.los_heatmap
    return plots


def render_run_figures(
    result: Any, dpi: int = 110, scenario: Scenario | None = None
) -> dict[str, bytes]:
    """A run's standard figures as PNG bytes by file name (see :func:`write_run_figures`).

    Parameters
    ----------
    result
        The run's :class:`~g60rail.result.Result`.
    dpi
        Resolution of the PNG images.
    scenario
        The scenario that was run (optional).
    """
    scenario = scenario if scenario is not None else scenario_of(result)
    hub = scenario.hub.place if scenario is not None else "songjiang"
    makers: dict[str, Any] = {
        "summary.png": lambda: summary_figure(result, scenario),
        "teu_per_day.png": lambda: teu_per_day(result),
        "cumulative_teu.png": lambda: cumulative_teu(result),
        "yard_gate.png": lambda: yard_and_gate(result, hub),
        "utilization.png": lambda: utilization(result, hub_place=hub),
        "transit.png": lambda: transit_ecdf(result),
        "dwell.png": lambda: dwell_ecdf(result),
    }
    if scenario is not None:
        sc = scenario
        makers["train_graph.png"] = lambda: train_graph(result, sc)
        makers["corridor_map.png"] = lambda: corridor_map(sc)
    station = _station_plots(result)
    if station:
        makers["station_hourly.png"] = lambda: station["hourly"](result)
        makers["station_wait_heatmap.png"] = lambda: station["wait_heatmap"](result)
        makers["station_hall.png"] = lambda: station["hall"](result)
        if "los" in station:
            makers["station_los.png"] = lambda: station["los"](result)
    images = {}
    for name, make in makers.items():  # one figure at a time: each is dropped once drawn
        buf = io.BytesIO()
        make().savefig(buf, dpi=dpi, format="png")
        images[name] = buf.getvalue()
    return images


def write_run_figures(
    result: Any, out: Path, dpi: int = 110, scenario: Scenario | None = None
) -> list[Path]:
    """Render a run's standard figures as PNG files in ``out``; return their paths.

    Always: ``summary.png`` (one page, see :func:`summary_figure`), ``teu_per_day.png``,
    ``cumulative_teu.png``, ``yard_gate.png``, ``utilization.png``, ``transit.png``,
    ``dwell.png``.  With a known scenario (given, or packaged with a matching hash) also
    ``train_graph.png`` and ``corridor_map.png``; with station tables (``pax_hourly``) also
    ``station_hourly.png``, ``station_wait_heatmap.png`` and ``station_hall.png`` (and
    ``station_los.png``, the level of service by queue area, with ``pax_los``).  Runs
    without station tables get the freight figures only.  Each file is written
    atomically.

    Parameters
    ----------
    result
        The run's :class:`~g60rail.result.Result`.
    out
        Existing folder to write into.
    dpi
        Resolution of the PNG files.
    scenario
        The scenario that was run (optional).
    """
    paths = []
    for name, data in render_run_figures(result, dpi, scenario).items():
        path = Path(out) / name
        with atomic_write(path, "wb") as fh:
            fh.write(data)
        paths.append(path)
    return paths
