"""Station queues: the exit gates' recursion, queue lengths of FIFO queues and the hourly
security-wait statistics.

Security and exit queues are FIFO, so their service starts come out in arrival order and
non-decreasing: the queue length (passengers who arrived but have not started service) is
integrated from the two sorted sequences without sorting (:func:`queue_integrate`):
``+1`` at an arrival that must wait, ``-1`` at its service start, departures first at
equal times (a passenger served on arrival is never counted as queuing).  Starts after a
batch's bound are carried to the next batch, so chunked calls equal one long call.

Time is in hours from the run's start; hour slot ``k`` covers ``[k, k + 1)``.
"""

from __future__ import annotations

import math

import numpy as np

from g60rail.model.station.gates import F_LATE
from g60rail.model.station.kernel import jit as _njit
from g60rail.model.station.kernel import spread_level as _spread
from g60rail.model.station.kernel import step_integrate

__all__ = [
    "exit_fifo",
    "flush_queue",
    "integrate_groups",
    "quantile_linear",
    "queue_integrate",
    "security_pass",
    "slot_quantiles",
]

_INF = math.inf


def queue_integrate(
    ups: np.ndarray,
    downs: np.ndarray,
    carry: np.ndarray,
    bound: float,
    q_state: np.ndarray,
    q_sum: np.ndarray,
    q_max: np.ndarray,
) -> np.ndarray:
    """Integrate a FIFO queue's length up to ``bound`` from a batch of its passengers.

    Parameters
    ----------
    ups, downs
        Arrivals (all before ``bound``) and service starts [h] of the batch's passengers
        who wait (start after arrival), both non-decreasing (FIFO).
    carry
        Starts [h] of earlier passengers still queuing at the previous bound (sorted).
    bound
        Time [h] to integrate to.
    q_state, q_sum, q_max
        Queue state ``[level, time, peak, -]`` and hourly integral and maximum; updated.

    Returns
    -------
    numpy.ndarray
        The new ``carry``: starts at or after ``bound``.
    """
    if carry.size:
        downs = np.concatenate((carry, downs))
    k = int(np.searchsorted(downs, bound, side="left"))
    step_integrate(ups, downs[:k], bound, q_state, q_sum, q_max, _INF)
    return downs[k:].copy()


def flush_queue(
    carry: np.ndarray, q_state: np.ndarray, q_sum: np.ndarray, q_max: np.ndarray
) -> None:
    """Apply the carried service starts (the end of a run: nobody arrives any more)."""
    if carry.size:
        step_integrate(np.empty(0), carry, float(carry[-1]), q_state, q_sum, q_max, _INF)


@_njit(cache=True, nogil=True)
def security_pass(
    arrival_h: np.ndarray,
    service_h: np.ndarray,
    lanes_by_hour: np.ndarray,
    next_open: np.ndarray,
    hour_offset: float,
    lane_free_h: np.ndarray,
    acc: np.ndarray,
    departure: np.ndarray,
    close_h: np.ndarray,
    walk_h: float,
) -> tuple[np.ndarray, ...]:
    """Security starts of one entrance's batch, with what the next stages need.

    The recursion is :func:`~g60rail.model.station.kernel.security_fifo`'s (same numbers);
    the waits [min] are accumulated by arrival hour slot into ``acc`` (count, zero waits,
    sum, max; ``float64[n_slots, 4]``).  ``close_h`` holds the gate closing time [h] of
    every departure, ``walk_h`` the walk to the gates [h].

    Returns
    -------
    tuple
        Service starts, security exits and times reaching the gate area [h], the late
        flag (arrival + screening + walk after the gates close); for the passengers who
        wait: their slot (-1 outside the slots), wait [min], arrival [h] and start [h].
    """
    n = arrival_h.shape[0]
    n_lanes = lane_free_h.shape[0]
    n_slots = acc.shape[0]
    start = np.empty(n)
    exit_h = np.empty(n)
    reach = np.empty(n)
    late = np.empty(n, np.int8)
    pos_s = np.empty(n, np.int64)
    pos_w = np.empty(n)
    pos_a = np.empty(n)
    pos_b = np.empty(n)
    m = 0
    for i in range(n):
        a = arrival_h[i]
        svc = service_h[i]
        best = _INF
        best_k = -1
        for k in range(n_lanes):
            f = lane_free_h[k]
            x = a if a > f else f
            # earliest_open(x, k, ...), written out: a call with array arguments costs
            # more than the whole recursion step
            mh = math.floor(x + hour_offset)
            if x < float(mh) - hour_offset:
                mh -= 1
            elif x >= float(mh + 1) - hour_offset:
                mh += 1
            h = ((mh % 24) + 24) % 24
            if lanes_by_hour[h] > k:
                t = x
            else:
                dd = next_open[k, h]
                t = _INF if dd < 0 else float(mh + dd) - hour_offset
            if t < best:
                best = t
                best_k = k
                if t == a:
                    break
        start[i] = best
        if best_k >= 0:
            lane_free_h[best_k] = best + svc
        x = best + svc
        exit_h[i] = x
        reach[i] = x + walk_h
        late[i] = F_LATE if a + svc + walk_h > close_h[departure[i]] else 0
        w = (best - a) * 60.0
        slot = math.floor(a)
        inside = 0 <= slot < n_slots
        if inside:
            acc[slot, 0] += 1.0
            if w > 0.0:
                acc[slot, 2] += w
                if w > acc[slot, 3]:
                    acc[slot, 3] = w
            else:
                acc[slot, 1] += 1.0
        if w > 0.0:
            pos_s[m] = slot if inside else -1
            pos_w[m] = w
            pos_a[m] = a
            pos_b[m] = best
            m += 1
    return (
        start,
        exit_h,
        reach,
        late,
        pos_s[:m].copy(),
        pos_w[:m].copy(),
        pos_a[:m].copy(),
        pos_b[:m].copy(),
    )


@_njit(cache=True, nogil=True)
def exit_fifo(
    reach_h: np.ndarray, service_h: float, ring: np.ndarray, ring_pos: np.ndarray, acc: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Service starts at ``c`` identical exit gates, one FIFO queue, fixed service time.

    With equal service times the gate that frees first is the one that started ``c``
    passengers ago, so ``start_i = max(reach_i, start_{i-c} + service)`` is exact.

    Parameters
    ----------
    reach_h
        Times the passengers reach the exit gates [h], non-decreasing.
    service_h
        Time one passenger takes at a gate [h].
    ring, ring_pos
        The last ``c`` starts (``-inf`` at first) and the next position; updated.
    acc
        ``float64[n_slots, 3]`` per hour slot of reaching the gates: passengers, wait sum
        [min], wait max [min]; updated.

    Returns
    -------
    tuple
        Service starts [h]; waits [min], arrivals and starts [h] of those who wait.
    """
    n = reach_h.shape[0]
    c = ring.shape[0]
    n_slots = acc.shape[0]
    pos = ring_pos[0]
    start = np.empty(n)
    pos_w = np.empty(n)
    pos_a = np.empty(n)
    pos_b = np.empty(n)
    m = 0
    for i in range(n):
        a = reach_h[i]
        free = ring[pos] + service_h
        s = a if a > free else free
        ring[pos] = s
        pos += 1
        if pos == c:
            pos = 0
        start[i] = s
        w = (s - a) * 60.0
        k = math.floor(a)
        if 0 <= k < n_slots:
            acc[k, 0] += 1.0
            if w > 0.0:
                acc[k, 1] += w
                if w > acc[k, 2]:
                    acc[k, 2] = w
        if w > 0.0:
            pos_w[m] = w
            pos_a[m] = a
            pos_b[m] = s
            m += 1
    ring_pos[0] = pos
    return start, pos_w[:m].copy(), pos_a[:m].copy(), pos_b[:m].copy()


@_njit(cache=True, nogil=True)
def quantile_linear(x_lo: float, x_hi: float, vi: float) -> float:
    """``numpy.quantile`` (method 'linear') from the order statistics around index ``vi``."""
    g = vi - math.floor(vi)
    diff = x_hi - x_lo
    return x_hi - diff * (1.0 - g) if g >= 0.5 else x_lo + diff * g


@_njit(cache=True, nogil=True)
def _order_stat(pos: np.ndarray, r: int) -> float:
    """The ``r``-th smallest of ``pos`` (0-based), by quickselect on a copy (numba's
    ``np.partition`` takes seconds to compile)."""
    a = pos.copy()
    lo = 0
    hi = a.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        x, y, z = a[lo], a[mid], a[hi]
        pivot = max(min(x, y), min(max(x, y), z))  # median of three
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if r <= j:
            hi = j
        elif r >= i:
            lo = i
        else:
            return a[r]
    return a[r]


@_njit(cache=True, nogil=True)
def _quantile(n: int, n_zero: int, pos: np.ndarray, q: float) -> float:
    """``numpy.quantile`` of ``n_zero`` zeros and the positive values ``pos``."""
    vi = (n - 1) * q
    lo = math.floor(vi)
    hi = min(lo + 1, n - 1)
    x_lo = 0.0 if lo < n_zero else _order_stat(pos, lo - n_zero)
    x_hi = 0.0 if hi < n_zero else _order_stat(pos, hi - n_zero)
    return quantile_linear(x_lo, x_hi, vi)


@_njit(cache=True, nogil=True)
def slot_quantiles(
    slots: np.ndarray, acc: np.ndarray, pos_slot: np.ndarray, pos_wait: np.ndarray, out: np.ndarray
) -> None:
    """Per slot in ``slots``: count, sum, p50, p95 (``numpy.quantile``) and max of the waits.

    ``pos_slot``/``pos_wait`` hold the slots' positive waits grouped by slot (any order
    inside a slot); ``out`` is ``float64[n_slots, 5]``, its rows for ``slots`` are set.
    """
    j = 0
    n_pos = pos_slot.shape[0]
    for k in slots:
        while j < n_pos and pos_slot[j] < k:
            j += 1
        e = j
        while e < n_pos and pos_slot[e] == k:
            e += 1
        row = acc[k]
        n = int(row[0])
        if n == 0:
            continue
        n_zero = int(row[1])
        seg = pos_wait[j:e].copy()
        out[k, 0] = n
        out[k, 1] = row[2]
        out[k, 2] = _quantile(n, n_zero, seg, 0.5)
        out[k, 3] = _quantile(n, n_zero, seg, 0.95)
        out[k, 4] = row[3]
        j = e


def integrate_groups(
    ev_t: np.ndarray,
    ev_g: np.ndarray,
    ev_d: np.ndarray,
    bound: float,
    g_state: np.ndarray,
    g_sum: np.ndarray,
    g_max: np.ndarray,
) -> None:
    """Integrate the gate queues' lengths from their events up to ``bound``.

    Events are (time, group, change): ``+k`` for ``k`` passengers joining at that instant,
    ``-1`` for one leaving.  Each group's leaving events come in time order
    (:func:`~g60rail.model.station.gates.gate_stage` emits them as it goes), its joining
    ones in any order; both are applied in time order, leaving first at equal times.
    ``g_state`` is ``[level, time, peak, -]`` per group, ``g_sum``/``g_max`` the hourly
    integral and maximum per group; updated.
    """
    n_groups = g_state.shape[0]
    times, weights, off = _bucket_events(ev_t, ev_g, ev_d, n_groups)
    for g in range(n_groups):
        lo, mid, hi = off[2 * g], off[2 * g + 1], off[2 * g + 2]
        up_t = times[mid:hi]
        order = np.argsort(up_t)
        up_w = weights[mid:hi][order]
        _integrate_joins(up_t[order], up_w, times[lo:mid], bound, g_state[g], g_sum[g], g_max[g])


@_njit(cache=True, nogil=True)
def _bucket_events(
    ev_t: np.ndarray, ev_g: np.ndarray, ev_d: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event times (and changes) grouped by (group, leave/join), emission order kept;
    and the offsets."""
    count = np.zeros(2 * n_groups + 1, np.int64)
    for i in range(ev_t.shape[0]):
        count[2 * ev_g[i] + (1 if ev_d[i] > 0 else 0) + 1] += 1
    for k in range(2 * n_groups):
        count[k + 1] += count[k]
    off = count.copy()
    out = np.empty(ev_t.shape[0])
    w = np.empty(ev_t.shape[0])
    for i in range(ev_t.shape[0]):
        k = 2 * ev_g[i] + (1 if ev_d[i] > 0 else 0)
        out[count[k]] = ev_t[i]
        w[count[k]] = ev_d[i]
        count[k] += 1
    return out, w, off


@_njit(cache=True, nogil=True)
def _integrate_joins(
    up_t: np.ndarray,
    up_w: np.ndarray,
    down_t: np.ndarray,
    t_end: float,
    state: np.ndarray,
    slot_sum: np.ndarray,
    slot_max: np.ndarray,
) -> None:
    """:func:`~g60rail.model.station.kernel.step_integrate` with ``+up_w`` at each
    ``up_t`` (sorted) and ``-1`` at each ``down_t`` (sorted), leaving first at equal
    times, up to ``t_end``."""
    level = state[0]
    t_last = state[1]
    peak = state[2]
    n = slot_sum.shape[0]
    nu = up_t.shape[0]
    nd = down_t.shape[0]
    i = 0
    j = 0
    while True:
        if j < nd and (i >= nu or down_t[j] <= up_t[i]):
            t = down_t[j]
            delta = -1.0
            j += 1
        elif i < nu:
            t = up_t[i]
            delta = up_w[i]
            i += 1
        else:
            t = t_end
            delta = 0.0
        if t > t_last:
            if level > 0:
                k = math.floor(t_last)
                if 0 <= k < n and t <= float(k + 1):
                    slot_sum[k] += level * (t - t_last)
                    if level > slot_max[k]:
                        slot_max[k] = level
                else:
                    _spread(t_last, t, level, slot_sum, slot_max)
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
