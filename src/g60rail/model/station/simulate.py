"""Songjiang HSR station passenger flow: vectorised arrivals and exact FIFO recursions.

A passenger belongs to one departure.  The model draws, per calendar day and vectorised,
the passengers of every departure, their arrival lead times, entrances and screening
times, then runs exact recursions (:mod:`g60rail.model.station.kernel`):

1. **Security.**  One FIFO queue per entrance with lanes opening and closing by the hour
   (semantics in :mod:`~g60rail.model.station.kernel`).  The wait is service start minus
   arrival.
2. **Waiting hall.**  After screening the passenger walks ``walk_to_gate_min`` to the
   ticket gates.  Reaching them after they closed (``close_min_before_departure``) means
   the train is missed; the passenger leaves the hall there.  Otherwise the passenger waits
   until the gates open and joins the FIFO queue of the train's gate group, a single
   deterministic server passing ``passengers_per_min``; someone in that queue when the
   gates close is still let through (boarded).  Passengers in the same instant at the gate
   (everyone waiting for the opening) queue in the order they reached the gate area.
   Hall occupancy counts passengers from the end of screening until they pass the gate (or
   find it closed); it is measured against ``hall_capacity_pax`` but does not block entry.
3. **Gate groups** are assigned to the departures of each day in turn, in time order.

Time is in hours from ``start`` (a naive wall-clock datetime).  The run covers the
departures in ``[0, 24 * days)`` h; their passengers are all simulated, including those
who arrive before ``start`` for an early departure (the station is empty before the first
of them arrives), and they count in the KPIs and the departures table; the hourly table
covers ``[0, ceil(24 * days))`` h only.  Departures after the horizon are not simulated,
so their early passengers are absent from the last hours.

Random numbers: for calendar day ``D`` the streams ``pax.demand.D``, ``pax.arrivals.D``,
``pax.entrances.D`` and ``pax.security.D`` (``D`` in ISO format) draw, in that order of
use, the passengers per departure, lead times, entrances and screening times of all
departures of that day, each from its beginning (generators of ``Streams(seed)``, made per
day and dropped with it, not cached in the caller's ``streams``).  A day's passengers
therefore depend on the seed, the date and the spec only, not on the start of the run, and
lanes or gates never shift them.

The run goes window by window (24 h of arrivals at a time), carrying the lanes' and gates'
state.  Unless passenger records are asked for, nothing is kept per passenger: memory holds
the hourly and per-departure tables (outputs, linear in the horizon) and fixed-size
aggregates, so ten years need about as much as one.  The whole-run security wait statistics
are streamed (:class:`WaitHistogram`): the mean and maximum are exact, the 95th percentile
is within ``1/6000`` min (0.01 s) of ``numpy.quantile`` of all waits.  The hourly p50/p95
(``pax_hourly``) are exact, each computed on its hour's waits.
"""

from __future__ import annotations

import datetime
import math

import numpy as np

from g60rail.model.station.demand import Timetable, day_passengers
from g60rail.model.station.kernel import gate_fifo, gate_queue_order
from g60rail.model.station.records import (
    Departures,
    Pending,
    SecurityBank,
    StepStats,
    WaitHistogram,
    segment_wait_stats,
)
from g60rail.model.station.report import StationRun, assemble
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec

__all__ = ["StationRun", "simulate_station"]

_INF = math.inf


def simulate_station(
    spec: StationSpec,
    *,
    start: datetime.datetime,
    days: float,
    streams: Streams,
    record_passengers: bool = False,
) -> StationRun:
    """Simulate the station's passengers for ``days`` days from ``start``.

    Parameters
    ----------
    spec
        The station.
    start
        Naive wall-clock datetime of hour 0.
    days
        Length of the run [days]; departures in ``[0, 24 * days)`` h are simulated.
    streams
        Random streams of the run (``pax.*`` names, see the module docstring).
    record_passengers
        Also return the table ``passengers`` with one row per passenger.

    Returns
    -------
    StationRun
        KPIs and the tables ``pax_hourly``, ``pax_departures`` (and ``passengers``).
    """
    if not days > 0 or not math.isfinite(days):
        raise ValueError(f"days must be a positive number, got {days!r}")
    if start.tzinfo is not None:
        raise ValueError("start must be a naive datetime (wall-clock time)")
    horizon_h = 24.0 * float(days)
    n_slots = math.ceil(horizon_h)
    midnight = datetime.datetime.combine(start.date(), datetime.time())
    hour_offset = (start - midnight).total_seconds() / 3600.0
    tt = Timetable.of(spec)
    lead_max_h = spec.arrival_lead_max_min / 60.0
    walk_h = spec.walk_to_gate_min / 60.0
    open_h = spec.gates.open_min_before_departure / 60.0
    close_h = spec.gates.close_min_before_departure / 60.0
    gate_service_h = 1.0 / (60.0 * spec.gates.passengers_per_min)
    n_days_cal = math.ceil((hour_offset + horizon_h) / 24.0)
    all_days = [start.date() + datetime.timedelta(days=i) for i in range(n_days_cal)]

    bank = SecurityBank(spec, hour_offset)
    deps = Departures(tt.time_of_day_h.size * n_days_cal)
    sec_pending = Pending("a", sorted_key=True)
    gate_pending = Pending("g")
    queue = StepStats(n_slots)
    hall = StepStats(n_slots, capacity=float(spec.hall_capacity_pax))
    waits_min = WaitHistogram()
    slot_wait = np.full((n_slots, 5), np.nan, order="F")  # columns go to the table as is
    last_pass = np.full(spec.gates.groups, -_INF)
    gate_wait_sum_h = 0.0
    n_gate = 0
    n_before_start = 0
    n_missed_queue = 0
    n_pax = 0
    records: list[dict[str, np.ndarray]] = []
    gate_records: list[dict[str, np.ndarray]] = []

    next_day = 0
    window = 0
    while True:
        w_end = 24.0 * (window + 1)
        while next_day < n_days_cal and 24.0 * next_day - hour_offset < min(
            w_end + lead_max_h, horizon_h
        ):
            d = day_passengers(
                spec,
                all_days[next_day],
                day_start_h=24.0 * next_day - hour_offset,
                horizon_h=horizon_h,
                # a fresh Streams per day (see the module docstring): its four generators
                # are dropped with the day instead of being cached for the whole run
                streams=Streams(streams.seed),
                timetable=tt,
            )
            first = deps.add(d)
            pid = np.arange(n_pax, n_pax + d.arrival_h.size, dtype=np.int64)
            n_pax += d.arrival_h.size
            sec_pending.add(
                pid=pid,
                dep=d.departure + first,
                a=d.arrival_h,
                svc=d.service_h,
                ent=d.entrance,
            )
            next_day += 1

        b = sec_pending.take_before(w_end)
        if b is not None:
            a, svc, dep = b["a"], b["svc"], b["dep"]
            s = bank.starts(a, svc, b["ent"])
            wait_h = s - a
            exit_h = s + svc
            reach_h = exit_h + walk_h
            dep_t = deps.time_h[dep]
            missed = reach_h > dep_t - close_h
            gate_arr = np.maximum(reach_h, dep_t - open_h)
            waits_min.extend(wait_h * 60.0)
            n_before_start += int(np.count_nonzero(a < 0.0))
            # missed, but would have made it without waiting at security
            in_time = a + svc + walk_h <= dep_t - close_h
            n_missed_queue += int(np.count_nonzero(missed & in_time))
            slot = np.floor(a).astype(np.int64)
            ok = (slot >= 0) & (slot < n_slots)
            segment_wait_stats(slot[ok], wait_h[ok] * 60.0, slot_wait)
            queue.add(up=a, down=s)
            hall.add(up=exit_h, down=reach_h[missed])
            deps.count_missed(dep[missed])
            board = ~missed
            gate_pending.add(
                pid=b["pid"][board],
                g=gate_arr[board],
                reach=reach_h[board],
                grp=deps.gate[dep[board]],
                dep=dep[board],
            )
            if record_passengers:
                records.append({**b, "s": s, "missed": missed})

        gb = gate_pending.take_before(w_end)
        if gb is not None:
            order = gate_queue_order(
                np.argsort(gb["reach"]),
                gb["grp"],
                gb["dep"],
                gb["g"],
                gb["reach"],
                spec.gates.groups,
            )
            g, grp = gb["g"][order], gb["grp"][order]
            p = gate_fifo(g, grp, gate_service_h, last_pass)
            hall.add(down=p)
            gate_wait_sum_h += float(np.sum(p - gate_service_h - g))
            n_gate += p.size
            if record_passengers:
                gate_records.append({"pid": gb["pid"][order], "g": g, "p": p})

        queue.flush(w_end)
        hall.flush(w_end)
        if next_day >= n_days_cal and not (sec_pending or gate_pending or queue or hall):
            break
        window += 1

    return assemble(
        spec,
        start=start,
        horizon_h=horizon_h,
        hour_offset=hour_offset,
        bank=bank,
        deps=deps,
        queue=queue,
        hall=hall,
        waits_min=waits_min,
        slot_wait=slot_wait,
        gate_wait_sum_h=gate_wait_sum_h,
        n_gate=n_gate,
        n_before_start=n_before_start,
        n_missed_queue=n_missed_queue,
        records=records if record_passengers else None,
        gate_records=gate_records,
    )
