"""Running records of the station's passenger flow, kept in bounded memory.

:class:`SecurityBank` holds the lanes' and queues' state between windows, :class:`Pending`
the passengers drawn but not yet processed, :class:`StepStats` the hourly integrals of the
hall's occupancy, :class:`Departures` the departures with their gate, seat and outcome
counters and :class:`WaitHistogram` the whole-run distribution of a wait.
"""

from __future__ import annotations

import math

import numpy as np

from g60rail.model.station.demand import DayPassengers
from g60rail.model.station.gates import COUNTS
from g60rail.model.station.kernel import next_open_table, security_fifo, step_integrate
from g60rail.model.station.queues import exit_fifo, flush_queue, queue_integrate, security_pass
from g60rail.scenario.station_spec import ExitGates, StationSpec

__all__ = [
    "Departures",
    "ExitBank",
    "Growable",
    "Pending",
    "SecurityBank",
    "StepStats",
    "WaitHistogram",
    "quantile_from_order_stats",
    "segment_wait_stats",
]

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


class WaitHistogram:
    """Streaming whole-run distribution of the security waits [min], in bounded memory.

    Zero waits are counted.  Positive waits below ``cap_min`` fall in fixed-width bins of
    ``BIN_MIN = 1/6000`` min (0.01 s), counted in an ``int64`` array that grows (by
    doubling) only as far as the longest wait seen, at most ``cap_min / BIN_MIN`` bins
    (11.5 MB at the default cap of 240 min).  Waits of ``cap_min`` or more are kept exactly
    (8 bytes each); they only occur while the station is hours behind its demand, which a
    calibrated station never is.  The count, sum (hence mean) and maximum are exact.

    :meth:`quantile` follows ``numpy.quantile`` (method 'linear'): each order statistic it
    needs is exact if it is zero or above the cap, and otherwise is placed inside its bin
    by linear interpolation over the bin's count (and clipped to the maximum), so it lies
    in the same bin as the exact value.  The quantile, a convex combination of two such
    estimates, is within ``BIN_MIN`` of the exact one (up to rounding of the bin index,
    ~1e-16 relative).
    """

    BIN_MIN = 1.0 / 6000.0
    CAP_MIN = 240.0

    def __init__(self, cap_min: float = CAP_MIN) -> None:
        self.n_bins = max(1, math.ceil(cap_min / self.BIN_MIN))
        self.cap_min = self.n_bins * self.BIN_MIN
        self.counts = np.zeros(min(self.n_bins, 1 << 14), dtype=np.int64)
        self.over: list[np.ndarray] = []  # waits >= cap_min, exact
        self.n = 0
        self.n_zero = 0
        self.total = 0.0
        self.max = 0.0

    def extend(self, wait: np.ndarray) -> None:
        """Add waits [min] (non-negative)."""
        pos = wait[wait > 0.0]
        self.extend_positive(pos, wait.size - pos.size)

    def extend_positive(self, pos: np.ndarray, n_zero: int) -> None:
        """Add positive waits [min] and a number of zero waits."""
        self.n += pos.size + n_zero
        self.n_zero += n_zero
        if not pos.size:
            return
        self.total += float(np.sum(pos))
        self.max = max(self.max, float(pos.max()))
        big = pos >= self.cap_min
        if big.any():
            self.over.append(pos[big])
            pos = pos[~big]
            if not pos.size:
                return
        idx = np.minimum((pos * (1.0 / self.BIN_MIN)).astype(np.int64), self.n_bins - 1)
        lo = int(idx.min())
        add = np.bincount(idx - lo)
        end = lo + add.size
        if end > self.counts.size:
            grown = np.zeros(min(self.n_bins, max(end, 2 * self.counts.size)), np.int64)
            grown[: self.counts.size] = self.counts
            self.counts = grown
        self.counts[lo:end] += add

    def _order_stats(self, ranks: list[int]) -> list[float]:
        """Estimates of the order statistics of the given 0-based ranks (ascending)."""
        cum = np.cumsum(self.counts)
        n_binned = int(cum[-1]) if cum.size else 0
        over = np.sort(np.concatenate(self.over)) if self.over else np.empty(0)
        out = []
        for r in ranks:
            if r < self.n_zero:
                out.append(0.0)
                continue
            r -= self.n_zero
            if r >= n_binned:
                out.append(float(over[r - n_binned]))
                continue
            b = int(np.searchsorted(cum, r, side="right"))  # first bin with cum > r
            below = int(cum[b - 1]) if b else 0
            frac = (r - below + 0.5) / int(self.counts[b])
            x = (b + frac) * self.BIN_MIN
            out.append(min(x, self.max))
        return out

    def quantile(self, q: float) -> float:
        """``numpy.quantile(all_waits, q)`` to within ``BIN_MIN`` (see the class)."""
        if self.n == 0:
            return 0.0
        vi = (self.n - 1) * q
        lo = math.floor(vi)
        hi = min(lo + 1, self.n - 1)
        x_lo, x_hi = self._order_stats([lo, hi])
        return quantile_from_order_stats(x_lo, x_hi, vi)


class SecurityBank:
    """The security lanes of every entrance with their carried state and queue records.

    :meth:`starts` runs the plain recursion; :meth:`stream` also integrates the queue
    length of the entrance per hour slot (``q_sum``, ``q_max``) and carries the starts of
    passengers still queuing at the end of a batch.
    """

    def __init__(self, spec: StationSpec, hour_offset: float, n_slots: int = 0) -> None:
        self.hour_offset = hour_offset
        self.lanes = [np.asarray(e.security_lanes_per_hour, dtype=np.int64) for e in spec.entrances]
        self.next_open = [next_open_table(x) for x in self.lanes]
        self.free = [np.full(int(x.max()), -_INF) for x in self.lanes]
        n_ent = len(self.lanes)
        self.q_state = np.zeros((n_ent, 4))
        self.q_state[:, 1] = -_INF
        self.q_sum = np.zeros((n_ent, n_slots))
        self.q_max = np.zeros((n_ent, n_slots))
        self.carry = [np.empty(0) for _ in range(n_ent)]

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

    def stream(
        self,
        e: int,
        arrival_h: np.ndarray,
        service_h: np.ndarray,
        bound: float,
        acc: np.ndarray,
        departure: np.ndarray,
        close_h: np.ndarray,
        walk_h: float,
    ) -> tuple[np.ndarray, ...]:
        """Security of entrance ``e``'s next passengers (sorted by arrival, all before
        ``bound``): see :func:`~g60rail.model.station.queues.security_pass`, whose first
        six results it returns (starts, exits, reach, late flags, slots and waits of those
        who wait); the queue length is integrated up to ``bound``."""
        out = security_pass(
            arrival_h,
            service_h,
            self.lanes[e],
            self.next_open[e],
            self.hour_offset,
            self.free[e],
            acc,
            departure,
            close_h,
            walk_h,
        )
        self.carry[e] = queue_integrate(
            out[6], out[7], self.carry[e], bound, self.q_state[e], self.q_sum[e], self.q_max[e]
        )
        return out[:6]

    def finish(self) -> None:
        """End of the run: the passengers still queuing start service."""
        for e in range(len(self.lanes)):
            flush_queue(self.carry[e], self.q_state[e], self.q_sum[e], self.q_max[e])
            self.carry[e] = np.empty(0)


class ExitBank:
    """The exit gates with their carried state and queue records (see
    :func:`~g60rail.model.station.queues.exit_fifo`)."""

    def __init__(self, exits: ExitGates, n_slots: int) -> None:
        self.service_h = 1.0 / (60.0 * exits.passengers_per_min)
        self.ring = np.full(exits.gates, -_INF)
        self.pos = np.zeros(1, np.int64)
        self.carry = np.empty(0)
        self.q_state = np.array([0.0, -_INF, 0.0, 0.0])
        self.q_sum = np.zeros(n_slots)
        self.q_max = np.zeros(n_slots)

    def stream(
        self, reach_h: np.ndarray, bound: float, acc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Service starts [h] of the next passengers (sorted by the time they reach the
        gates, all before ``bound``) and the waits [min] of those who wait; arrivals and
        waits are summarised per hour slot into ``acc`` (see
        :func:`~g60rail.model.station.queues.exit_fifo`) and the queue length is
        integrated up to ``bound``."""
        start, wait, ups, downs = exit_fifo(reach_h, self.service_h, self.ring, self.pos, acc)
        self.carry = queue_integrate(
            ups, downs, self.carry, bound, self.q_state, self.q_sum, self.q_max
        )
        return start, wait

    def finish(self) -> None:
        """End of the run: the passengers still queuing start service."""
        flush_queue(self.carry, self.q_state, self.q_sum, self.q_max)
        self.carry = np.empty(0)


class Pending:
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
                now: slice | np.ndarray = slice(0, i)
                later: slice | np.ndarray = slice(i, None)
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


class StepStats:
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
        x = np.sort(np.concatenate(parts) if len(parts) > 1 else parts[0])
        k = int(np.searchsorted(x, t, side="left"))
        return x[:k], ([x[k:]] if k < x.size else [])

    def flush(self, t: float) -> None:
        up, self.up = self._split(self.up, t)
        down, self.down = self._split(self.down, t)
        step_integrate(up, down, t, self.state, self.sum, self.max, self.capacity)

    def __bool__(self) -> bool:
        return bool(self.up or self.down)


class Growable:
    """A 1-D array appended to in chunks, in place up to its initial capacity, which
    doubles when exceeded (so appending is linear time in any case)."""

    def __init__(self, dtype: type, capacity: int = 1024) -> None:
        self.data: np.ndarray = np.empty(max(capacity, 16), dtype=dtype)
        self.n = 0

    def extend(self, x: np.ndarray) -> None:
        need = self.n + x.size
        if need > self.data.size:
            bigger = np.empty(max(need, 2 * self.data.size), dtype=self.data.dtype)
            bigger[: self.n] = self.data[: self.n]
            self.data = bigger
        self.data[self.n : need] = x
        self.n = need

    def values(self) -> np.ndarray:
        """The array so far (a view; valid until the next :meth:`extend`)."""
        return self.data[: self.n]


class Departures:
    """Departures of the run so far, with their gate, seat and outcome counters.

    The columns are allocated once for ``capacity`` departures (the timetable's count
    times the calendar days touched, an upper bound), so a long run neither copies them
    nor holds slack.  ``ints`` holds per departure the gate group, the next departure to
    the same destination that day (-1), the seats ``floor(seats * max_load_factor)``, the
    passengers booked (own plus rebooked) and whether its gates have closed; ``counts``
    the outcome counters named by :data:`~g60rail.model.station.gates.COUNTS`.
    """

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(capacity, 1)
        self.count = 0
        self._time_h = np.empty(capacity)
        self._service = np.empty(capacity, np.int32)
        self._passengers = np.empty(capacity, np.int64)
        self._alighting = np.empty(capacity, np.int64)
        self._train_arrival_h = np.empty(capacity)
        self._ints = np.zeros((capacity, 5), np.int64)
        self._counts = np.zeros((capacity, len(COUNTS)), np.int64)

    @property
    def time_h(self) -> np.ndarray:
        return self._time_h[: self.count]

    @property
    def service(self) -> np.ndarray:
        return self._service[: self.count]

    @property
    def gate(self) -> np.ndarray:
        return self._ints[: self.count, 0]

    @property
    def passengers(self) -> np.ndarray:
        return self._passengers[: self.count]

    @property
    def alighting(self) -> np.ndarray:
        return self._alighting[: self.count]

    @property
    def train_arrival_h(self) -> np.ndarray:
        return self._train_arrival_h[: self.count]

    @property
    def ints(self) -> np.ndarray:
        """The full ``int64[capacity, 5]`` array (rows beyond :attr:`count` unused)."""
        return self._ints

    @property
    def times_all(self) -> np.ndarray:
        """The full departure-time array (rows beyond :attr:`count` unused)."""
        return self._time_h

    @property
    def counts_all(self) -> np.ndarray:
        """The full counter array (rows beyond :attr:`count` unused)."""
        return self._counts

    def counts(self, name: str) -> np.ndarray:
        """One counter per departure (see :data:`~g60rail.model.station.gates.COUNTS`)."""
        return self._counts[: self.count, COUNTS.index(name)]

    @property
    def missed(self) -> np.ndarray:
        """Own passengers who missed the departure, whatever the cause."""
        c = self._counts[: self.count]
        return c[:, 1] + c[:, 2] + c[:, 3]

    def add(self, d: DayPassengers) -> int:
        """Append a day's departures; return the global index of its first."""
        first = self.count
        end = first + d.dep_time_h.size
        if end > self._time_h.size:
            self._grow(end)
        sl = slice(first, end)
        self._time_h[sl] = d.dep_time_h
        self._service[sl] = d.dep_service
        self._passengers[sl] = d.dep_passengers
        self._alighting[sl] = d.dep_alighting
        self._train_arrival_h[sl] = d.dep_train_arrival_h
        ints = self._ints[sl]
        ints[:, 0] = d.dep_gate
        ints[:, 1] = np.where(d.dep_next >= 0, d.dep_next + first, -1)
        ints[:, 2] = d.dep_capacity
        ints[:, 3] = d.dep_passengers
        ints[:, 4] = 0
        self.count = end
        return first

    def _grow(self, need: int) -> None:
        size = max(need, 2 * self._time_h.size)
        for name in ("_time_h", "_service", "_passengers", "_alighting", "_train_arrival_h"):
            old = getattr(self, name)
            new = np.empty(size, old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)
        for name in ("_ints", "_counts"):
            old = getattr(self, name)
            new = np.zeros((size, old.shape[1]), old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)
