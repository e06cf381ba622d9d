"""KPIs and tables of a station run: hourly profile, level of service per zone and hour,
departures and, on request, every departing passenger, with wall-clock times.

Tables
------
``pax_hourly``
    One row per hour slot of the run: security arrivals and their waits (exact hourly
    quantiles), the time-average security queue of all entrances (``queue``) and the
    longest queue at one entrance (``queue_max``), the gate queues likewise (``gate_queue``,
    ``gate_queue_max``: one group), hall occupancy, lanes open, the departures of the hour
    and their own passengers who boarded or missed (by cause), rebooked passengers who
    boarded them, arriving passengers and their exit waits, and ``los_worst``, the worst
    level of service of any zone in the hour.
``pax_los``
    One row per zone and hour slot: area, highest and mean occupancy, area per person at
    the highest, Fruin's level (letter and 1-6); see :mod:`~g60rail.model.station.los`.
``pax_departures``
    One row per departure: own passengers, boarded, missed by cause, rebooked onto it,
    stranded for want of a seat, alighting passengers.
``passengers`` / ``arriving_passengers``
    With ``record_passengers``: every departing passenger's times and outcome, and every
    arriving passenger's exit times.

KPIs
----
``pax.passengers`` counts departing passengers (through security), ``pax.arriving``
alighting ones; ``pax.missed_departures`` = ``pax.missed_late_arrival`` +
``pax.missed_due_to_security`` + ``pax.missed_at_gate``, of whom ``pax.rebooked`` got a
later train (``pax.boarded_after_rebooking`` boarded it) and the rest, with those who
missed the rebooked train too, are ``pax.stranded``.  ``pax.los_worst`` is the worst
level (1 = A ... 6 = F) of any zone and hour, ``pax.los_f_hours`` the zone-hours at F,
``pax.security_queue_max`` the longest queue at one entrance.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from g60rail.model.station.gates import BOARDED, COUNTS, MISSED_BEFORE, MISSED_GATE
from g60rail.model.station.los import LOS_LETTERS, los_level
from g60rail.model.station.records import (
    Departures,
    ExitBank,
    SecurityBank,
    StepStats,
    WaitHistogram,
)
from g60rail.scenario.station_spec import StationSpec

if TYPE_CHECKING:
    from g60rail.model.station.boarding import Boarding

__all__ = ["RunRecords", "StationRun", "assemble"]


@dataclass(frozen=True)
class StationRun:
    """Result of :func:`~g60rail.model.station.simulate_station`.

    Attributes
    ----------
    kpis
        Flat ``pax.*`` indicators.
    tables
        ``pax_hourly``, ``pax_departures``, ``pax_los`` and, on request, ``passengers``.
    """

    kpis: dict[str, float]
    tables: dict[str, pd.DataFrame]


@dataclass
class RunRecords:
    """Aggregates collected while a run goes: hourly security waits, exit flow, records."""

    n_slots: int
    record: bool
    slot_wait: np.ndarray = field(init=False)
    exit_acc: np.ndarray = field(init=False)
    waits: WaitHistogram = field(default_factory=WaitHistogram)
    exit_waits: WaitHistogram = field(default_factory=WaitHistogram)
    before_start: int = 0
    security: list[dict[str, np.ndarray]] = field(default_factory=list)
    exits: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.slot_wait = np.full((self.n_slots, 5), np.nan, order="F")
        self.exit_acc = np.zeros((self.n_slots, 3))

    def add_exits(self, reach_h: np.ndarray, start_h: np.ndarray, waits_min: np.ndarray) -> None:
        """Add passengers through the exit gates (reach and service start [h], positive
        waits [min]; the hourly summary is already in :attr:`exit_acc`)."""
        self.exit_waits.extend_positive(waits_min, reach_h.size - waits_min.size)
        if self.record:
            self.exits.append((reach_h, start_h))


def _wall_time(start: datetime.datetime, hours: np.ndarray) -> pd.DatetimeIndex:
    """Wall-clock times of ``hours`` after ``start`` (to the nanosecond)."""
    x = np.asarray(hours, dtype=float) * 3.6e12  # a new array, rounded in place
    ns = np.round(x, out=x).astype(np.int64)
    del x
    ns += pd.Timestamp(start).as_unit("ns").value
    return pd.DatetimeIndex(ns.view("datetime64[ns]"), copy=False)


def _by_service(service: np.ndarray, labels: list[str]) -> pd.Categorical[str]:
    """``pd.Categorical`` of ``labels[service]`` (sorted categories), built from codes."""
    cats = sorted(set(labels))
    code = np.array([cats.index(x) for x in labels], dtype=np.min_scalar_type(-len(cats)))
    return pd.Categorical.from_codes(code[service], categories=pd.Index(cats))


def _per_slot(dep_slot: np.ndarray, values: np.ndarray, n_slots: int) -> np.ndarray:
    return np.bincount(dep_slot, weights=values, minlength=n_slots)[:n_slots].astype(np.int64)


def _departures_table(
    spec: StationSpec, start: datetime.datetime, deps: Departures
) -> pd.DataFrame:
    dep_svc = deps.service
    services = spec.services
    seats = np.array([sv.seats for sv in services], dtype=np.int64)[dep_svc]
    cols: dict[str, object] = {
        "time": _wall_time(start, deps.time_h),
        "time_h": deps.time_h,
        "destination": _by_service(dep_svc, [sv.destination for sv in services]),
        "train_type": _by_service(dep_svc, [sv.train_type for sv in services]),
        "gate_group": deps.gate,
        "seats": seats,
        "passengers": deps.passengers,
        "boarded": deps.counts("boarded"),
        "missed": deps.missed,
    }
    for name in COUNTS[1:]:
        cols[name] = deps.counts(name)
    if spec.exits is not None:
        cols["alighting"] = deps.alighting
    return pd.DataFrame(cols, copy=False)


def _zones(
    spec: StationSpec,
    bank: SecurityBank,
    boarding: Boarding,
    hall: StepStats,
    exits: ExitBank | None,
) -> list[tuple[str, str, float, np.ndarray, np.ndarray]]:
    """(zone, kind, area [m²], hourly occupancy integral, hourly maximum) of every zone."""
    zones = [
        (f"security:{e.name}", "security", e.queue_area_m2, bank.q_sum[i], bank.q_max[i])
        for i, e in enumerate(spec.entrances)
    ]
    area = spec.gates.queue_area_m2
    zones += [
        (f"gate:{g}", "gate", area, boarding.q_sum[g], boarding.q_max[g])
        for g in range(spec.gates.groups)
    ]
    zones.append(("hall", "hall", spec.hall_area, hall.sum, hall.max))
    if exits is not None and spec.exits is not None:
        zones.append(("exit", "exit", spec.exits.queue_area_m2, exits.q_sum, exits.q_max))
    return zones


def _los_table(
    start: datetime.datetime,
    zones: list[tuple[str, str, float, np.ndarray, np.ndarray]],
    slot_len: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The long ``pax_los`` table and the worst level per hour slot."""
    n_slots = slot_len.size
    names = [z[0] for z in zones]
    kinds = sorted({z[1] for z in zones})
    occ_max = np.concatenate([z[4] for z in zones])
    occ_mean = np.concatenate([z[3] / slot_len for z in zones])
    area = np.repeat(np.array([z[2] for z in zones], dtype=float), n_slots)
    level = los_level(area, occ_max)
    with np.errstate(divide="ignore"):
        per = np.where(occ_max > 0, area / np.where(occ_max > 0, occ_max, 1.0), np.inf)
    worst = level.reshape(len(zones), n_slots).max(axis=0) if zones else np.ones(n_slots, np.int8)
    k = np.tile(np.arange(n_slots), len(zones))
    table = pd.DataFrame(
        {
            "time": _wall_time(start, k.astype(float)),
            "zone": pd.Categorical.from_codes(
                np.repeat(np.arange(len(zones)), n_slots), categories=pd.Index(names)
            ),
            "kind": pd.Categorical(np.repeat([z[1] for z in zones], n_slots), categories=kinds),
            "area_m2": area,
            "occupancy_max": occ_max.astype(np.int64),
            "occupancy_mean": occ_mean,
            "m2_per_pax": per,
            "los": pd.Categorical.from_codes(level - 1, categories=pd.Index(list(LOS_LETTERS))),
            "los_level": level,
        },
        copy=False,
    )
    return table, worst


def assemble(
    spec: StationSpec,
    *,
    start: datetime.datetime,
    horizon_h: float,
    hour_offset: float,
    bank: SecurityBank,
    deps: Departures,
    boarding: Boarding,
    exits: ExitBank | None,
    hall: StepStats,
    rec: RunRecords,
) -> StationRun:
    """Build the KPIs and tables of a finished run."""
    n_slots = rec.n_slots
    days = horizon_h / 24.0
    departures = _departures_table(spec, start, deps)
    dep_time = deps.time_h
    dep_slot = np.floor(dep_time).astype(np.int64)
    k = np.arange(n_slots)
    lanes_total = np.sum(bank.lanes, axis=0)
    base = math.floor(hour_offset)
    frac = hour_offset - base
    lanes_open = (1.0 - frac) * lanes_total[(k + base) % 24] + frac * lanes_total[
        (k + base + 1) % 24
    ]
    slot_len = np.minimum(k + 1.0, horizon_h) - k
    times = _wall_time(start, k.astype(float))
    slot_wait = rec.slot_wait
    count = np.nan_to_num(slot_wait[:, 0]).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        wait_mean = slot_wait[:, 1] / slot_wait[:, 0]
        exit_mean = rec.exit_acc[:, 1] / rec.exit_acc[:, 0]
    zones = _zones(spec, bank, boarding, hall, exits)
    los, worst = _los_table(start, zones, slot_len)
    counts = {name: deps.counts(name) for name in COUNTS}
    hourly_cols: dict[str, object] = {
        "time": times,
        "day": k // 24,
        "hour_of_day": np.asarray(times.hour, dtype=np.int64),
        "arrivals": count,
        "wait_mean_min": wait_mean,
        "wait_p50_min": slot_wait[:, 2],
        "wait_p95_min": slot_wait[:, 3],
        "wait_max_min": slot_wait[:, 4],
        "queue": bank.q_sum.sum(axis=0) / slot_len,
        "queue_max": bank.q_max.max(axis=0).astype(np.int64),
        "gate_queue": boarding.q_sum.sum(axis=0) / slot_len,
        "gate_queue_max": boarding.q_max.max(axis=0).astype(np.int64),
        "hall_occupancy": hall.sum / slot_len,
        "hall_occupancy_max": hall.max.astype(np.int64),
        "lanes_open": lanes_open,
        "departures": np.bincount(dep_slot, minlength=n_slots)[:n_slots],
        "boarded": _per_slot(dep_slot, counts["boarded"], n_slots),
        "missed": _per_slot(dep_slot, deps.missed, n_slots),
        "missed_late_arrival": _per_slot(dep_slot, counts["missed_late_arrival"], n_slots),
        "missed_due_to_security": _per_slot(dep_slot, counts["missed_due_to_security"], n_slots),
        "missed_at_gate": _per_slot(dep_slot, counts["missed_at_gate"], n_slots),
        "rebooked_boarded": _per_slot(dep_slot, counts["rebooked_boarded"], n_slots),
        "los_worst": pd.Categorical.from_codes(worst - 1, categories=pd.Index(list(LOS_LETTERS))),
    }
    if exits is not None:
        hourly_cols["arriving"] = rec.exit_acc[:, 0].astype(np.int64)
        hourly_cols["exit_wait_mean_min"] = exit_mean
        hourly_cols["exit_queue_max"] = exits.q_max.astype(np.int64)
    hourly = pd.DataFrame(hourly_cols, copy=False)

    n = rec.waits.n
    tot = {name: int(v.sum()) for name, v in counts.items()}
    n_missed = tot["missed_late_arrival"] + tot["missed_due_to_security"] + tot["missed_at_gate"]
    n_arriving = int(deps.alighting.sum()) if exits is not None else 0
    stranded = tot["stranded_no_seat"] + tot["rebooked_missed"]
    kinds = {z[1] for z in zones}
    lv = los["los_level"].to_numpy()
    kpis = {
        "pax.passengers": float(n),
        "pax.departures": float(dep_time.size),
        "pax.passengers_per_day": float(n) / days,
        "pax.arriving": float(n_arriving),
        "pax.arriving_per_day": n_arriving / days,
        "pax.station_passengers_per_day": (n + n_arriving) / days,
        "pax.boarded": float(tot["boarded"]),
        "pax.missed_departures": float(n_missed),
        "pax.missed_share": n_missed / n if n else 0.0,
        "pax.missed_late_arrival": float(tot["missed_late_arrival"]),
        "pax.missed_due_to_security": float(tot["missed_due_to_security"]),
        "pax.missed_at_gate": float(tot["missed_at_gate"]),
        "pax.rebooked": float(tot["rebooked_in"]),
        "pax.boarded_after_rebooking": float(tot["rebooked_boarded"]),
        "pax.stranded": float(stranded),
        "pax.security_wait_min_mean": rec.waits.total / n if n else 0.0,
        "pax.security_wait_min_p95": rec.waits.quantile(0.95),
        "pax.security_wait_min_max": rec.waits.max,
        "pax.security_queue_max": float(bank.q_state[:, 2].max(initial=0.0)),
        "pax.gate_wait_min_mean": (
            60.0 * boarding.gate_wait_sum_h / boarding.n_through if boarding.n_through else 0.0
        ),
        "pax.gate_queue_max": float(boarding.level[:, 2].max(initial=0.0)),
        "pax.hall_occupancy_max": float(hall.state[2]),
        "pax.hall_over_capacity_h": float(hall.state[3]),
        "pax.los_f_hours": float(np.count_nonzero(lv == 6)),
        "pax.los_worst": float(lv.max(initial=1)),
        "pax.arrivals_before_start": float(rec.before_start),
    }
    for kind in sorted(kinds):
        sel = (los["kind"] == kind).to_numpy()
        kpis[f"pax.los_worst.{kind}"] = float(lv[sel].max(initial=1))
    if exits is not None:
        kpis["pax.exit_wait_min_mean"] = (
            rec.exit_waits.total / rec.exit_waits.n if rec.exit_waits.n else 0.0
        )
        kpis["pax.exit_wait_min_p95"] = rec.exit_waits.quantile(0.95)
        kpis["pax.exit_wait_min_max"] = rec.exit_waits.max
        kpis["pax.exit_queue_max"] = float(exits.q_state[2])
    tables = {"pax_hourly": hourly, "pax_departures": departures, "pax_los": los}
    if rec.record:
        tables["passengers"] = _passenger_table(spec, start, deps, rec, boarding)
        if exits is not None:
            reach = np.concatenate([x[0] for x in rec.exits]) if rec.exits else np.empty(0)
            begin = np.concatenate([x[1] for x in rec.exits]) if rec.exits else np.empty(0)
            tables["arriving_passengers"] = pd.DataFrame(
                {
                    "exit_reach_h": reach,
                    "exit_start_h": begin,
                    "exit_wait_min": (begin - reach) * 60.0,
                }
            )
    return StationRun(kpis=kpis, tables=tables)


def _passenger_table(
    spec: StationSpec,
    start: datetime.datetime,
    deps: Departures,
    rec: RunRecords,
    boarding: Boarding,
) -> pd.DataFrame:
    """One row per departing passenger, in passenger (generation) order."""
    if not rec.security:
        return pd.DataFrame()
    cols = {k: np.concatenate([r[k] for r in rec.security]) for k in rec.security[0]}
    order = np.argsort(cols["pid"])
    cols = {k: v[order] for k, v in cols.items()}
    n = cols["pid"].size
    g = {k: np.concatenate([r[k] for r in boarding.records]) for k in boarding.records[0]}
    first, second = ~g["second"], g["second"]
    f_pid, s_pid = g["pid"][first], g["pid"][second]
    nan = np.full(n, np.nan)
    gate_arr, gate_pass = nan.copy(), nan.copy()
    gate_arr[f_pid] = g["join"][first]
    gate_pass[f_pid] = g["pass"][first]
    status = np.zeros(n, np.int8)
    status[f_pid] = g["status"][first]
    rebook = np.full(n, -1, np.int64)
    rebook[f_pid] = np.maximum(g["rebook"][first], -1)
    r_arr, r_pass = nan.copy(), nan.copy()
    r_arr[s_pid] = g["join"][second]
    r_pass[s_pid] = g["pass"][second]
    r_status = np.zeros(n, np.int8)
    r_status[s_pid] = g["status"][second]
    names = np.array([e.name for e in spec.entrances], dtype=object)
    a, s, svc = cols["a"], cols["s"], cols["svc"]
    walk_h = spec.walk_to_gate_min / 60.0
    close = deps.time_h[cols["dep"]] - close_h_of(spec)
    missed = status != BOARDED
    cause = np.where(
        status == MISSED_GATE,
        3,
        np.where(status == MISSED_BEFORE, np.where(a + svc + walk_h > close, 1, 2), 0),
    )
    rebooked = rebook >= 0
    exit_h = s + svc
    close2 = np.where(rebooked, deps.time_h[np.maximum(rebook, 0)] - close_h_of(spec), np.nan)
    first_miss = np.where(status == MISSED_GATE, close, exit_h + walk_h)
    left = np.where(
        status == BOARDED,
        gate_pass,
        np.where(rebooked, np.where(r_status == BOARDED, r_pass, close2), first_miss),
    )
    return pd.DataFrame(
        {
            "passenger": cols["pid"],
            "departure": cols["dep"],
            "departure_h": deps.time_h[cols["dep"]],
            "entrance": pd.Categorical(names[cols["ent"]], categories=list(names)),
            "arrival_time": _wall_time(start, a),
            "arrival_h": a,
            "security_start_h": s,
            "security_wait_min": (s - a) * 60.0,
            "security_exit_h": exit_h,
            "gate_arrival_h": gate_arr,
            "gate_pass_h": gate_pass,
            "boarded": ~missed,
            "missed": missed,
            "miss_cause": pd.Categorical.from_codes(
                cause, categories=pd.Index(["", "late_arrival", "security", "gate"])
            ),
            "rebooked": rebooked,
            "rebooked_departure": rebook,
            "rebooked_departure_h": np.where(rebooked, deps.time_h[np.maximum(rebook, 0)], np.nan),
            "rebooked_gate_arrival_h": r_arr,
            "rebooked_gate_pass_h": r_pass,
            "boarded_rebooked": r_status == BOARDED,
            "stranded": missed & (r_status != BOARDED),
            "left_hall_h": left,
        }
    )


def close_h_of(spec: StationSpec) -> float:
    """Gate closing before departure [h]."""
    return spec.gates.close_min_before_departure / 60.0
