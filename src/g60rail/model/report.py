"""KPIs and tables of a finished freight run, read from the world's probes and records.

KPI names are flat and dotted; units are in the name (``_h`` hours, ``_teu`` TEU).  The
Songjiang hub reports as ``hub.*``; other terminals as ``hub.<place>.*``.  Yard dwell is
reported for all boxes (``dwell_h_*``), for boxes leaving on a train (``dwell_to_train_h_*``:
from the lift off the truck or the train into the yard to loading; trains waiting for
tracks, sets or stackers lengthen it, while a truck's wait for a stacker comes before it
and shows in the turnaround) and for boxes leaving by road (``dwell_to_road_h_mean``:
mostly the consignees' own pick-up time).  Border ports
report as ``border.<place>.*`` (``trains_per_day`` cleared over the run's days,
``teu_per_year`` and ``tonnes_per_year`` that left the port on trains, scaled from the
run's days to 365; ``box_clearance_h_mean`` from a box's train reaching the port to the
box leaving it, ``held_wait_h_mean`` from a held box's inspection to its train), gross
weights as ``freight.tonnes_*`` (created = delivered + in system), rail transit as
``transit.<origin>_<destination>.h_mean`` (train departure at the first terminal to
arrival at the destination), door-to-door as ``door.<origin>_<destination>.h_mean``
(booking to arrival) and road trips as ``road.<origin>_<destination>.h_mean``.  With
disruptions in the scenario,
``disruption.*`` gives failures, equipment-hours down, and the TEU-hours that trains spent
waiting for closed lines and ports (train TEU times the wait for the window to end).

At each terminal, ``truck_turnaround_h_mean`` / ``_p95`` run per truck from its arrival at
the gate to the end of its out-gate pass (trucks delivering export boxes and consignees'
trucks collecting import boxes), ``gate_wait_h_*`` is the wait at the in-gate,
``gate_out_wait_h_mean`` at the out-gate, and ``cutoff_missed_teu`` the TEU left in the
yard by a departure because their truck, at the gate before the cut-off, passed the
in-gate after it (held up by the gate queue, the yard or the opening hours).

After a warm-up (``simulate(..., warmup_days=...)``) the time statistics cover what
happened after it (see :class:`~g60rail.model.world.World`): dwell, transit, clearance,
turnaround, the waits at gates, tracks, line sections and for train sets, and the
utilisations of gate lanes, reach stackers, tracks, customs officers and line sections
(busy time after the warm-up over the time after it; yard occupancy and train-set use
from the first whole day after it); counts and the tables cover the whole run.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from g60rail.model.cargo import MILESTONES
from g60rail.model.hub import Hub
from g60rail.model.line import SECTION_COLUMNS
from g60rail.model.probes import Tally
from g60rail.model.trains import TRAIN_COLUMNS
from g60rail.model.world import CONTAINER_COLUMNS, World

__all__ = ["BORDER_COLUMNS", "FILL_UP_DAYS", "freight_kpis", "freight_tables", "to_timestamps"]

NAN = math.nan

BORDER_COLUMNS = (
    "port",
    "tid",
    "service",
    "t_in",
    "t_out",
    "teu_cleared",
    "teu_held",
    "tonnes_cleared",
    "tonnes_held",
    "teu_boarded",
    "tonnes_boarded",
)
"""Columns of the border table, one row per train cleared at a port: the TEU and tonnes
it brought that were cleared with it or held for inspection, and the held boxes (of
earlier trains) that boarded it there.  What crossed through a port is ``*_cleared`` plus
``*_boarded``."""


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else NAN


def _hub_kpis(prefix: str, hub: Hub, horizon_h: float, first_day: int) -> dict[str, float]:
    y, g, s, t = hub.yard, hub.gate, hub.stackers, hub.tracks
    dwell = y.dwell_h
    return {
        f"{prefix}.dwell_h_mean": dwell.mean(),
        f"{prefix}.dwell_h_p95": dwell.quantile(0.95),
        f"{prefix}.dwell_to_train_h_mean": y.dwell_to_train_h.mean(),
        f"{prefix}.dwell_to_train_h_p95": y.dwell_to_train_h.quantile(0.95),
        f"{prefix}.dwell_to_road_h_mean": y.dwell_to_road_h.mean(),
        f"{prefix}.yard_teu_max": y.occupancy.max_from_day(first_day),
        f"{prefix}.yard_teu_mean": y.occupancy.mean_from_day(first_day),
        f"{prefix}.yard_teu_end": float(y.level_teu),
        f"{prefix}.reach_stacker_utilization": s.busy_time.utilization(s.count, horizon_h),
        f"{prefix}.reach_stacker_moves": float(s.moves),
        f"{prefix}.gate_wait_h_mean": g.wait_h.mean(),
        f"{prefix}.gate_wait_h_p95": g.wait_h.quantile(0.95),
        f"{prefix}.gate_queue_max": float(g.queue.max),
        f"{prefix}.gate_out_wait_h_mean": g.out_wait_h.mean(),
        f"{prefix}.gate_utilization": g.busy_time.utilization(g.lanes.capacity, horizon_h),
        f"{prefix}.truck_turnaround_h_mean": hub.truck_turnaround_h.mean(),
        f"{prefix}.truck_turnaround_h_p95": hub.truck_turnaround_h.quantile(0.95),
        f"{prefix}.cutoff_missed_teu": float(sum(q.missed_cutoff_teu for q in hub.queues.values())),
        f"{prefix}.track_utilization": t.busy_time.utilization(t.count, horizon_h),
        f"{prefix}.track_wait_h_mean": t.wait_h.mean(),
        f"{prefix}.teu_handled_per_year": y.teu_handled
        * 8760.0
        / max(horizon_h - y.warmup_h, 1e-9),
        f"{prefix}.ad_track_utilization": (
            hub.ad_busy.utilization(hub.spec.ad_tracks, horizon_h)
            if hub.spec.ad_tracks is not None
            else NAN
        ),
        f"{prefix}.ad_track_wait_h_mean": hub.ad_wait_h.mean(),
    }


FILL_UP_DAYS = 7.0
"""Days a corridor that starts empty takes to fill: boxes are delivered from about the
sixth day (door to door Songjiang -> Vientiane 5-6 days, F), so the TEU inside rise until
then whatever the load.  It is the default warm-up, and the backlog is never judged over
these first days."""


def backlog_kpis(world: World) -> dict[str, float]:
    """Whether the backlog keeps growing, and how old the boxes still inside are.

    ``freight.backlog_growing`` is 1 when the TEU in the system, day by day after the
    warm-up (and after :data:`FILL_UP_DAYS` in any case), rise along a least-squares line
    by more than a fifth of their mean level over the period (at least 14 days), else 0: a
    run whose backlog grows has no steady state, and its means describe its length, not
    the corridor.  ``freight.in_system_age_h_*`` are the ages of the boxes inside at the
    end (hours since their booking).
    """
    h = world.horizon_h
    days = int(h // 24.0)
    counts = world.daily.counts
    zero = np.zeros(len(counts.get("teu_created", np.zeros(days))))
    created = counts.get("teu_created", zero)
    delivered = counts.get("teu_delivered", zero)
    inside = np.cumsum(created - delivered)[:days]
    first = math.ceil(max(world.warmup_h / 24.0, FILL_UP_DAYS))
    span = inside[first:]
    growing = 0.0
    if span.size >= 14 and span.mean() > 0:
        slope = np.polyfit(np.arange(span.size, dtype=float), span, 1)[0]
        growing = float(slope * span.size > 0.2 * span.mean())
    ages = np.array([h - b.t_created for b in world.live.values()], dtype=float)
    return {
        "freight.backlog_growing": growing,
        "freight.in_system_age_h_mean": float(ages.mean()) if ages.size else NAN,
        "freight.in_system_age_h_max": float(ages.max()) if ages.size else NAN,
    }


def _pair_kpis(family: str, tallies: dict[tuple[str, str, str], Tally]) -> dict[str, float]:
    out = {}
    for (_mode, o, d), tally in sorted(tallies.items()):
        out[f"{family}.{o}_{d}.h_mean"] = tally.mean()
        out[f"{family}.{o}_{d}.h_p95"] = tally.quantile(0.95)
        out[f"{family}.{o}_{d}.n"] = float(len(tally))
    return out


def freight_kpis(world: World) -> dict[str, float]:
    """Every freight KPI of a finished run."""
    sc, h = world.scenario, world.horizon_h
    k: dict[str, float] = {
        "freight.teu_created": float(world.teu_created),
        "freight.teu_delivered": float(world.teu_delivered),
        "freight.teu_in_system_end": float(world.teu_in_system()),
        "freight.teu_empty": float(world.empties.teu),
        "freight.teu_booked": float(world.teu_created - world.empties.teu),
        "freight.tonnes_created": world.tonnes_created,
        "freight.tonnes_delivered": world.tonnes_delivered,
        "freight.tonnes_in_system_end": world.tonnes_in_system(),
    }
    departures = world.trains.departures
    n_departed = sum(n for n, _ in departures.values())
    k["freight.trains_departed"] = float(n_departed)
    k["freight.train_fill_teu_mean"] = (
        sum(teu for _, teu in departures.values()) / n_departed if n_departed else NAN
    )
    k["freight.trains_arrived"] = float(world.trains.arrivals)
    road_live = sum(b.teu for b in world.live.values() if b.mode == "road")
    road_done = world.daily.counts.get("teu_arrived.road")
    k["freight.teu_road"] = road_live + (float(road_done.sum()) if road_done is not None else 0.0)
    for sid, spec in sc.services.items():
        n, teu = departures.get(sid, (0, 0))
        k[f"freight.{sid}.trains_departed"] = float(n)
        k[f"freight.{sid}.teu_departed"] = float(teu)
        k[f"freight.{sid}.train_fill_teu_mean"] = teu / n if n else NAN
        k[f"freight.{sid}.train_fill_share_mean"] = teu / n / spec.capacity_teu if n else NAN
    first_day = math.floor(world.warmup_h / 24.0 + 1e-9)
    k.update(_hub_kpis("hub", world.hubs[sc.hub.place], h, first_day))
    for place, hub in world.hubs.items():
        if place != sc.hub.place:
            k.update(_hub_kpis(f"hub.{place}", hub, h, first_day))
    for place, port in world.ports.items():
        p = f"border.{place}"
        k[f"{p}.clearance_h_mean"] = port.clearance_h.mean()
        k[f"{p}.clearance_h_p95"] = port.clearance_h.quantile(0.95)
        k[f"{p}.box_clearance_h_mean"] = port.box_clearance_h.mean()
        k[f"{p}.trains"] = float(len(port.clearance_h))
        k[f"{p}.held_teu"] = float(port.held_teu)
        k[f"{p}.held_wait_h_mean"] = port.held_wait_h.mean()
        k[f"{p}.officer_utilization"] = port.officer_busy.utilization(port.spec.officers, h)
        k[f"{p}.trains_per_day"] = _ratio(port.trains_cleared, h / 24.0)
        k[f"{p}.teu_per_year"] = _ratio(port.teu_out * 365.0, h / 24.0)
        k[f"{p}.tonnes_per_year"] = _ratio(port.tonnes_out * 365.0, h / 24.0)
    k.update(line_kpis(world))
    rail = {key: t for key, t in world.transit_h.items() if key[0] == "rail"}
    k.update(_pair_kpis("transit", rail))
    k.update(_pair_kpis("door", {key: t for key, t in world.door_h.items() if key[0] == "rail"}))
    k.update(_pair_kpis("road", {key: t for key, t in world.door_h.items() if key[0] == "road"}))
    k["road.trip_h_mean"] = world.road.trip_h.mean()
    k.update(backlog_kpis(world))
    year = 8760.0 / max(world.horizon_h - world.warmup_h, 1e-9)
    for leg in world.onward_legs:
        p = f"onward.{leg.spec.from_}_{leg.spec.to}"
        k[f"{p}.teu_per_year"] = leg.teu * year
        k[f"{p}.tonnes_per_year"] = leg.tonnes * year
    for pool_id, pool in sorted(world.trains.pools.items()):
        k[f"freight.{pool_id}.train_sets"] = float(pool.size)
        k[f"freight.{pool_id}.set_wait_h_mean"] = pool.wait_h.mean()
        k[f"freight.{pool_id}.light_runs"] = float(pool.light_runs)
        k[f"freight.{pool_id}.set_utilization"] = _ratio(
            pool.away.mean_from_day(first_day), float(pool.size)
        )
    if world.failures or world.scenario.disruptions.closures:
        k["disruption.breakdowns"] = float(sum(f.failures for f in world.failures))
        k["disruption.equipment_down_h"] = sum(f.down_h for f in world.failures)
        k["disruption.line_closure_delay_teu_h"] = sum(
            s.closure_delay_teu_h for line in world.network.lines.values() for s in line.sections
        )
        k["disruption.border_closure_delay_teu_h"] = sum(
            port.closure_delay_teu_h for port in world.ports.values()
        )
        # What the disruptions stranded is known only against the same run without them:
        # g60rail.experiment.impact.disruption_cost gives it (disruption.stranded_teu).
    return k


def line_kpis(world: World) -> dict[str, float]:
    """KPIs of every single-track section of the scenario's lines.

    ``capacity_pairs_per_day`` is the standard capacity (see
    :meth:`~g60rail.scenario.line_spec.LineSpec.capacity_pairs_per_day`); ``occupancy`` the
    share of the run the section was occupied (running trains and the station interval
    after each, in the manner of UIC 406) or closed for maintenance; ``trains_per_day``
    the trains that entered it, both ways, passenger trains included; ``wait_h_mean`` the
    mean wait of a train at the station before it, from ready to leave to entering.
    """
    h = world.horizon_h
    out: dict[str, float] = {}
    for line_id, spec in world.scenario.lines.items():
        line = world.network.lines[line_id]
        for i, sec in enumerate(line.sections):
            if not sec.single:
                continue
            p = f"line.{sec.id}"
            out[f"{p}.capacity_pairs_per_day"] = spec.capacity_pairs_per_day(i)
            warm = sec.busy_time.from_h
            busy = sec.busy_time.h + sec.maintenance.total_h(warm, h)
            out[f"{p}.occupancy"] = min(1.0, busy / (h - warm))
            out[f"{p}.trains_per_day"] = sum(sec.entries.values()) / (h / 24.0)
            out[f"{p}.wait_h_mean"] = sec.wait_h.mean()
    return out


def to_timestamps(hours: pd.Series | np.ndarray, start: dt.datetime) -> pd.Series:
    """Simulation hours as wall-clock timestamps (NaN becomes NaT)."""
    return pd.Series(pd.Timestamp(start) + pd.to_timedelta(np.asarray(hours), unit="h"))


def freight_tables(world: World) -> dict[str, pd.DataFrame]:
    """Tidy tables of a finished run: containers, trains, border, timeseries."""
    start = world.scenario.meta.start
    rows = list(world.container_rows)
    if world.record_containers:
        rows.extend(World.container_row(b) for b in world.live.values())
    containers = pd.DataFrame(rows, columns=list(CONTAINER_COLUMNS))
    containers = containers.sort_values("cid", kind="stable").reset_index(drop=True)
    for m in MILESTONES:
        containers[m[2:] + "_at"] = to_timestamps(containers[m].to_numpy(float), start)

    trains = pd.DataFrame(world.trains.rows, columns=list(TRAIN_COLUMNS))
    trains = trains.sort_values("tid", kind="stable").reset_index(drop=True)
    trains["delay_h"] = trains["t_departed"] - trains["t_planned"]
    trains["run_h"] = trains["t_arrived"] - trains["t_departed"]
    for col in ("t_planned", "t_departed", "t_arrived"):
        trains[col[2:] + "_at"] = to_timestamps(trains[col].to_numpy(float), start)

    border_rows = [
        (place, *row, *port.boarded.get(row[0], (0, 0.0)))
        for place, port in sorted(world.ports.items())
        for row in port.log
    ]
    border = pd.DataFrame(border_rows, columns=list(BORDER_COLUMNS))
    border["clearance_h"] = border["t_out"] - border["t_in"]

    days = math.ceil(world.horizon_h / 24.0)
    ts = pd.DataFrame({"day": np.arange(days)})
    ts["date"] = pd.Timestamp(start).normalize() + pd.to_timedelta(ts["day"], unit="D")
    counts = world.daily.counts
    for key in sorted(counts):
        ts[key] = counts[key]
    for place, hub in world.hubs.items():
        ts[f"yard_teu_mean.{place}"] = hub.yard.occupancy.daily_mean()
        ts[f"yard_teu_max.{place}"] = hub.yard.occupancy.daily_max()
        ts[f"gate_queue_max.{place}"] = hub.gate.queue.daily_max()
        ts[f"yard_capacity_teu.{place}"] = float(hub.yard.capacity_teu)
    sections = pd.DataFrame(world.network.rows, columns=list(SECTION_COLUMNS))
    sections = sections.sort_values(["t_enter", "tid"], kind="stable").reset_index(drop=True)
    for col in ("t_ready", "t_enter", "t_exit"):
        sections[col[2:] + "_at"] = to_timestamps(sections[col].to_numpy(float), start)
    return {
        "containers": containers,
        "trains": trains,
        "border": border,
        "timeseries": ts,
        "sections": sections,
    }
