"""KPIs and tables of a station run: hourly profile, departures and, on request, every
passenger, with wall-clock times."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from g60rail.model.station.records import Departures, SecurityBank, StepStats, WaitHistogram
from g60rail.scenario.station_spec import StationSpec

__all__ = ["StationRun", "assemble"]


@dataclass(frozen=True)
class StationRun:
    """Result of :func:`simulate_station`.

    Attributes
    ----------
    kpis
        Flat ``pax.*`` indicators.
    tables
        ``pax_hourly``, ``pax_departures`` and, on request, ``passengers``.
    """

    kpis: dict[str, float]
    tables: dict[str, pd.DataFrame]


def _wall_time(start: datetime.datetime, hours: np.ndarray) -> pd.DatetimeIndex:
    """Wall-clock times of ``hours`` after ``start`` (to the nanosecond)."""
    x = np.asarray(hours, dtype=float) * 3.6e12  # a new array, rounded in place
    ns = np.round(x, out=x).astype(np.int64)
    del x
    ns += pd.Timestamp(start).as_unit("ns").value
    return pd.DatetimeIndex(ns.view("datetime64[ns]"), copy=False)


def _by_service(service: np.ndarray, labels: list[str]) -> pd.Categorical:
    """``pd.Categorical`` of ``labels[service]`` (sorted categories), built from codes."""
    cats = sorted(set(labels))
    code = np.array([cats.index(x) for x in labels], dtype=np.min_scalar_type(-len(cats)))
    return pd.Categorical.from_codes(code[service], categories=cats)


def assemble(
    spec: StationSpec,
    *,
    start: datetime.datetime,
    horizon_h: float,
    hour_offset: float,
    bank: SecurityBank,
    deps: Departures,
    queue: StepStats,
    hall: StepStats,
    waits_min: WaitHistogram,
    slot_wait: np.ndarray,
    gate_wait_sum_h: float,
    n_gate: int,
    n_before_start: int,
    n_missed_queue: int,
    records: list[dict[str, np.ndarray]] | None,
    gate_records: list[dict[str, np.ndarray]],
) -> StationRun:
    """Build the KPIs and tables of a finished run."""
    n_slots = slot_wait.shape[0]
    # The columns are handed to pandas without a copy (``copy=False``): they are fresh
    # arrays or exact-size views of the run's buffers, which nothing else holds, so a long
    # run does not hold every table twice while it is built.
    dep_time = deps.time_h
    dep_svc = deps.service
    dep_pax = deps.passengers
    dep_missed = deps.missed
    dep_boarded = dep_pax - dep_missed
    services = spec.services
    departures = pd.DataFrame(
        {
            "time": _wall_time(start, dep_time),
            "time_h": dep_time,
            "destination": _by_service(dep_svc, [sv.destination for sv in services]),
            "train_type": _by_service(dep_svc, [sv.train_type for sv in services]),
            "gate_group": deps.gate,
            "seats": np.array([sv.seats for sv in services], dtype=np.int64)[dep_svc],
            "passengers": dep_pax,
            "boarded": dep_boarded,
            "missed": dep_missed,
        },
        copy=False,
    )

    k = np.arange(n_slots)
    lanes_total = np.sum(bank.lanes, axis=0)
    base = math.floor(hour_offset)
    frac = hour_offset - base
    lanes_open = (1.0 - frac) * lanes_total[(k + base) % 24] + frac * lanes_total[
        (k + base + 1) % 24
    ]
    slot_len = np.minimum(k + 1.0, horizon_h) - k
    dep_slot = np.floor(dep_time).astype(np.int64)
    times = _wall_time(start, k.astype(float))
    count = np.nan_to_num(slot_wait[:, 0]).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        wait_mean = slot_wait[:, 1] / slot_wait[:, 0]
    hourly = pd.DataFrame(
        {
            "time": times,
            "day": k // 24,
            "hour_of_day": np.asarray(times.hour, dtype=np.int64),
            "arrivals": count,
            "wait_mean_min": wait_mean,
            "wait_p50_min": slot_wait[:, 2],
            "wait_p95_min": slot_wait[:, 3],
            "wait_max_min": slot_wait[:, 4],
            "queue": queue.sum / slot_len,
            "queue_max": queue.max.astype(np.int64),
            "hall_occupancy": hall.sum / slot_len,
            "hall_occupancy_max": hall.max.astype(np.int64),
            "lanes_open": lanes_open,
            "departures": np.bincount(dep_slot, minlength=n_slots)[:n_slots],
            "boarded": np.bincount(dep_slot, weights=dep_boarded, minlength=n_slots)[
                :n_slots
            ].astype(np.int64),
            "missed": np.bincount(dep_slot, weights=dep_missed, minlength=n_slots)[:n_slots].astype(
                np.int64
            ),
        },
        copy=False,
    )

    n = waits_min.n
    wait_mean_all = waits_min.total / n if n else 0.0
    wait_p95 = waits_min.quantile(0.95)  # within WaitHistogram.BIN_MIN of the exact p95
    n_missed = int(dep_missed.sum())
    kpis = {
        "pax.passengers": float(n),
        "pax.departures": float(dep_time.size),
        "pax.passengers_per_day": float(n) / (horizon_h / 24.0),
        "pax.boarded": float(n - n_missed),
        "pax.missed_departures": float(n_missed),
        "pax.missed_share": n_missed / n if n else 0.0,
        "pax.security_wait_min_mean": wait_mean_all,
        "pax.security_wait_min_p95": wait_p95,
        "pax.security_wait_min_max": waits_min.max,
        "pax.security_queue_max": float(queue.state[2]),
        "pax.hall_occupancy_max": float(hall.state[2]),
        "pax.hall_over_capacity_h": float(hall.state[3]),
        "pax.gate_wait_min_mean": 60.0 * gate_wait_sum_h / n_gate if n_gate else 0.0,
        "pax.missed_due_to_security": float(n_missed_queue),
        "pax.arrivals_before_start": float(n_before_start),
    }
    tables = {"pax_hourly": hourly, "pax_departures": departures}
    if records is not None:
        tables["passengers"] = _passenger_table(spec, start, deps, records, gate_records)
    return StationRun(kpis=kpis, tables=tables)


def _passenger_table(
    spec: StationSpec,
    start: datetime.datetime,
    deps: Departures,
    records: list[dict[str, np.ndarray]],
    gate_records: list[dict[str, np.ndarray]],
) -> pd.DataFrame:
    """One row per passenger, in passenger (generation) order."""
    cols = {k: np.concatenate([r[k] for r in records]) for k in records[0]} if records else {}
    if not cols:
        return pd.DataFrame()
    order = np.argsort(cols["pid"])
    cols = {k: v[order] for k, v in cols.items()}
    n = cols["pid"].size
    gate_arr = np.full(n, np.nan)
    gate_pass = np.full(n, np.nan)
    if gate_records:
        pid = np.concatenate([r["pid"] for r in gate_records])
        gate_arr[pid] = np.concatenate([r["g"] for r in gate_records])
        gate_pass[pid] = np.concatenate([r["p"] for r in gate_records])
    names = np.array([e.name for e in spec.entrances], dtype=object)
    a, s = cols["a"], cols["s"]
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
            "security_exit_h": s + cols["svc"],
            "gate_arrival_h": gate_arr,
            "gate_pass_h": gate_pass,
            "boarded": ~cols["missed"],
            "missed": cols["missed"],
        }
    )
