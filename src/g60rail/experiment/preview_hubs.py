"""What the flows and timetables ask of the corridor's hubs, and their rows of the preview.

The container terminals (the Songjiang hub, Kunming, Vientiane): gate passes, reach
stacker moves, TEU in the yard and track hours per hour (:func:`hub_loads`), from the box
flows and trains of :mod:`g60rail.experiment.preview_flows`, and their rows
(:func:`hub_rows`).  The HSR passenger station: its security lanes in their busiest hour,
its ticket-gate groups and exit gates in their busiest window (:func:`station_rows`), from
its timetable and the passengers' arrival leads.  :func:`row` builds a row of
:attr:`g60rail.experiment.preview.Preview.table` (:data:`Row`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from g60rail.experiment.preview_flows import Flow, Service
from g60rail.random import DistSpec, Exponential, Gamma, LogNormal, Triangular, Uniform
from g60rail.random import as_distribution as dist_of
from g60rail.scenario.schema import HubSpec, Scenario, ServiceSpec
from g60rail.scenario.station_spec import StationSpec

__all__ = [
    "NAN",
    "Hub",
    "Row",
    "departure_hold_h",
    "hub_loads",
    "hub_rows",
    "open_share",
    "row",
    "station_rows",
    "unloading_calls",
]

NAN = math.nan
"""The value of a row's ``predicted_kpi`` where the model reports no KPI for it."""
Row = tuple[str, str, float, float, float, str | None, str]
"""One row of :attr:`~g60rail.experiment.preview.Preview.table`, its columns in the order
of :data:`~g60rail.experiment.preview.COLUMNS` less ``flag``."""


# -- distributions -----------------------------------------------------------------------------
def _cdf(spec: DistSpec, x: np.ndarray) -> np.ndarray:
    """P(X <= x) of a distribution spec, elementwise (gamma: Wilson-Hilferty)."""
    d, x = dist_of(spec), np.asarray(x, dtype=float)
    if isinstance(d, Uniform) and d.high > d.low:
        return np.clip((x - d.low) / (d.high - d.low), 0.0, 1.0)
    if isinstance(d, Triangular):
        a, c, b = d.low, d.mode, d.high
        up = (x - a) ** 2 / ((b - a) * max(c - a, 1e-12))
        down = 1 - (b - x) ** 2 / ((b - a) * max(b - c, 1e-12))
        return np.where(x <= a, 0.0, np.where(x <= c, up, np.where(x < b, down, 1.0)))
    if isinstance(d, Exponential):
        return 1 - np.exp(-np.maximum(x, 0) / d.mean)
    if isinstance(d, LogNormal):
        s = math.sqrt(math.log1p(d.cv**2))
        z = (np.log(np.maximum(x, 1e-300)) - math.log(d.mean) + s * s / 2) / s
    elif isinstance(d, Gamma):
        k9 = d.cv**2 / 9.0
        z = (np.cbrt(np.maximum(x, 0) / d.mean) - (1 - k9)) / math.sqrt(k9)
    else:
        return (x >= d.mean).astype(float)  # a constant (or a uniform of zero width)
    return np.where(x > 0, 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2))), 0.0)


def _excess(spec: DistSpec, o: float) -> float:
    """E[max(0, X - o)] for o >= 0."""
    x = np.linspace(0.0, o, 65)
    f = _cdf(spec, x)
    return max(0.0, dist_of(spec).mean - o + float(np.sum((f[1:] + f[:-1]) * np.diff(x)) / 2))


def _p_under(mu: float, p2: float, k: float) -> float:
    """P(N + Binomial(N, p2) < k), N ~ Poisson(mu): a train's booked TEU (trucks of 1 or 2
    TEU) below a minimum fill of ``k`` TEU."""
    need = math.ceil(k)
    if need <= 0 or mu <= 0:
        return float(need > 0)
    if need > 300:  # normal approximation of the compound Poisson
        mean, sd = mu * (1 + p2), math.sqrt(mu * (1 + 3 * p2))
        return 0.5 * (1 + math.erf((need - 0.5 - mean) / (sd * math.sqrt(2))))
    total, pn = 0.0, math.exp(-mu)
    for n in range(need):
        m = need - 1 - n  # 2-TEU trucks allowed among n
        total += pn * sum(
            math.comb(n, j) * p2**j * (1 - p2) ** (n - j) for j in range(min(m, n) + 1)
        )
        pn *= mu / (n + 1)
    return min(1.0, total)


def _full_hold_h(fill_h: float, slot_h: float, shunt_h: float) -> float:
    """Mean placement-to-departure time of a ``full`` train: it fills in ``fill_h`` hours,
    less the bookings that came in the gap g ~ U(0, slot_h) between the previous departure
    and its placement, and takes at least its shunting."""
    a = min(slot_h, max(0.0, fill_h - shunt_h))
    return (fill_h * a - a * a / 2 + (slot_h - a) * shunt_h) / slot_h


# -- hubs --------------------------------------------------------------------------------------
@dataclass
class Hub:
    """The work offered to one container terminal.

    Attributes
    ----------
    passes
        Gate passes per hour (a truck in and out: two).
    moves
        Reach stacker moves per hour.
    yard
        TEU in the yard (Little's law).
    track, ad
        Loading-track and arrival/departure-track hours per hour.
    """

    passes: float = 0.0
    moves: float = 0.0
    yard: float = 0.0
    track: float = 0.0
    ad: float = 0.0


def _wait_h(
    sc: Scenario, spec: HubSpec, v: Service, sid: str, lead: DistSpec | None, first: bool
) -> float:
    """Mean yard wait of a box for the start of loading of a train of ``sid``, hours: from
    its truck's booking lead, or at random between departures."""
    s = sc.services[sid]
    shunt = dist_of(spec.shunt_h).mean
    loading = max(0.0, spec.load_window_h - shunt)  # worked before each departure
    if s.policy == "full":
        fill_h = v.fill / v.teu if v.teu > 0 else 168.0
        gap = min(168.0 / v.gaps.size, fill_h)
        return (gap * gap / 6 + shunt * gap / 2 + shunt * shunt / 2) / fill_h
    if lead is not None:
        return _excess(lead, loading)
    if first:
        loading = max(0.0, loading - spec.cutoff_h)
    return float(np.sum(np.maximum(v.gaps - loading, 0.0) ** 2) / (2 * 168.0))


def _pickup_h(spec: HubSpec) -> float:
    """Mean yard stay of a box waiting for its consignee's truck, hours."""
    h = dist_of(spec.dwell_h).mean + dist_of(spec.gate_time_h).mean + 1.0 / spec.moves_per_h
    if spec.truck_arrival_profile is not None:  # collected at a profile hour of the day
        w = np.asarray(spec.truck_arrival_profile)
        h += float(w @ (np.arange(24) + 0.5) / w.sum()) - 12.0
    return h


def hub_loads(sc: Scenario, flows: list[Flow], svc: dict[str, Service]) -> dict[str, Hub]:
    """The work of every container terminal (by place) of ``flows``, carried by the trains
    ``svc`` of each service: every truck passes the gate in and out, every box is lifted
    off its truck and onto its train, off a train and onto the next or onto its
    consignee's truck, and waits in the yard in between."""
    specs = {sc.hub.place: sc.hub, **{t.place: t for t in sc.terminals.values()}}
    out = {p: Hub() for p in specs}
    waits: dict[tuple[str, str, DistSpec | None, bool], float] = {}
    stay = {p: _pickup_h(spec) for p, spec in specs.items()}
    for fl in flows:
        first = fl.hops[0].from_
        if first in out:  # in through the gate and lifted off the truck
            out[first].passes += 2 * fl.trucks
            out[first].moves += fl.boxes
        for i, hop in enumerate(fl.hops):
            if hop.from_ in out:  # onto a train, or onto an onward leg
                out[hop.from_].moves += fl.boxes
                if hop.kind == "rail":
                    key = (hop.from_, hop.ref, fl.lead if i == 0 else None, i == 0)
                    if key not in waits:
                        waits[key] = _wait_h(sc, specs[hop.from_], svc[hop.ref], *key[1:])
                    out[hop.from_].yard += fl.teu * waits[key]
            if hop.kind == "rail" and hop.to in out:
                h = out[hop.to]
                h.moves += fl.boxes  # off the train
                if i == len(fl.hops) - 1:  # collected through the gate
                    h.passes += 2 * fl.boxes
                    h.moves += fl.boxes
                    h.yard += fl.teu * stay[hop.to]
    for sid, s in sc.services.items():
        _train_calls(s, svc[sid], specs, out, [f for f in flows if f.hops[0].ref == sid])
    return out


def departure_hold_h(
    s: ServiceSpec, v: Service, spec: HubSpec, own: list[Flow]
) -> tuple[float, float]:
    """Hours a departure of ``s`` (trains ``v``, its own booked flows ``own``) spends at its
    origin terminal ``spec``: on a loading track, and from its placement to its departure
    (on an arrival/departure track meanwhile where there are some)."""
    shunt = dist_of(spec.shunt_h).mean
    if s.policy == "full":
        hold = _full_hold_h(v.fill / v.teu, 168.0 / v.gaps.size, shunt)
        return (min(hold, spec.load_window_h) if spec.ad_tracks is not None else hold), hold
    work = shunt + v.boxes / v.trains / spec.moves_per_h / spec.reach_stackers
    hold = track = max(spec.load_window_h, work)
    booked = [f for f in own if f.lead is not None and f.commodity != "empty"]
    trucks = sum(f.trucks for f in booked)
    if s.policy == "hybrid" and trucks > 0:  # held for its fill: waits off the track
        p2 = sum(f.teu for f in booked) / trucks - 1.0
        miss = np.mean([_p_under(trucks * g, p2, s.min_fill_teu) for g in v.gaps])
        hold += float(miss) * s.max_hold_h
        track = track if spec.ad_tracks is not None else hold
    return track, hold


def unloading_calls(v: Service, stop: str, spec: HubSpec) -> tuple[float, float]:
    """Calls per hour of the trains ``v`` that have boxes for the terminal ``spec`` at
    ``stop``, and the hours each holds its track there (shunted, then unloaded by as many
    stackers as it has boxes, up to the terminal's)."""
    per_h = v.ending.get(stop, 0.0)
    if per_h <= 0 or v.trains <= 0:
        return 0.0, 0.0
    calls = v.trains * -math.expm1(-per_h / v.trains)  # trains with a box for it
    n = per_h / calls
    crews = min(max(n, 1.0), spec.reach_stackers)
    return calls, dist_of(spec.shunt_h).mean + (n / crews + 0.5) / spec.moves_per_h


def _train_calls(
    s: ServiceSpec, v: Service, specs: dict[str, HubSpec], out: dict[str, Hub], own: list[Flow]
) -> None:
    """Track hours per hour of a service's departures and of its calls to unload."""
    origin = s.route[0]
    if origin in specs and v.trains > 0:
        track, hold = departure_hold_h(s, v, specs[origin], own)
        out[origin].track += v.trains * track
        out[origin].ad += v.trains * hold
    for stop in v.ending:
        if stop in specs and stop != origin:
            calls, hold = unloading_calls(v, stop, specs[stop])
            out[stop].track += calls * hold
            out[stop].ad += calls * hold


def open_share(open_h: float, close_h: float) -> float:
    """Share of the day a daily window ``[open_h, close_h)`` is open."""
    length = (close_h - open_h) % 24.0
    return 1.0 if length == 0.0 else length / 24.0


# -- rows --------------------------------------------------------------------------------------
def row(
    resource: str,
    place: str,
    servers: float,
    rho: float,
    basis: str,
    kpi: str | None = None,
    predicted: float = NAN,
) -> Row:
    """A row of the preview: ``resource`` at ``place`` with ``servers`` of it, its offered
    load ``rho``, the arithmetic in words (``basis``) and, where the model reports one,
    the KPI named ``kpi`` and its ``predicted`` value (NaN where there is none)."""
    return (resource, place, float(servers), float(rho), predicted, kpi, basis)


def hub_rows(sc: Scenario, hubs: dict[str, Hub]) -> list[Row]:
    """Rows of the gate lanes, yard, reach stackers, loading tracks and (where it has
    them) arrival/departure tracks of every container terminal, from :func:`hub_loads`;
    the gate's offered load counts only its opening hours."""
    rows: list[Row] = []
    for spec in (sc.hub, *sc.terminals.values()):
        h, p = hubs[spec.place], spec.place
        kpi = "hub" if p == sc.hub.place else f"hub.{p}"
        t_h = dist_of(spec.gate_time_h).mean
        gate = h.passes * t_h / spec.gate_lanes
        share = open_share(spec.gate_hours.open_h, spec.gate_hours.close_h)
        lift = h.moves / spec.moves_per_h / spec.reach_stackers
        track = h.track / spec.loading_tracks
        g_basis = f"{h.passes:.1f} passes/h x {t_h:.3f} h, open {24 * share:g} h a day"
        m_basis = f"{h.moves:.1f} moves/h at {spec.moves_per_h:g} an hour"
        t_basis, y_basis = f"{h.track:.2f} track-hours/h", "TEU stored by Little's law"
        items = [  # resource, servers, rho, predicted value of the KPI, KPI, basis
            ("gate_lanes", spec.gate_lanes, gate / share, gate, "gate_utilization", g_basis),
            ("yard", spec.yard_teu, h.yard / spec.yard_teu, h.yard, "yard_teu_mean", y_basis),
            (
                "reach_stackers",
                spec.reach_stackers,
                lift,
                lift,
                "reach_stacker_utilization",
                m_basis,
            ),
            ("loading_tracks", spec.loading_tracks, track, track, "track_utilization", t_basis),
        ]
        if spec.ad_tracks is not None:
            ad, a_basis = h.ad / spec.ad_tracks, f"{h.ad:.2f} track-hours/h"
            items.append(("ad_tracks", spec.ad_tracks, ad, ad, "ad_track_utilization", a_basis))
        for what, n, rho, pred, name, basis in items:
            rows.append(row(what, p, n, rho, basis, f"{kpi}.{name}", pred))
    return rows


# -- station -----------------------------------------------------------------------------------
def _busiest(start: np.ndarray, end: np.ndarray, load: np.ndarray, per_h: float) -> float:
    """Highest load / (per_h x length) over the clusters of overlapping windows [h]."""
    best, s0, e0, n = 0.0, -np.inf, -np.inf, 0.0
    for s, e, q in sorted(zip(start.tolist(), end.tolist(), load.tolist(), strict=True)):
        if s >= e0 and n > 0:
            best, n = max(best, n / (per_h * max(e0 - s0, 1 / 60))), 0.0
        if n == 0:
            s0 = s
        e0, n = max(e0, e), n + q
    return max(best, n / (per_h * max(e0 - s0, 1 / 60))) if n > 0 else best


def station_rows(st: StationSpec, days: list[dt.date]) -> list[Row]:
    """Rows of the HSR station over the calendar ``days``: each entrance's security lanes
    in its busiest hour, the ticket-gate groups in their busiest boarding window and the
    exit gates in their busiest alighting wave, with its day multipliers averaged."""
    mult = float(np.mean([st.day_multiplier(d) for d in days]))
    deps = sorted((t, i) for i, s in enumerate(st.services) for t in s.times_of_day_h())
    t_dep = np.array([t for t, _ in deps])
    svc = [st.services[i] for _, i in deps]
    pax = mult * np.array([s.seats * s.load_factor for s in svc])
    # leads: the planned ones drawn again until in [floor, max], and the late share
    lo, hi = st.arrival_lead_floor_min / 60.0, st.arrival_lead_max_min / 60.0
    grid = np.linspace(0.0, 24.0, 24 * 60 + 1)
    f0, f1 = _cdf(st.arrival_lead_min, np.array([60.0 * lo, 60.0 * hi]))
    planned = (_cdf(st.arrival_lead_min, 60.0 * np.clip(grid, lo, hi)) - f0) / max(f1 - f0, 1e-12)
    late = np.where(grid >= hi, 1.0, _cdf(st.late_arrival_lead_min, 60.0 * grid))
    cdf = (1 - st.late_arrival_share) * planned + st.late_arrival_share * late
    delta = (t_dep[:, None] - np.arange(24)[None, :]) % 24.0  # lead to arrive in hour h
    per_hour = pax @ (np.interp(delta, grid, cdf) - np.interp(np.maximum(delta - 1, 0), grid, cdf))
    s_h = dist_of(st.security.service_time_s).mean / 3600.0
    rows: list[Row] = []
    for e in st.entrances:
        lanes = np.asarray(e.security_lanes_per_hour, dtype=float)
        work = e.share * per_hour * s_h
        rho = np.divide(work, lanes, out=np.where(work > 0, np.inf, 0.0), where=lanes > 0)
        h = int(np.argmax(rho))
        basis = f"busiest hour {h:02d}:00, {e.share * per_hour[h]:.0f} passengers/h"
        rows.append(row("security_lanes", e.name, lanes[h], rho[h], basis))
    g = st.gates
    group = np.arange(t_dep.size) % g.groups
    gates = max(
        _busiest(
            t_dep[group == k] - g.open_min_before_departure / 60.0,
            t_dep[group == k] - g.close_min_before_departure / 60.0,
            pax[group == k],
            60.0 * g.passengers_per_min,
        )
        for k in range(g.groups)
    )
    rows.append(row("ticket_gates", "gate_groups", g.groups, gates, "busiest boarding window"))
    if st.exits is not None:
        x = st.exits
        reach = t_dep - np.array([s.dwell_min for s in svc]) / 60.0 + x.walk_min / 60.0
        off = mult * np.array([s.seats * s.alighting_share for s in svc])
        rho = _busiest(
            reach, reach + x.platform_clear_min / 60.0, off, 60 * x.gates * x.passengers_per_min
        )
        rows.append(row("exit_gates", "exits", x.gates, rho, "busiest alighting wave"))
    return rows
