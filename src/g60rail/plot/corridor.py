"""A map of the corridor from the scenario's own coordinates (no internet, no tiles).

Plain longitude/latitude axes with an equirectangular aspect (one degree of latitude is
``1 / cos(mean latitude)`` degrees of longitude long), so shapes and distances look right
at the corridor's latitudes.  Legs are straight lines between their end places (the route
km printed beside a rail leg is the published length, longer than the straight line).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from g60rail.scenario.schema import Scenario

__all__ = ["MODE_STYLE", "corridor_map", "short_name"]

MODE_STYLE: dict[str, dict[str, Any]] = {
    "rail": {"color": "#b2182b", "linestyle": "-", "linewidth": 2.4},
    "rail_metre": {"color": "tab:orange", "linestyle": "-", "linewidth": 1.8},
    "road": {"color": "0.35", "linestyle": "--", "linewidth": 1.3},
}
"""Line style per leg mode (standard-gauge rail, metre-gauge rail, road)."""

_MODE_LABEL = {"rail": "rail (standard gauge)", "rail_metre": "rail (metre gauge)", "road": "road"}
_MARKER = {"hub": "*", "terminal": "s", "border": "^", "station": "D", "exit": "X", "city": "o"}
_KIND_LABEL = {
    "hub": "hub",
    "terminal": "terminal",
    "border": "border port",
    "station": "station",
    "exit": "exit point",
    "city": "city",
}


def short_name(place_id: str) -> str:
    """A map label from a place id: ``"songjiang_station"`` -> ``"Songjiang Station"``."""
    return place_id.replace("_", " ").title()


def _aspect(lats: Iterable[float]) -> float:
    lats = list(lats)
    return 1.0 / math.cos(math.radians(sum(lats) / len(lats)))


def _segments(scenario: Scenario) -> list[tuple[str, str, str, float, bool]]:
    """(from, to, mode, km, onward) of every leg, line stretch between two places, and
    onward leg."""
    segs: list[tuple[str, str, str, float, bool]] = [
        (leg.from_, leg.to, leg.mode, leg.km, False) for leg in scenario.legs
    ]
    for line in scenario.lines.values():
        stops = [st for st in line.stations if st.id in scenario.places]
        segs += [(a.id, b.id, line.mode, b.km - a.km, False) for a, b in itertools.pairwise(stops)]
    segs += [(o.from_, o.to, o.mode, o.km, True) for o in scenario.onward]
    return segs


def _draw_legs(
    ax: Axes, scenario: Scenario, places: set[str], offset_deg: float, km_labels: bool
) -> set[str]:
    """Draw legs whose both ends are in ``places``; parallel legs are offset sideways."""
    seen: dict[frozenset[str], int] = {}
    modes = set()
    for a, b, mode, km, onward in _segments(scenario):
        if a not in places or b not in places:
            continue
        pa, pb = scenario.places[a], scenario.places[b]
        k = seen.get(frozenset((a, b)), 0)
        seen[frozenset((a, b))] = k + 1
        # perpendicular offset for the 2nd, 3rd ... leg between the same places
        dx, dy = pb.lon - pa.lon, pb.lat - pa.lat
        norm = math.hypot(dx, dy) or 1.0
        shift = offset_deg * ((k + 1) // 2) * (1 if k % 2 else -1) if k else 0.0
        ox, oy = -dy / norm * shift, dx / norm * shift
        style = dict(MODE_STYLE.get(mode, MODE_STYLE["road"]))
        if onward:
            style["linewidth"] = style["linewidth"] * 0.8
        ax.plot(
            [pa.lon + ox, pb.lon + ox],
            [pa.lat + oy, pb.lat + oy],
            zorder=2,
            solid_capstyle="round",
            **style,
        )
        modes.add(mode)
        if km_labels and mode == "rail" and norm > 4 * offset_deg:
            ax.annotate(
                f"{km:,.0f} km",
                ((pa.lon + pb.lon) / 2 + ox, (pa.lat + pb.lat) / 2 + oy),
                fontsize="x-small",
                color=style["color"],
                ha="left",
                va="bottom",
                xytext=(4, 2),
                textcoords="offset points",
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    return modes


def _draw_places(
    ax: Axes,
    scenario: Scenario,
    places: Iterable[str],
    merge_deg: float,
    fontsize: str | float = "small",
) -> set[str]:
    """Markers and labels; places closer than ``merge_deg`` share one label."""
    kinds: set[str] = set()
    clusters: list[list[str]] = []
    for pid in places:
        p = scenario.places[pid]
        kinds.add(p.kind)
        ax.plot(
            p.lon,
            p.lat,
            _MARKER.get(p.kind, "o"),
            color="black" if p.kind != "hub" else "gold",
            mec="black",
            ms=11 if p.kind == "hub" else 6,
            zorder=4,
        )
        for cl in clusters:
            q = scenario.places[cl[0]]
            if math.hypot(p.lon - q.lon, p.lat - q.lat) < merge_deg:
                cl.append(pid)
                break
        else:
            clusters.append([pid])
    for cl in clusters:
        p = scenario.places[cl[0]]
        text = " / ".join(f"{short_name(c)} ({scenario.places[c].country})" for c in cl)
        ax.annotate(
            text,
            (p.lon, p.lat),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=fontsize,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
        )
    return kinds


def _scale_bar(ax: Axes, lat: float, km: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    deg = km / (111.32 * math.cos(math.radians(lat)))
    x, y = x0 + 0.3 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + deg], [y, y], color="black", lw=3, solid_capstyle="butt")
    ax.text(
        x + deg / 2,
        y + 0.015 * (y1 - y0),
        f"{km:,.0f} km",
        ha="center",
        va="bottom",
        fontsize="x-small",
    )


def _label_outside(ax: Axes, scenario: Scenario, framed: set[str]) -> None:
    """Name the far end of every leg that leaves the frame, just inside the frame."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for a, b, _mode, km, _ in _segments(scenario):
        if (a in framed) == (b in framed):
            continue
        inside, out = (a, b) if a in framed else (b, a)
        p, q = scenario.places[inside], scenario.places[out]
        # largest step t in [0, 1] along p -> q that stays inside the frame
        t = 1.0
        for lo, hi, u, v in ((x0, x1, p.lon, q.lon), (y0, y1, p.lat, q.lat)):
            if v != u:
                edge = hi if v > u else lo
                t = min(t, (edge - u) / (v - u))
        t *= 0.75
        ax.annotate(
            f"to {short_name(out)} ({km:,.0f} km)",
            (p.lon + t * (q.lon - p.lon), p.lat + t * (q.lat - p.lat)),
            fontsize="x-small",
            ha="center",
            va="top",
            xytext=(0, -6),
            textcoords="offset points",
        )


def _frame(ax: Axes, lons: list[float], lats: list[float], pad: float) -> None:
    ax.set_xlim(min(lons) - pad, max(lons) + pad)
    ax.set_ylim(min(lats) - pad, max(lats) + pad)
    ax.set_aspect(_aspect(lats))
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.grid(color="0.9", lw=0.6)


def corridor_map(
    scenario: Scenario,
    ax: Axes | None = None,
    *,
    inset: bool = True,
    include_exits: bool = False,
    inset_radius_deg: float = 4.5,
    km_labels: bool = True,
) -> Figure:
    """The corridor on plain lon/lat axes: legs coloured by mode, places labelled.

    An inset shows the G60 cities around the Songjiang hub (every place within
    ``inset_radius_deg`` of the hub) with thin grey lines for the trucking (drayage) from
    the cities that book containers to the hub.

    Parameters
    ----------
    scenario
        Any scenario; only its places, legs, onward legs, hub and demand origins are used.
    ax
        Axes to draw on; a new figure when omitted.
    inset
        Draw the inset around the hub.
    include_exits
        Widen the frame to places of kind ``"exit"`` (by default they stay outside and
        their legs are labelled where they leave the frame).
    inset_radius_deg
        Radius of the inset's neighbourhood, degrees.
    km_labels
        Print the published route km beside every rail leg.

    Returns
    -------
    Figure
        The figure holding ``ax``.
    """
    if ax is None:
        fig = Figure(figsize=(10, 8.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        parent = ax.figure
        # a SubFigure: return the figure holding it
        fig = parent if isinstance(parent, Figure) else parent.figure
    places = scenario.places
    hub = places[scenario.hub.place]
    near = {
        pid
        for pid, p in places.items()
        if math.hypot(p.lon - hub.lon, p.lat - hub.lat) <= inset_radius_deg
    }
    # the main map labels the hub but leaves its neighbours to the inset
    main_ids = [pid for pid in places if pid not in near or pid == scenario.hub.place]
    # far-away exit points (the China-Europe Express border) would shrink the corridor to a
    # corner: leave them outside the frame and name them where their leg leaves it
    framed = [p for p in places if include_exits or places[p].kind != "exit"]
    lons = [places[p].lon for p in framed]
    lats = [places[p].lat for p in framed]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 1.0)
    _frame(ax, lons, lats, pad=0.06 * span)
    modes = _draw_legs(ax, scenario, set(places), offset_deg=0.006 * span, km_labels=km_labels)
    kinds = _draw_places(ax, scenario, [p for p in main_ids if p in framed], merge_deg=0.01 * span)
    _label_outside(ax, scenario, set(framed))
    if not inset:  # the hub's neighbours as small unlabelled dots
        for pid in sorted(near - {scenario.hub.place}):
            p = places[pid]
            ax.plot(p.lon, p.lat, "o", color="black", ms=2.5, zorder=3)
    _scale_bar(ax, lat=sum(lats) / len(lats), km=500 if span > 10 else 100)
    ax.set_title(f"Corridor map: {scenario.meta.name}")

    if inset and len(near) > 1:
        ins = ax.inset_axes((0.62, 0.03, 0.36, 0.36))
        nl = [places[p].lon for p in near]
        nt = [places[p].lat for p in near]
        _frame(ins, nl, nt, pad=0.35)
        ins.set_xlabel("")
        ins.set_ylabel("")
        ins.tick_params(labelsize="xx-small")
        origins = set()
        for spec in scenario.services.values():
            if spec.demand is not None and spec.route[0] == scenario.hub.place:
                origins |= set(spec.demand.origins)
        for o in sorted(origins & near - {scenario.hub.place}):
            p = places[o]
            ins.plot([p.lon, hub.lon], [p.lat, hub.lat], color="0.6", lw=0.8, zorder=1)
        kinds |= _draw_places(ins, scenario, sorted(near), merge_deg=0.05, fontsize="xx-small")
        ins.set_title("G60 cities around the hub (grey: trucking to the hub)", fontsize="x-small")
        ax.indicate_inset_zoom(ins, edgecolor="0.4")

    handles = [Line2D([], [], label=_MODE_LABEL.get(m, m), **MODE_STYLE[m]) for m in sorted(modes)]
    handles += [
        Line2D(
            [],
            [],
            ls="",
            marker=_MARKER[k],
            color="gold" if k == "hub" else "black",
            mec="black",
            label=_KIND_LABEL[k],
        )
        for k in _MARKER
        if k in kinds
    ]
    ax.legend(handles=handles, fontsize="small", loc="upper left" if inset else "lower right")
    return fig
