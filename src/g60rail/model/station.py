"""Songjiang HSR station passenger flow: vectorised arrivals and exact FIFO recursions.

A passenger belongs to one departure.  The model draws, per calendar day and vectorised,
the passengers of every departure, their arrival lead times, entrances and screening
times, then runs exact recursions (:mod:`g60rail.model.station_kernel`):

1. **Security.**  One FIFO queue per entrance with lanes opening and closing by the hour
   (semantics in :mod:`~g60rail.model.station_kernel`).  The wait is service start minus
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
departures of that day.  A day's passengers therefore depend on the seed, the date and the
spec only, not on the start of the run, and lanes or gates never shift them.

The run goes window by window (24 h of arrivals at a time), carrying the lanes' and gates'
state, so a year keeps only aggregates plus one float per passenger (for the exact
95th-percentile wait) unless passenger records are asked for.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

import numpy as np

from g60rail.model.station_demand import (
    DayPassengers,
    Timetable,
    day_passengers,
    expected_passengers,
)
from g60rail.model.station_kernel import (
    gate_fifo,
    gate_queue_order,
    next_open_table,
    security_fifo,
    step_integrate,
)
from g60rail.model.station_report import StationRun, assemble
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec

__all__ = ["StationRun", "day_passengers", "segment_wait_stats", "simulate_station"]

_INF = math.inf


def quantile_from_order_stats(x_lo: float, x_hi: float, vi: float) -> float:
    """``numpy.quantile`` (method 'linear') from the order statistics around index ``vi``."""
    g = vi - math.floor(vi)
    diff = x_hi - x_lo
    return x_hi - diff * (1.0 - g) if g >= 0.5 else x_lo + diff * g


def segment_wait_stats(slot: np.ndarray, wait: np.ndarray, out: np.ndarray) -> None:
    """Per slot: count, sum, p50, p95 (as ``numpy.quantile``) and maximum of the waits.

    Parameters
    ----------
    slot
        Slot of each wait, non-decreasing, each in ``[0, out.shape[0])``.
    wait
        Waits, aligned with ``slot``.
    out
        ``float64[n_slots, 5]``, columns count, sum, p50, p95, max; the rows of the slots
        present are overwritten.
    """
    if slot.size == 0:
        return
    cut = np.flatnonzero(slot[1:] != slot[:-1]) + 1
    starts = np.concatenate(([0], cut)).tolist()
    ends = np.concatenate((cut, [slot.size])).tolist()
    for s, e in zip(starts, ends, strict=True):
        seg = wait[s:e]
        m = e - s
        v50, v95 = (m - 1) * 0.5, (m - 1) * 0.95
        idx = [math.floor(v50), math.floor(v95)]
        kth = sorted({idx[0], min(idx[0] + 1, m - 1), idx[1], min(idx[1] + 1, m - 1), m - 1})
        part = np.partition(seg, kth)
        row = out[slot[s]]
        row[0] = m
        row[1] = float(np.sum(seg))
        row[2] = quantile_from_order_stats(part[idx[0]], part[min(idx[0] + 1, m - 1)], v50)
        row[3] = quantile_from_order_stats(part[idx[1]], part[min(idx[1] + 1, m - 1)], v95)
        row[4] = part[m - 1]


class _WaitSample:
    """Every wait of a run, compactly: zero waits are counted, positive ones kept."""

    def __init__(self, capacity: int) -> None:
        self.positive = _Growable(capacity)
        self.n = 0
        self.n_zero = 0
        self.total = 0.0
        self.max = 0.0

    def extend(self, wait: np.ndarray) -> None:
        pos = wait[wait > 0.0]
        self.positive.extend(pos)
        self.n += wait.size
        self.n_zero += wait.size - pos.size
        self.total += float(np.sum(pos))
        if pos.size:
            self.max = max(self.max, float(pos.max()))

    def quantile(self, q: float) -> float:
        """Exact ``numpy.quantile(all_waits, q)``; partitions the stored values in place."""
        if self.n == 0:
            return 0.0
        vi = (self.n - 1) * q
        lo = math.floor(vi)
        hi = min(lo + 1, self.n - 1)
        pos = self.positive.values()
        ranks = [r - self.n_zero for r in (lo, hi) if r >= self.n_zero]
        if ranks:
            pos.partition(sorted(set(ranks)))
        x = [0.0 if r < self.n_zero else float(pos[r - self.n_zero]) for r in (lo, hi)]
        return quantile_from_order_stats(x[0], x[1], vi)


class SecurityBank:
    """The security lanes of every entrance with their carried state."""

    def __init__(self, spec: StationSpec, hour_offset: float) -> None:
        self.hour_offset = hour_offset
        self.lanes = [np.asarray(e.security_lanes_per_hour, dtype=np.int64) for e in spec.entrances]
        self.next_open = [next_open_table(x) for x in self.lanes]
        self.free = [np.full(int(x.max()), -_INF) for x in self.lanes]

    def starts(
        self, arrival_h: np.ndarray, service_h: np.ndarray, entrance: np.ndarray
    ) -> np.ndarray:
        """Service start times [h] of passengers sorted by arrival."""
        start = np.empty_like(arrival_h)
        for e in range(len(self.lanes)):
            idx = np.flatnonzero(entrance == e)
            if idx.size:
                start[idx] = security_fifo(
                    arrival_h[idx],
                    service_h[idx],
                    self.lanes[e],
                    self.next_open[e],
                    self.hour_offset,
                    self.free[e],
                )
        return start


class _Pending:
    """Column arrays waiting until the window that contains their key time.

    With ``sorted_key`` every added part is sorted by the key, parts are cut with a
    binary search and a taken batch comes out sorted (stable: earlier parts first).
    """

    def __init__(self, key: str, *, sorted_key: bool = False) -> None:
        self.key = key
        self.sorted_key = sorted_key
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, **cols: np.ndarray) -> None:
        if cols[self.key].size:
            self.parts.append(cols)

    def take_before(self, t: float) -> dict[str, np.ndarray] | None:
        """Remove and return the rows whose key is ``< t`` (``None`` if there are none)."""
        taken: list[dict[str, np.ndarray]] = []
        rest: list[dict[str, np.ndarray]] = []
        for part in self.parts:
            keys = part[self.key]
            if self.sorted_key:
                i = int(np.searchsorted(keys, t, side="left"))
                now, later = slice(0, i), slice(i, None)
                n_now = i
            else:
                mask = keys < t
                now, later = mask, ~mask
                n_now = int(np.count_nonzero(mask))
            if n_now == keys.size:
                taken.append(part)
            elif n_now == 0:
                rest.append(part)
            else:
                taken.append({k: v[now] for k, v in part.items()})
                rest.append({k: v[later] for k, v in part.items()})
        self.parts = rest
        if not taken:
            return None
        if len(taken) == 1:
            return taken[0]
        cols = {k: np.concatenate([p[k] for p in taken]) for k in taken[0]}
        if self.sorted_key:
            order = np.argsort(cols[self.key], kind="stable")  # merges sorted runs
            cols = {k: v[order] for k, v in cols.items()}
        return cols

    def __bool__(self) -> bool:
        return bool(self.parts)


class _StepStats:
    """Hourly time-average and maximum of a counting process fed with +1/-1 event times."""

    def __init__(self, n_slots: int, capacity: float = _INF) -> None:
        self.up: list[np.ndarray] = []
        self.down: list[np.ndarray] = []
        self.state = np.array([0.0, -_INF, 0.0, 0.0])
        self.sum = np.zeros(n_slots)
        self.max = np.zeros(n_slots)
        self.capacity = capacity

    def add(self, up: np.ndarray | None = None, down: np.ndarray | None = None) -> None:
        if up is not None and up.size:
            self.up.append(up)
        if down is not None and down.size:
            self.down.append(down)

    @staticmethod
    def _split(parts: list[np.ndarray], t: float) -> tuple[np.ndarray, list[np.ndarray]]:
        if not parts:
            return np.empty(0), []
        x = np.concatenate(parts)
        now = x < t
        rest = x[~now]
        return np.sort(x[now]), ([rest] if rest.size else [])

    def flush(self, t: float) -> None:
        up, self.up = self._split(self.up, t)
        down, self.down = self._split(self.down, t)
        step_integrate(up, down, t, self.state, self.sum, self.max, self.capacity)

    def __bool__(self) -> bool:
        return bool(self.up or self.down)


class _Growable:
    """A float64 array appended to in chunks (capacity grows by a quarter)."""

    def __init__(self, capacity: int) -> None:
        self.data = np.empty(max(capacity, 1024))
        self.n = 0

    def extend(self, x: np.ndarray) -> None:
        need = self.n + x.size
        if need > self.data.size:
            bigger = np.empty(max(need, int(self.data.size * 1.25)))
            bigger[: self.n] = self.data[: self.n]
            self.data = bigger
        self.data[self.n : need] = x
        self.n = need

    def values(self) -> np.ndarray:
        return self.data[: self.n]


@dataclass
class _Departures:
    """Departures of the run so far, with per-departure counters."""

    time_h: list[np.ndarray] = field(default_factory=list)
    service: list[np.ndarray] = field(default_factory=list)
    gate: list[np.ndarray] = field(default_factory=list)
    passengers: list[np.ndarray] = field(default_factory=list)
    all_time_h: np.ndarray = field(default_factory=lambda: np.empty(0))
    all_gate: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    missed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def count(self) -> int:
        return int(self.all_time_h.size)

    def add(self, d: DayPassengers) -> int:
        """Append a day's departures; return the global index of its first."""
        first = self.count
        self.time_h.append(d.dep_time_h)
        self.service.append(d.dep_service)
        self.gate.append(d.dep_gate)
        self.passengers.append(d.dep_passengers)
        self.all_time_h = np.concatenate([self.all_time_h, d.dep_time_h])
        self.all_gate = np.concatenate([self.all_gate, d.dep_gate])
        self.missed = np.concatenate([self.missed, np.zeros(d.dep_time_h.size, np.int64)])
        return first


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
    deps = _Departures()
    sec_pending = _Pending("a", sorted_key=True)
    gate_pending = _Pending("g")
    queue = _StepStats(n_slots)
    hall = _StepStats(n_slots, capacity=float(spec.hall_capacity_pax))
    waits_min = _WaitSample(expected_passengers(spec, tt, all_days) // 4)
    slot_wait = np.full((n_slots, 5), np.nan)
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
                streams=streams,
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
            dep_t = deps.all_time_h[dep]
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
            deps.missed += np.bincount(dep[missed], minlength=deps.count)
            board = ~missed
            gate_pending.add(
                pid=b["pid"][board],
                g=gate_arr[board],
                reach=reach_h[board],
                grp=deps.all_gate[dep[board]],
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
