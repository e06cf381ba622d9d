"""Compiled kernels of the station model: the security lanes' FIFO recursion and the
integration of counting processes (queue lengths, hall occupancy) by hour slot.

Time is in hours from the run's start.  The security lanes of one entrance follow a daily
staffing plan ``lanes_by_hour`` (24 integers, 00:00 first); ``hour_offset`` is the
wall-clock time of day of hour 0 in hours (``6.5`` when the run starts at 06:30).  The
wall-clock hour with absolute index ``m`` (counted from midnight of the start date, so it
may be negative or exceed 23) occupies ``[m - hour_offset, m + 1 - hour_offset)`` and has
``lanes_by_hour[m mod 24]`` lanes open; :func:`slot_start_h` gives its start.

Lane semantics (the SimPy reference in the tests implements the same):

* Lanes are numbered ``0, 1, ...``; in an hour with ``c`` lanes open, lanes ``0 .. c-1``
  are open and the others closed.
* A lane that closes while screening a passenger finishes that passenger, then takes no
  one until it is open again.  A lane that opens is available at the opening instant.
* One FIFO queue per entrance: whenever the passenger at the head of the queue is waiting
  and an open lane is idle, the passenger starts on the lowest-numbered such lane.

For passenger ``i`` (in arrival order) this gives the exact recursion

    start_i = min_k  E_k(max(arrival_i, free_k)),   free_k <- start_i + service_i

where ``E_k(x)`` is the earliest instant ``>= x`` at which lane ``k`` is open and the
minimum takes the lowest ``k`` among ties.  Starts come out in arrival order, which is the
FIFO discipline.

Every kernel is plain Python that numba compiles (releasing the GIL); without numba the
same source runs interpreted and gives the same numbers (IEEE double arithmetic in both,
no fast-math).  Hot loops write small helpers out instead of calling them: a call with
array arguments costs more than a recursion step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

try:  # numba is a core dependency; the interpreted path keeps the kernels importable.
    from numba import njit as _njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

    def _njit(*args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
            f.py_func = f  # type: ignore[attr-defined]
            return f

        return wrap


jit = _njit
"""numba's ``njit`` (or a pass-through without numba), for the kernels of this package."""

__all__ = [
    "HAVE_NUMBA",
    "earliest_open",
    "jit",
    "next_open_table",
    "security_fifo",
    "slot_start_h",
    "spread_level",
    "step_integrate",
]


def slot_start_h(m: int, hour_offset: float) -> float:
    """Start [h from the run's start] of the wall-clock hour with absolute index ``m``."""
    return float(m) - hour_offset


def next_open_table(lanes_by_hour: np.ndarray) -> np.ndarray:
    """Hours ahead to the next hour in which each lane is open.

    Parameters
    ----------
    lanes_by_hour
        Lanes open in each hour of the day (24 integers).

    Returns
    -------
    numpy.ndarray
        ``int64[max_lanes, 24]``: entry ``[k, h]`` is the smallest ``d >= 0`` such that
        lane ``k`` is open in hour ``(h + d) mod 24``, or -1 if lane ``k`` never opens.
    """
    return _next_open(np.asarray(lanes_by_hour, dtype=np.int64))


@_njit(cache=True, nogil=True)
def _next_open(lanes: np.ndarray) -> np.ndarray:
    n_lanes = 0
    for h in range(24):
        n_lanes = max(n_lanes, lanes[h])
    out = np.full((n_lanes, 24), -1, dtype=np.int64)
    for k in range(n_lanes):
        for h in range(24):
            for d in range(24):
                if lanes[(h + d) % 24] > k:
                    out[k, h] = d
                    break
    return out


@_njit(cache=True, nogil=True, inline="always")
def _slot_of(t: float, hour_offset: float) -> int:
    """Absolute wall-clock hour index containing time ``t``, consistent with slot starts."""
    m = math.floor(t + hour_offset)
    if t < float(m) - hour_offset:
        m -= 1
    elif t >= float(m + 1) - hour_offset:
        m += 1
    return m


@_njit(cache=True, nogil=True, inline="always")
def earliest_open(
    x: float, k: int, lanes: np.ndarray, nxt: np.ndarray, hour_offset: float
) -> float:
    """Earliest instant ``>= x`` at which lane ``k`` is open (``inf`` if never)."""
    m = _slot_of(x, hour_offset)
    h = ((m % 24) + 24) % 24
    if lanes[h] > k:
        return x
    d = nxt[k, h]
    if d < 0:
        return math.inf
    return float(m + d) - hour_offset


@_njit(cache=True, nogil=True)
def security_fifo(
    arrival_h: np.ndarray,
    service_h: np.ndarray,
    lanes_by_hour: np.ndarray,
    next_open: np.ndarray,
    hour_offset: float,
    lane_free_h: np.ndarray,
) -> np.ndarray:
    """Service start times of one entrance's FIFO queue with time-varying lanes.

    Parameters
    ----------
    arrival_h
        Arrival times at security [h], non-decreasing.
    service_h
        Screening times [h], one per passenger.
    lanes_by_hour
        ``int64[24]`` lanes open per hour of day.
    next_open
        :func:`next_open_table` of ``lanes_by_hour``.
    hour_offset
        Wall-clock time of day of hour 0 [h].
    lane_free_h
        ``float64[max_lanes]`` time each lane finishes its current passenger [h]
        (``-inf`` if it never served anyone).  Updated in place, so consecutive calls
        continue one queue exactly.

    Returns
    -------
    numpy.ndarray
        Service start times [h].
    """
    n = arrival_h.shape[0]
    n_lanes = lane_free_h.shape[0]
    start = np.empty(n)
    for i in range(n):
        a = arrival_h[i]
        best = math.inf
        best_k = -1
        for k in range(n_lanes):
            f = lane_free_h[k]
            x = a if a > f else f
            t = earliest_open(x, k, lanes_by_hour, next_open, hour_offset)
            if t < best:
                best = t
                best_k = k
                if t == a:
                    break
        start[i] = best
        if best_k >= 0:
            lane_free_h[best_k] = best + service_h[i]
    return start


@_njit(cache=True, nogil=True)
def _spread(t0: float, t1: float, level: float, slot_sum: np.ndarray, slot_max: np.ndarray) -> None:
    """Add the constant ``level`` on ``[t0, t1)`` to hourly integrals and maxima."""
    n = slot_sum.shape[0]
    k = math.floor(t0)
    if k < 0:
        k = 0
    while k < n and float(k) < t1:
        lo = t0 if t0 > float(k) else float(k)
        hi = t1 if t1 < float(k + 1) else float(k + 1)
        if hi > lo:
            slot_sum[k] += level * (hi - lo)
            if level > slot_max[k]:
                slot_max[k] = level
        k += 1


@_njit(cache=True, nogil=True)
def step_integrate(
    t_up: np.ndarray,
    t_down: np.ndarray,
    t_end: float,
    state: np.ndarray,
    slot_sum: np.ndarray,
    slot_max: np.ndarray,
    capacity: float,
) -> None:
    """Advance a counting process (queue length, hall occupancy) to ``t_end``.

    ``+1`` at each ``t_up``, ``-1`` at each ``t_down`` (both sorted, all in
    ``[state[1], t_end)``); at equal times departures count first, so a passenger who
    leaves the instant another enters does not make a peak.  Hour slot ``k`` covers
    ``[k, k + 1)`` h.

    Parameters
    ----------
    t_up, t_down
        Sorted event times [h].
    t_end
        Time to advance to [h].
    state
        ``[level, time, peak level, time above capacity [h]]``, updated in place.
    slot_sum, slot_max
        Per hour slot: integral of the level [level * h] and maximum level; updated.
    capacity
        Level above which time is counted in ``state[3]``.
    """
    level = state[0]
    t_last = state[1]
    peak = state[2]
    over = state[3]
    n = slot_sum.shape[0]
    nu = t_up.shape[0]
    nd = t_down.shape[0]
    i = 0
    j = 0
    while True:
        if j < nd and (i >= nu or t_down[j] <= t_up[i]):
            t = t_down[j]
            delta = -1.0
            j += 1
        elif i < nu:
            t = t_up[i]
            delta = 1.0
            i += 1
        else:
            t = t_end
            delta = 0.0
        if t > t_last:
            if level > 0:
                k = math.floor(t_last)
                if 0 <= k < n and t <= float(k + 1):  # within one slot: the common case
                    slot_sum[k] += level * (t - t_last)
                    if level > slot_max[k]:
                        slot_max[k] = level
                else:
                    _spread(t_last, t, level, slot_sum, slot_max)
                if level > capacity:
                    over += t - t_last
            t_last = t
        if delta == 0.0:
            break
        level += delta
        if delta > 0:
            if level > peak:
                peak = level
            k = math.floor(t)
            if 0 <= k < n and level > slot_max[k]:
                slot_max[k] = level
    state[0] = level
    state[1] = t_last
    state[2] = peak
    state[3] = over


spread_level = _spread
"""Add a constant level over ``[t0, t1)`` to hourly sums and maxima (a kernel helper)."""
