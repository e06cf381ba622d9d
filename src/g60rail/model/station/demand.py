"""Passengers of the Songjiang HSR station, drawn day by day and vectorised.

For each calendar day: the departures of the timetable, the passengers boarding each
departure (seats times a load factor around its mean, scaled by the day's weekday and peak
multipliers), how they split over the entrances, their arrival lead times and screening
times, and, when the station has exit gates, the passengers alighting from each train.

Random streams are per calendar date ``D`` (ISO format) and per source:

``pax.demand.D``
    boarding passengers per departure (Poisson, capped at ``seats * max_load_factor``);
``pax.entrances.D``
    their split over the entrances (multinomial per departure);
``pax.arrivals.D``
    arrival lead times: the planned ones (drawn again outside
    ``[arrival_lead_floor_min, arrival_lead_max_min]``), then who arrives late (one uniform
    per passenger) and the late lead times;
``pax.security.D``
    screening times;
``pax.alighting.D``
    alighting passengers per train (only with exit gates).

A day's passengers therefore depend on the seed, the date and the passenger inputs of the
spec only, never on the start or length of the run, on lanes, gates or exits.

Passengers of a day are numbered in *generation order*: entrance by entrance, within an
entrance departure by departure (in time order), within a departure in the order drawn.
The security queue of an entrance takes them by arrival time, ties in that order.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np

from g60rail.random import Streams, as_distribution
from g60rail.scenario.station_spec import StationSpec

__all__ = ["DayPassengers", "Timetable", "alighting_times", "arrival_order", "day_passengers"]


@dataclass(frozen=True)
class Timetable:
    """One day of departures, sorted by time of day (ties in service order).

    ``next_same`` is, for each departure, the index of the next departure of the day to
    the same destination (-1 for the last one); ``destination`` codes the destination by
    its rank among the sorted destination names (``destinations``).
    """

    time_of_day_h: np.ndarray
    service: np.ndarray
    gate_group: np.ndarray
    seats: np.ndarray
    mean_share: np.ndarray
    max_share: np.ndarray
    alight_share: np.ndarray
    dwell_h: np.ndarray
    destination: np.ndarray
    destinations: tuple[str, ...]
    next_same: np.ndarray

    @classmethod
    def of(cls, spec: StationSpec) -> Timetable:
        """The timetable of ``spec``."""
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
        services = spec.services
        names = tuple(sorted({s.destination for s in services}))
        dest = np.array([names.index(services[i].destination) for i in svc_a], dtype=np.int64)
        return cls(
            time_of_day_h=tod_a,
            service=svc_a,
            gate_group=np.arange(tod_a.size, dtype=np.int64) % spec.gates.groups,
            seats=np.array([services[i].seats for i in svc_a], dtype=float),
            mean_share=np.array([services[i].load_factor for i in svc_a]),
            max_share=np.array([services[i].max_load_factor for i in svc_a]),
            alight_share=np.array([services[i].alighting_share for i in svc_a]),
            dwell_h=np.array([services[i].dwell_min / 60.0 for i in svc_a]),
            destination=dest,
            destinations=names,
            next_same=next_same_destination(dest),
        )

    @property
    def capacity(self) -> np.ndarray:
        """Passengers one departure can carry from here, ``floor(seats * max_share)``."""
        return np.floor(self.seats * self.max_share).astype(np.int64)


def next_same_destination(dest: np.ndarray) -> np.ndarray:
    """Index of the next entry with the same code (-1 if none), for codes in list order."""
    out = np.full(dest.size, -1, dtype=np.int64)
    last: dict[int, int] = {}
    for i, d in enumerate(dest.tolist()):
        j = last.get(d)
        if j is not None:
            out[j] = i
        last[d] = i
    return out


@dataclass
class DayPassengers:
    """Departures of one calendar day inside the horizon and their passengers.

    Times are hours from the run's start.  Departure arrays (``dep_*``) list the day's
    departures in ``[0, horizon)`` in time order; ``dep_next`` indexes them (-1: none).
    The passengers of entrance ``e`` are ``arrival_h[e]``, ``service_h[e]``,
    ``departure[e]`` (index into the day's departures) and ``pid[e]`` (generation number
    within the day, see the module docstring), sorted by arrival time.
    """

    day: datetime.date
    dep_time_h: np.ndarray
    dep_service: np.ndarray
    dep_gate: np.ndarray
    dep_passengers: np.ndarray
    dep_capacity: np.ndarray
    dep_destination: np.ndarray
    dep_next: np.ndarray
    dep_alighting: np.ndarray
    dep_train_arrival_h: np.ndarray
    arrival_h: list[np.ndarray]
    service_h: list[np.ndarray]
    departure: list[np.ndarray]
    pid: list[np.ndarray]

    @property
    def size(self) -> int:
        """Departing passengers of the day (inside the horizon)."""
        return int(sum(a.size for a in self.arrival_h))

    def in_generation_order(self) -> dict[str, np.ndarray]:
        """All passengers as columns ``pid``, ``arrival_h``, ``service_h``, ``entrance``,
        ``departure``, in generation order (``pid`` ascending, renumbered from 0)."""
        pid = np.concatenate(self.pid)
        order = np.argsort(pid, kind="stable")
        ent = np.concatenate([np.full(a.size, e, np.int64) for e, a in enumerate(self.arrival_h)])
        cols = {
            "pid": pid,
            "arrival_h": np.concatenate(self.arrival_h),
            "service_h": np.concatenate(self.service_h),
            "entrance": ent,
            "departure": np.concatenate(self.departure),
        }
        out = {k: v[order] for k, v in cols.items()}
        out["pid"] = np.arange(pid.size, dtype=np.int64)
        return out


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
        Random streams; uses ``pax.{demand,entrances,arrivals,security,alighting}.<day>``.
    timetable
        Precomputed timetable of ``spec`` (optional, for speed).
    """
    tt = timetable if timetable is not None else Timetable.of(spec)
    tag = day.isoformat()
    mult = spec.day_multiplier(day)
    cap = tt.capacity
    n = np.minimum(streams.rng(f"pax.demand.{tag}").poisson(tt.seats * tt.mean_share * mult), cap)
    shares = np.array([e.share for e in spec.entrances])
    shares = shares / shares.sum()
    cells = streams.rng(f"pax.entrances.{tag}").multinomial(n, shares)  # [departure, entrance]
    counts = cells.T.ravel()  # entrance-major: the generation order
    total = int(counts.sum())
    n_dep = n.size
    dep_of = np.repeat(np.tile(np.arange(n_dep, dtype=np.int64), len(spec.entrances)), counts)
    lead_min = arrival_leads(spec, streams.rng(f"pax.arrivals.{tag}"), total)
    service_h = draw(spec.security.service_time_s, streams.rng(f"pax.security.{tag}"), total)
    service_h /= 3600.0
    if spec.exits is not None:
        mean_off = tt.seats * tt.alight_share * mult
        alight = np.minimum(streams.rng(f"pax.alighting.{tag}").poisson(mean_off), cap)
    else:
        alight = np.zeros(n_dep, dtype=np.int64)

    dep_time = day_start_h + tt.time_of_day_h
    keep_dep = (dep_time >= 0.0) & (dep_time < horizon_h)
    new_index = np.cumsum(keep_dep) - 1
    next_kept = np.where(tt.next_same >= 0, tt.next_same, 0)
    dep_next = np.where((tt.next_same >= 0) & keep_dep[next_kept], new_index[next_kept], -1)
    arrival = dep_time[dep_of] - lead_min / 60.0
    kept = keep_dep[dep_of]
    pid = np.cumsum(kept) - 1  # generation order among the passengers kept
    arr_e, svc_e, dep_e, pid_e = [], [], [], []
    bounds = np.concatenate(([0], np.cumsum(cells.sum(axis=0))))
    all_kept = bool(kept.all())
    for e in range(len(spec.entrances)):
        sl = slice(int(bounds[e]), int(bounds[e + 1]))
        a, svc, dep, ids = arrival[sl], service_h[sl], new_index[dep_of[sl]], pid[sl]
        if not all_kept:
            k = kept[sl]
            a, svc, dep, ids = a[k], svc[k], dep[k], ids[k]
        order, a_sorted = arrival_order(a, with_sorted=True)
        arr_e.append(a_sorted)
        svc_e.append(svc[order])
        dep_e.append(dep[order])
        pid_e.append(ids[order])
    return DayPassengers(
        day=day,
        dep_time_h=dep_time[keep_dep],
        dep_service=tt.service[keep_dep],
        dep_gate=tt.gate_group[keep_dep],
        dep_passengers=n[keep_dep],
        dep_capacity=cap[keep_dep],
        dep_destination=tt.destination[keep_dep],
        dep_next=dep_next[keep_dep],
        dep_alighting=alight[keep_dep],
        dep_train_arrival_h=(dep_time - tt.dwell_h)[keep_dep],
        arrival_h=arr_e,
        service_h=svc_e,
        departure=dep_e,
        pid=pid_e,
    )


def draw(spec: object, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` draws of a distribution spec as a float array (a fresh, writable array)."""
    dist = as_distribution(spec)  # type: ignore[arg-type]
    return np.asarray(dist.draw(rng, size), dtype=float)


def arrival_leads(spec: StationSpec, rng: np.random.Generator, size: int) -> np.ndarray:
    """Arrival lead times [min] of ``size`` passengers, from one stream (``pax.arrivals.D``).

    Planned lead times come from ``arrival_lead_min``; values outside
    ``[arrival_lead_floor_min, arrival_lead_max_min]`` are drawn again (in order, from the
    same stream; after 50 rounds any left are clipped into the interval).  Then one uniform
    per passenger decides who is late (probability ``late_arrival_share``); the late ones
    get a lead time from ``late_arrival_lead_min`` instead (capped at
    ``arrival_lead_max_min``: nobody arrives earlier than that).
    """
    dist = as_distribution(spec.arrival_lead_min)
    lo, hi = spec.arrival_lead_floor_min, spec.arrival_lead_max_min
    x = np.asarray(dist.draw(rng, size), dtype=float)
    for _ in range(50):
        bad = np.flatnonzero((x > hi) | (x < lo))
        if bad.size == 0:
            break
        x[bad] = dist.draw(rng, bad.size)
    else:
        np.clip(x, lo, hi, out=x)
    if spec.late_arrival_share > 0.0 and size:
        late = np.flatnonzero(rng.random(size) < spec.late_arrival_share)
        if late.size:
            x[late] = np.minimum(draw(spec.late_arrival_lead_min, rng, late.size), hi)
    return x


def arrival_order(arrival_h: np.ndarray, *, with_sorted: bool = False) -> Any:
    """Stable sorting order of arrival times (ties keep generation order); with
    ``with_sorted`` also the sorted times."""
    order = np.argsort(arrival_h)
    srt = arrival_h[order]
    if srt.size > 1 and np.any(srt[1:] == srt[:-1]):
        order = np.argsort(arrival_h, kind="stable")
        srt = arrival_h[order]
    return (order, srt) if with_sorted else order


def alighting_times(d: DayPassengers, walk_h: float, clear_h: float) -> np.ndarray:
    """Times [h] the alighting passengers of a day's trains reach the exit gates, sorted.

    Passenger ``k`` of the ``m`` alighting from a train that stops at ``t`` reaches them at
    ``t + walk_h + clear_h * (k + 0.5) / m``.
    """
    m = d.dep_alighting
    total = int(m.sum())
    if total == 0:
        return np.empty(0)
    first = np.repeat(np.cumsum(m) - m, m)
    k = np.arange(total, dtype=float) - first
    t = np.repeat(d.dep_train_arrival_h + walk_h, m)
    t += clear_h * (k + 0.5) / np.repeat(m, m)
    t.sort()
    return t
