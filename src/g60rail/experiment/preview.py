"""The offered load of every resource of a scenario, from the scenario alone.

:func:`preview` reads the demand, timetables and handling times the model reads and
gives, for every server of the corridor, its offered load ρ = arrival rate × mean service
time / servers, with the service's availability (a gate's opening hours) in the
denominator, in milliseconds and without a simulation.  A resource at or above ρ = 1 is
flagged: its queue grows without bound, whatever a run of any length says.  Where the
model reports a utilisation of the resource (``hub.reach_stacker_utilization``,
``border.mohan.officer_utilization`` ...), the preview predicts its value too
(``predicted_kpi``: the average over all hours of the day, as the model measures it).

What it counts, as the model moves boxes (:mod:`g60rail.model.hub`,
:mod:`~g60rail.model.trains`, :mod:`~g60rail.model.terminal`,
:mod:`~g60rail.model.border`): every box booked by rail follows the itinerary of its
service and destination; at a terminal it is lifted once off its truck and once onto its
train, off a train and onto the next or onto its consignee's truck; every truck passes the
gate in and out; a departure holds an arrival/departure track from its placement
``load_window_h`` before its time until it leaves and a loading track while it is worked,
an arrival with boxes ending there holds both while shunted and unloaded; a box on a
train reaching a border port needs a declaration unless pre-declared, and a box held for
inspection leaves the port on the first train of any service that takes it its way.
Empty boxes sent back (``services.*.empties``) are boxes too.  Monthly seasonality and the
station's weekday and peak multipliers are averaged over the period asked for.

Approximations, where the model's mechanism is not a rate times a time: the hold of a
``hybrid`` train that misses its minimum fill (its ``max_hold_h``, with the chance of the
miss from its Poisson bookings), the placement-to-departure time of a ``full`` train (a
fluid cycle at the mean booking rate: train sets are taken to be there when it is placed
and boxes to come round the clock, which overstates the loading-track hours where a gate
closes at night), which train a held box boards (in proportion to the trains with room
for it: the TEU they left spare and those of their own boxes held there) and the yard's
stock (Little's law with the booking lead, the dwell and the wait for the next
departure).

The box flows and the trains that carry them are in
:mod:`g60rail.experiment.preview_flows`; the work of the container terminals and the HSR
station, and their rows, in :mod:`g60rail.experiment.preview_hubs`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from g60rail.experiment.preview_flows import (
    Flow,
    Service,
    booked_flows,
    held_share,
    merged,
    month_weights,
    pickup,
    port_calls,
    rerouted,
    services,
)
from g60rail.experiment.preview_hubs import (
    NAN,
    Row,
    departure_hold_h,
    hub_loads,
    hub_rows,
    open_share,
    row,
    station_rows,
    unloading_calls,
)
from g60rail.random import as_distribution as dist_of
from g60rail.scenario.schema import Scenario, parse_weekly_time

__all__ = ["COLUMNS", "Preview", "overload", "preview"]

COLUMNS = (
    "resource",
    "place",
    "servers",
    "offered_load",
    "predicted_kpi",
    "utilization_kpi",
    "flag",
    "basis",
)
"""Columns of :attr:`Preview.table`, one row per resource: ``servers`` (lanes, TEU of
yard, reach stackers, tracks, officers, TEU a week of a timetable, train pairs a day of a
section's capacity ...), ``offered_load`` (ρ), ``predicted_kpi`` (the value predicted for
the KPI named in ``utilization_kpi``; NaN and None where the model reports none),
``flag`` (ρ >= 1) and ``basis`` (the arithmetic, in words)."""


@dataclass(frozen=True)
class Preview:
    """The offered load of every resource of one scenario (see :func:`preview`).

    Attributes
    ----------
    scenario
        The scenario's name.
    days
        Length of the period averaged over, days.
    table
        One row per resource, columns :data:`COLUMNS`.
    """

    scenario: str
    days: float
    table: pd.DataFrame = field(repr=False)

    @property
    def feasible(self) -> bool:
        """Whether every resource has an offered load below 1."""
        return not bool(self.table["flag"].any())

    @property
    def overloaded(self) -> pd.DataFrame:
        """The flagged rows (ρ >= 1), highest first."""
        return self.table[self.table["flag"]].sort_values("offered_load", ascending=False)

    def load(self, resource: str, place: str) -> float:
        """The offered load of one resource at one place (KeyError if there is none)."""
        hit = self.table[(self.table["resource"] == resource) & (self.table["place"] == place)]
        if hit.empty:
            raise KeyError(f"no {resource!r} at {place!r} in the preview")
        return float(hit["offered_load"].iloc[0])

    def __str__(self) -> str:
        t = self.table.assign(
            flag=self.table["flag"].map({True: "ρ>=1", False: ""}),
            utilization_kpi=self.table["utilization_kpi"].fillna(""),
        )
        body = t.to_string(
            index=False,
            formatters={
                "servers": "{:g}".format,
                "offered_load": "{:.3f}".format,
                "predicted_kpi": lambda v: "" if math.isnan(v) else f"{v:.4g}",
            },
        )
        over = ", ".join(
            f"{r.resource} at {r.place} (ρ = {r.offered_load:.2f})"
            for r in self.overloaded.itertuples()
        )
        verdict = f"NOT feasible: {over}" if over else "feasible: every offered load is below 1"
        return f"Preview of {self.scenario!r} over {self.days:g} days\n{body}\n{verdict}"


# -- rows --------------------------------------------------------------------------------------
def _border_rows(sc: Scenario, flows: list[Flow], svc: dict[str, Service]) -> list[Row]:
    """Rows of every border port's customs officers (declarations), scanners (trains) and
    inspection bays (held boxes), in the port's opening hours."""
    ports = {b.place: b for b in sc.borders.values()}
    decl: dict[str, float] = defaultdict(float)
    held: dict[str, float] = defaultdict(float)
    for fl in flows:
        for _, route, k, port in port_calls(sc, fl):
            decl[port.place] += fl.boxes * (1.0 - port.predeclared_share)
            held[port.place] += fl.boxes * held_share(sc, port, route, k, fl.commodity)
    rows: list[Row] = []
    for p, port in ports.items():
        trains = sum(v.trains for sid, v in svc.items() if p in sc.services[sid].route[1:])
        share = open_share(port.opening.open_h, port.opening.close_h)
        kpi = f"border.{p}.officer_utilization"
        for what, n, rate, unit, t_h in (
            ("customs_officers", port.officers, decl[p], "declarations", port.declaration_h),
            ("scanners", port.scanners, trains, "trains", port.scan_h),
            ("inspection_bays", port.inspection_bays, held[p], "held boxes", port.inspection_h),
        ):
            u = rate * dist_of(t_h).mean / n
            basis = f"{rate:.2f} {unit}/h x {dist_of(t_h).mean:.3g} h, open {24 * share:g} h"
            if what == "customs_officers":
                rows.append(row(what, p, n, u / share, basis, kpi, u))
            else:
                rows.append(row(what, p, n, u / share, basis))
    return rows


@dataclass(frozen=True)
class _SectionLoad:
    """A single-track section's trains a day (freight, passenger) and busy hours a day."""

    freight: float
    pax: float
    busy_h: float


def _section_loads(sc: Scenario, svc: dict[str, Service]) -> dict[tuple[str, int], _SectionLoad]:
    """Every single-track section (line id, section index): freight trains of ``svc`` and
    passenger trains a day, and the hours a day they hold it (running plus the station
    interval, and its maintenance window)."""
    out: dict[tuple[str, int], _SectionLoad] = {}
    for line_id, line in sc.lines.items():
        ids, n = line.station_ids, len(line.stations) - 1
        freight, pax, pax_h = np.zeros(n), np.zeros(n), np.zeros(n)
        for sid, s in sc.services.items():
            for a, b in itertools.pairwise(s.route):
                if sc.line_between(a, b) == line_id:
                    i, j = sorted((ids.index(a), ids.index(b)))
                    freight[i:j] += 24.0 * svc[sid].trains
        for path in line.passenger_paths:
            per_day = sum(len(parse_weekly_time(t)) for t in path.departures) / 7.0
            i, j = sorted((ids.index(path.from_), ids.index(path.to)))
            pax[i:j] += per_day
            pax_h[i:j] += per_day * np.array([line.km_of(k) for k in range(i, j)]) / path.speed_kmh
        gap_h = line.station_interval_min / 60.0
        for i in range(n):
            if line.track_of(i) != "single":
                continue
            window = line.maintenance_of(i)
            busy = freight[i] * (dist_of(line.running_time(i)).mean + gap_h) + pax_h[i]
            busy += pax[i] * gap_h + (window.duration_min / 60.0 if window is not None else 0.0)
            out[line_id, i] = _SectionLoad(float(freight[i]), float(pax[i]), float(busy))
    return out


def _section_rows(sc: Scenario, loads: dict[tuple[str, int], _SectionLoad]) -> list[Row]:
    """Rows of every single-track section: freight and passenger trains a day against
    twice its capacity in train pairs a day, and its predicted occupancy."""
    rows: list[Row] = []
    for (line_id, i), load in loads.items():
        line = sc.lines[line_id]
        sec = line.section_ids[i]
        pairs, per_day = line.capacity_pairs_per_day(i), load.freight + load.pax
        basis = f"{per_day:.1f} trains a day on 2 x {pairs:.1f} pairs"
        rho, occupancy, kpi = (
            per_day / (2 * pairs),
            min(1.0, load.busy_h / 24.0),
            f"line.{sec}.occupancy",
        )
        rows.append(row("single_track_section", sec, pairs, rho, basis, kpi, occupancy))
    return rows


def _train_rows(svc: dict[str, Service]) -> list[Row]:
    """Rows of every service: TEU booked on its trains against its timetable's TEU."""
    return [
        row(
            "train_capacity",
            sid,
            168.0 * v.capacity,
            v.teu / v.capacity if v.capacity else NAN,
            f"{168 * v.teu:.0f} TEU a week on {168 * v.capacity:.0f} TEU of departures",
        )
        for sid, v in svc.items()
    ]


def _ride_h(sc: Scenario, sid: str, loads: dict[tuple[str, int], _SectionLoad]) -> float:
    """Mean hours a train of ``sid`` spends between its origin and its last stop: running
    over each line's sections or rail leg, its stops (``stop_h``), at each border port the
    longer of its scan and its technical handling, and before each single-track section
    the wait for the train holding it (with the chance of its occupancy, half a passage:
    the mean residual of a passage of nearly fixed length)."""
    route = sc.services[sid].route
    hours = sum(sc.services[sid].stop_h.get(p, 0.0) for p in route[1:-1])
    for a, b in itertools.pairwise(route):
        line_id = sc.line_between(a, b)
        if line_id is not None:
            line = sc.lines[line_id]
            i, j = sorted((line.station_ids.index(a), line.station_ids.index(b)))
            for k in range(i, j):
                run_h = dist_of(line.running_time(k)).mean
                load = loads.get((line_id, k))
                wait_h = min(1.0, load.busy_h / 24.0) * run_h / 2.0 if load is not None else 0.0
                hours += run_h + wait_h
        else:
            leg = next(g for g in sc.legs if g.key == frozenset((a, b)) and g.mode == "rail")
            hours += dist_of(leg.running_time).mean
    ports = {b.place: b for b in sc.borders.values()}
    for place in route[1:]:
        if place in ports:
            hours += max(dist_of(ports[place].scan_h).mean, dist_of(ports[place].technical_h).mean)
    return hours


def _trip_h(
    sc: Scenario,
    sid: str,
    v: Service,
    flows: list[Flow],
    loads: dict[tuple[str, int], _SectionLoad],
) -> tuple[float, float]:
    """Mean hours a train of ``sid`` holds its set: from its placement to its departure and
    from its departure to its last stop (:func:`_ride_h`), and from there until the set is
    free again (shunting, unloading, turnaround)."""
    s = sc.services[sid]
    start, end_terminal = sc.terminal(s.route[0]), sc.terminal(s.route[-1])
    ride = _ride_h(sc, sid, loads)
    if v.trains > 0:
        for stop in s.route[1:-1]:  # waits while boxes for a terminal on the way come off
            terminal = sc.terminal(stop)
            if terminal is not None:
                calls, hold = unloading_calls(v, stop, terminal)
                ride += calls / v.trains * hold
    at_origin = 0.0
    if start is not None and v.trains > 0:
        own = [f for f in flows if f.hops[0].ref == sid]
        at_origin = departure_hold_h(s, v, start, own)[1]
    end = 0.0
    if end_terminal is not None:
        calls, hold = unloading_calls(v, s.route[-1], end_terminal)
        # a train with no box for the terminal is still shunted there
        end = calls / v.trains * hold if calls else dist_of(end_terminal.shunt_h).mean
    return at_origin + ride, end + dist_of(s.set_turnaround_h).mean


def _train_set_rows(
    sc: Scenario,
    flows: list[Flow],
    svc: dict[str, Service],
    loads: dict[tuple[str, int], _SectionLoad],
) -> list[Row]:
    """Rows of every pool of a limited number of train sets: the sets its trains keep busy
    on average against the sets it has (``freight.<pool>.set_utilization``).

    A train takes its set from its placement at its origin until it has arrived at its
    last stop and its set been serviced there (:func:`_trip_h`); where more trains of the
    pool leave a place than end there, sets come back to it empty, each taking the time
    of a loaded run of a service of the pool that ends there.  Customs queues and waits
    for tracks are left out, so the load is understated, by up to about an eighth on the
    China-Laos line (``tests/test_preview.py``): a pool flagged is short of sets, one just
    below 1 may be too.
    """
    rows: list[Row] = []
    for pool, sets in sc.train_sets().items():
        members = [sid for sid in sc.services if sc.pool_of(sid) == pool]
        busy = 0.0
        balance: dict[str, float] = defaultdict(float)
        back_h: dict[str, float] = {}
        for sid in members:
            s, v = sc.services[sid], svc[sid]
            there, after = _trip_h(sc, sid, v, flows, loads)
            busy += v.trains * (there + after)
            balance[s.route[0]] -= v.trains
            balance[s.route[-1]] += v.trains
            back_h.setdefault(s.route[-1], _ride_h(sc, sid, loads) + after)
        light = {p: -v for p, v in balance.items() if v < 0.0}
        busy += sum(rate * back_h[p] for p, rate in light.items())
        empty_runs = 168.0 * sum(light.values())
        basis = f"{busy:.2f} sets busy on average of {sets}" + (
            f", {empty_runs:.1f} empty runs a week" if empty_runs >= 0.05 else ""
        )
        kpi = f"freight.{pool}.set_utilization"
        rows.append(row("train_sets", pool, sets, busy / sets, basis, kpi, min(1.0, busy / sets)))
    return rows


# -- the preview -------------------------------------------------------------------------------
def overload(scenario: Scenario, days: float = 365.0) -> str | None:
    """Why the preview proves ``scenario`` cannot reach a steady state over ``days``
    days (its overloaded resources, highest offered load first), or ``None`` when every
    offered load is below 1: what :func:`~g60rail.sweep` and :func:`~g60rail.tune` skip
    without simulating."""
    p = preview(scenario, days)
    if p.feasible:
        return None
    rows = p.overloaded.head(3)
    listed = ", ".join(
        f"{r.resource} at {r.place} (load {r.offered_load:.2f})" for r in rows.itertuples()
    )
    return f"offered load at or above 1: {listed}"


def preview(scenario: Scenario, days: float = 365.0, *, first_day: float = 0.0) -> Preview:
    """The offered load ρ of every resource of ``scenario``, without simulating it.

    Parameters
    ----------
    scenario
        The scenario.
    days
        Length of the period, days, over which the calendar is averaged: the monthly
        seasonality of demand, the station's weekday and peak multipliers.
    first_day
        Its first day, days after ``scenario.meta.start``.

    Returns
    -------
    Preview
        One row per resource (:data:`COLUMNS`): the hub and each terminal (gate lanes,
        yard, reach stackers, loading and arrival/departure tracks), each border port
        (customs officers, scanners, inspection bays), each service (``train_capacity``:
        TEU booked on its trains against its departures), each pool of a limited number
        of train sets (``train_sets``: the sets its trips keep busy against its sets),
        each single-track section
        (trains a day against twice its capacity in train pairs a day) and the HSR
        station (each entrance's security lanes in their busiest hour, the ticket-gate
        groups and the exit gates in their busiest window).

    Examples
    --------
    >>> import g60rail as g6
    >>> sc = g6.load_scenario("songjiang_design")
    >>> p = g6.preview(sc.with_overrides({"hub.reach_stackers": 1}))
    >>> p.feasible, p.load("reach_stackers", "songjiang") > 1
    (False, True)
    """
    terminals = {scenario.hub.place, *(t.place for t in scenario.terminals.values())}
    booked = booked_flows(scenario, month_weights(scenario, first_day, days), terminals)
    pick = pickup(scenario, booked)
    flows = merged(part for f in booked for part in rerouted(scenario, f, pick))
    svc = services(scenario, flows)
    rows = hub_rows(scenario, hub_loads(scenario, flows, svc)) + _border_rows(scenario, flows, svc)
    loads = _section_loads(scenario, svc)
    rows += _train_rows(svc) + _train_set_rows(scenario, flows, svc, loads)
    rows += _section_rows(scenario, loads)
    if scenario.station is not None:
        start = scenario.meta.start.date() + dt.timedelta(days=round(first_day))
        rows += station_rows(
            scenario.station, [start + dt.timedelta(days=k) for k in range(max(1, round(days)))]
        )
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "flag"])
    table.insert(COLUMNS.index("flag"), "flag", table["offered_load"] >= 1.0)
    table["servers"] = table["servers"].astype(float)
    table["utilization_kpi"] = (
        table["utilization_kpi"].astype(object).where(table["utilization_kpi"].notna(), None)
    )
    return Preview(scenario=scenario.meta.name, days=float(days), table=table)
