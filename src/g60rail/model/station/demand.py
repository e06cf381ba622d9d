"""Passengers of the Songjiang HSR station, drawn day by day and vectorised.

For each calendar day: the departures of the timetable, the passengers of each departure
(seats times a load factor around its mean, scaled by the day's weekday and peak
multipliers), their arrival lead times (redrawn above the maximum), entrances and
screening times.  Random streams are per calendar date (``pax.demand.D``,
``pax.arrivals.D``, ``pax.entrances.D``, ``pax.security.D``), so a day's passengers do not
depend on the start of the run or on any capacity.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from g60rail.random import Streams, as_distribution
from g60rail.scenario.station_spec import StationSpec

__all__ = ["DayPassengers", "Timetable", "day_passengers", "expected_passengers"]


@dataclass(frozen=True)
class Timetable:
    """One day of departures, sorted by time of day (ties in service order)."""

    time_of_day_h: np.ndarray
    service: np.ndarray
    gate_group: np.ndarray
    seats: np.ndarray
    mean_share: np.ndarray
    max_share: np.ndarray

    @classmethod
    def of(cls, spec: StationSpec) -> Timetable:
        tod: list[float] = []
        svc: list[int] = []
        for i, s in enumerate(spec.services):
            times = s.times_of_day_h()
            tod.extend(times)
            svc.extend([i] * len(times))
        tod_a = np.asarray(tod, dtype=float)
        svc_a = np.asarray(svc, dtype=np.int64)
        order = np.lexsort((svc_a, tod_a))
        tod_a, svc_a = tod_a[order], svc_a[order]
        seats = np.array([spec.services[i].seats for i in svc_a], dtype=float)
        return cls(
            time_of_day_h=tod_a,
            service=svc_a,
            gate_group=np.arange(tod_a.size, dtype=np.int64) % spec.gates.groups,
            seats=seats,
            mean_share=np.array([spec.services[i].load_factor for i in svc_a]),
            max_share=np.array([spec.services[i].max_load_factor for i in svc_a]),
        )


@dataclass
class DayPassengers:
    """Departures of one calendar day inside the horizon and their passengers.

    Times are hours from the run's start.  Passenger arrays are grouped by departure,
    in departure order; ``departure`` indexes the day's departure arrays.
    """

    day: datetime.date
    dep_time_h: np.ndarray
    dep_service: np.ndarray
    dep_gate: np.ndarray
    dep_passengers: np.ndarray
    departure: np.ndarray
    arrival_h: np.ndarray
    entrance: np.ndarray
    service_h: np.ndarray


def day_passengers(
    spec: StationSpec,
    day: datetime.date,
    *,
    day_start_h: float,
    horizon_h: float,
    streams: Streams,
    timetable: Timetable | None = None,
) -> DayPassengers:
    """Draw the passengers of the departures of ``day`` that lie in ``[0, horizon_h)``.

    Parameters
    ----------
    spec
        The station.
    day
        Calendar day of the departures.
    day_start_h
        Midnight of ``day`` in hours from the run's start.
    horizon_h
        End of the run [h]; departures at or after it (or before 0) are dropped after
        drawing, so a day's draws do not depend on the horizon.
    streams
        Random streams; uses ``pax.{demand,arrivals,entrances,security}.<day>``.
    timetable
        Precomputed timetable of ``spec`` (optional, for speed).
    """
    tt = timetable if timetable is not None else Timetable.of(spec)
    tag = day.isoformat()
    mult = spec.day_multiplier(day)
    mean = tt.seats * tt.mean_share * mult
    cap = np.floor(tt.seats * tt.max_share).astype(np.int64)
    n = np.minimum(streams.rng(f"pax.demand.{tag}").poisson(mean), cap)
    total = int(n.sum())
    dep_local = np.repeat(np.arange(n.size, dtype=np.int64), n)
    lead_min = _truncated_draw(
        spec, streams.rng(f"pax.arrivals.{tag}"), total, spec.arrival_lead_max_min
    )
    cum = np.cumsum([e.share for e in spec.entrances])
    u = streams.rng(f"pax.entrances.{tag}").random(total)
    entrance = np.zeros(total, dtype=np.int64)  # = searchsorted(cum, u, "right"), capped
    for c in cum[:-1]:
        entrance += u >= c
    service_s = as_distribution(spec.security.service_time_s).draw(
        streams.rng(f"pax.security.{tag}"), total
    )
    dep_time = day_start_h + tt.time_of_day_h
    keep_dep = (dep_time >= 0.0) & (dep_time < horizon_h)
    keep = keep_dep[dep_local]
    new_index = np.cumsum(keep_dep) - 1
    arrival = (dep_time[dep_local] - lead_min / 60.0)[keep]
    order = arrival_order(arrival)
    return DayPassengers(
        day=day,
        dep_time_h=dep_time[keep_dep],
        dep_service=tt.service[keep_dep],
        dep_gate=tt.gate_group[keep_dep],
        dep_passengers=n[keep_dep],
        departure=new_index[dep_local[keep]][order],
        arrival_h=arrival[order],
        entrance=entrance[keep][order],
        service_h=(np.asarray(service_s, dtype=float)[keep] / 3600.0)[order],
    )


def _truncated_draw(
    spec: StationSpec, rng: np.random.Generator, size: int, upper: float
) -> np.ndarray:
    """Arrival lead times [min] drawn from the spec's distribution truncated to ``upper``.

    Values above ``upper`` are drawn again (in order, from the same stream); after 50
    rounds any left are set to ``upper``.
    """
    dist = as_distribution(spec.arrival_lead_min)
    x = np.asarray(dist.draw(rng, size), dtype=float)
    for _ in range(50):
        over = np.flatnonzero(x > upper)
        if over.size == 0:
            return x
        x[over] = dist.draw(rng, over.size)
    np.minimum(x, upper, out=x)
    return x


def arrival_order(arrival_h: np.ndarray) -> np.ndarray:
    """Stable sorting order of arrival times (ties keep generation order)."""
    order = np.argsort(arrival_h)
    srt = arrival_h[order]
    if srt.size > 1 and np.any(srt[1:] == srt[:-1]):
        order = np.argsort(arrival_h, kind="stable")
    return order


def expected_passengers(spec: StationSpec, tt: Timetable, days: list[datetime.date]) -> int:
    per_dep = np.minimum(tt.seats * tt.mean_share, np.floor(tt.seats * tt.max_share))
    base = float(per_dep.sum())
    return int(sum(base * spec.day_multiplier(d) for d in days) * 1.02) + 10_000
