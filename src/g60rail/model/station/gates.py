"""Ticket gates and rebooking: who boards, who misses, who is rebooked or stranded.

Each departure ``d`` boards through its gate group, whose gates open at ``o_d`` and close
at ``c_d`` (``open_min_before_departure`` and ``close_min_before_departure`` before it).
A passenger reaching the gate area at ``r`` (security exit plus the walk):

* after ``c_d`` misses the train *before the gate* (cause: late arrival if arrival plus
  screening plus walk alone exceed ``c_d``, else the security queue);
* otherwise joins the queue of the group at ``j = max(r, o_d)``.

**Gate group** (a single server passing one passenger per ``s = 1 / throughput``).
Whenever it is free at time ``t`` and some passenger is waiting whose gate can still be
passed (``t + s <= c_d``), it takes the passenger of the *earliest departure* among them,
and within a departure the one who reached the gate area first (then the lowest passenger
number); that passenger is through at ``t + s``.  Whoever is still queuing at ``c_d``
misses the train *at the gate*.  The discipline is what a station does: staff call the
train whose boarding closes first ("last call") ahead of later ones, and within one train
the queue is first come, first served.  It also minimises misses among work-conserving
orders when queues overlap (earliest due date first).

**Rebooking** (one free rebooking per ticket onto a train of the same day, the 12306 rule).
A passenger who misses at time ``m`` (the reach time before the gate, ``c_d`` at the
gate) is rebooked, if not rebooked already, onto the first later departure of the same
calendar day to the same destination whose gates close at or after ``m + delay`` and that
has a seat left (booked passengers below ``floor(seats * max_load_factor)``); they queue
there like anyone, reaching its gate area at ``m + delay``.  Otherwise, or when the
rebooked train is missed too, the passenger is stranded and leaves at ``m``.

**Order of events.**  Misses (rebooking attempts) at one instant are handled in passenger
order and before the gate picks of that instant, so a passenger rebooked with no delay
can be taken at once; gate groups are otherwise independent.  The tests' SimPy reference
implements the same rules passenger by passenger.

The kernel works on the passengers known so far and handles every event before a bound
``T``; undecided passengers are handed back and continue in the next call, so chunked
runs equal one long run.  The gate queues (passengers who joined and are not yet being
served) are returned as events and integrated per group and hour slot
(:func:`~g60rail.model.station.queues.integrate_groups`).
"""

from __future__ import annotations

import math

import numpy as np

from g60rail.model.station.kernel import jit as _njit

__all__ = [
    "BOARDED",
    "COUNTS",
    "MISSED_BEFORE",
    "MISSED_GATE",
    "gate_stage",
]

# entry status
UNDECIDED = 0
BOARDED = 1
MISSED_GATE = 2
MISSED_BEFORE = 3
# entry flags
F_REBOOKED = 1
F_COUNTED = 2
F_LATE = 4
# per-departure counters (columns of the departures' count array)
C_BOARDED = 0
C_LATE = 1
C_SECURITY = 2
C_GATE = 3
C_REBOOKED_IN = 4
C_REBOOKED_BOARDED = 5
C_REBOOKED_MISSED = 6
C_STRANDED_NO_SEAT = 7
COUNTS = (
    "boarded",
    "missed_late_arrival",
    "missed_due_to_security",
    "missed_at_gate",
    "rebooked_in",
    "rebooked_boarded",
    "rebooked_missed",
    "stranded_no_seat",
)
"""Names of the per-departure counters, in column order."""

_INF = math.inf


@_njit(cache=True, nogil=True)
def _join(
    ev_t: np.ndarray,
    ev_g: np.ndarray,
    ev_d: np.ndarray,
    last_up: np.ndarray,
    n_ev: int,
    g: int,
    t: float,
) -> int:
    """A passenger joins gate group ``g``'s queue at ``t`` [h]: a +1 event, merged into
    the group's last join when that was at the same time; returns the event count."""
    lu = last_up[g]
    if lu >= 0 and ev_t[lu] == t:
        ev_d[lu] += 1
        return n_ev
    ev_t[n_ev] = t
    ev_g[n_ev] = g
    ev_d[n_ev] = 1
    last_up[g] = n_ev
    return n_ev + 1


@_njit(cache=True, nogil=True)
def _leave(
    ev_t: np.ndarray, ev_g: np.ndarray, ev_d: np.ndarray, n_ev: int, g: int, t: float
) -> int:
    """A passenger leaves gate group ``g``'s queue at ``t`` [h]: a -1 event; returns the
    event count."""
    ev_t[n_ev] = t
    ev_g[n_ev] = g
    ev_d[n_ev] = -1
    return n_ev + 1


@_njit(cache=True, nogil=True)
def gate_stage(
    e_dep: np.ndarray,
    e_reach: np.ndarray,
    e_pid: np.ndarray,
    e_flags: np.ndarray,
    d_time: np.ndarray,
    d_int: np.ndarray,
    counts: np.ndarray,
    n_dep: int,
    state: np.ndarray,
    g_free: np.ndarray,
    open_h: float,
    close_h: float,
    s_gate: float,
    delay_h: float,
    bound: float,
) -> tuple:
    """Handle every gate and rebooking event before ``bound`` (see the module docstring).

    Parameters
    ----------
    e_dep, e_reach, e_pid, e_flags
        Passengers in the gate stage, sorted by departure, reach time [h] and passenger
        number; flags: rebooked already, counted in the queue already, late arrival
        (``e_flags`` is updated).
    d_time
        Departure times [h] of the run's departures.
    d_int
        ``int64[n, 5]`` per departure: gate group, next departure to the same destination
        that day (-1), seats ``floor(seats * max_load_factor)``, passengers booked, closed
        flag; the last two are updated.
    counts
        ``int64[n, 8]`` per-departure counters (:data:`COUNTS`); updated.
    n_dep
        Departures known so far (rows of ``d_time``/``d_int`` in use).
    state
        ``int64[1]``: the next departure whose gates have not closed yet; updated.
    g_free
        Per gate group, the time it is free [h]; updated.
    open_h, close_h, s_gate, delay_h
        Gate opening and closing before departure, time per passenger at a gate, rebooking
        delay [h].
    bound
        Events at or after this time [h] are left for the next call.

    Returns
    -------
    tuple
        ``status, join, pass, rebook`` per input passenger; departure, reach, passenger
        number, status, join, pass and counted flag of the passengers rebooked in this
        call; hall leaving times of final outcomes; gate-queue events (time, group, +k
        joining at that instant / -1 leaving), each group's leaving ones in time order; the
        summed gate wait [h] of the passengers through a gate and their number.
    """
    n = e_dep.shape[0]
    n_groups = g_free.shape[0]
    close_ptr = state[0]
    d_lo = close_ptr
    for i in range(n):
        if e_dep[i] < d_lo:
            d_lo = e_dep[i]
    nd = n_dep - d_lo
    # static entries per departure: [s_ptr, s_end) queue, [s_end, next start) before gate
    s_ptr = np.zeros(nd, np.int64)
    s_end = np.zeros(nd, np.int64)
    i = 0
    n_pre = 0
    for k in range(nd):
        d = d_lo + k
        s_ptr[k] = i
        c_end = d_time[d] - close_h if d_int[d, 4] == 0 else -_INF  # closed: all before
        while i < n and e_dep[i] == d and e_reach[i] <= c_end:
            i += 1
        s_end[k] = i
        while i < n and e_dep[i] == d:
            i += 1
            n_pre += 1
    pre = np.empty(n_pre, np.int64)  # passengers missing before the gate, by (reach, pid)
    j = 0
    for k in range(nd):
        nxt = s_ptr[k + 1] if k + 1 < nd else n
        for x in range(s_end[k], nxt):
            pre[j] = x
            j += 1
    for a in range(1, n_pre):  # insertion sort: few and nearly ordered
        x = pre[a]
        b = a - 1
        while b >= 0 and (
            e_reach[pre[b]] > e_reach[x]
            or (e_reach[pre[b]] == e_reach[x] and e_pid[pre[b]] > e_pid[x])
        ):
            pre[b + 1] = pre[b]
            b -= 1
        pre[b + 1] = x
    # departures of each gate group in time order (CSR), and the first one still open
    g_ptr = np.zeros(n_groups + 1, np.int64)
    for k in range(nd):
        g_ptr[d_int[d_lo + k, 0] + 1] += 1
    for g in range(n_groups):
        g_ptr[g + 1] += g_ptr[g]
    g_deps = np.empty(nd, np.int64)
    fill = g_ptr[:-1].copy()
    for k in range(nd):
        g = d_int[d_lo + k, 0]
        g_deps[fill[g]] = k
        fill[g] += 1
    g_live = g_ptr[:-1].copy()
    # passengers rebooked in this call: a linked list per departure, in (reach, pid) order
    cap = n + 1
    y_dep = np.empty(cap, np.int64)
    y_reach = np.empty(cap)
    y_pid = np.empty(cap, np.int64)
    y_next = np.empty(cap, np.int64)  # set when an entry is made
    y_status = np.empty(cap, np.int8)
    y_join = np.empty(cap)
    y_pass = np.empty(cap)
    y_counted = np.empty(cap, np.int8)
    y_ptr = np.full(nd, -1, np.int64)  # first unserved
    y_tail = np.full(nd, -1, np.int64)
    n_y = 0
    status = np.zeros(n, np.int8)
    join = np.full(n, np.nan)
    pass_t = np.full(n, np.nan)
    rebook = np.full(n, -2, np.int64)
    leave = np.empty(2 * n + 1)
    n_leave = 0
    ev_t = np.empty(4 * n + 4)
    ev_g = np.empty(4 * n + 4, np.int32)
    ev_d = np.empty(4 * n + 4, np.int32)
    last_up = np.full(n_groups, -1, np.int64)  # each group's latest +k event
    n_ev = 0
    att = np.empty(2 * n + 1, np.int64)  # attempts of one instant: static x, or -1 - dynamic
    # each group's next pick, kept until a pick, a closing or a rebooking changes it
    c_valid = np.zeros(n_groups, np.int8)
    c_best = np.empty(n_groups)
    c_k = np.empty(n_groups, np.int64)
    c_dyn = np.zeros(n_groups, np.int8)
    c_idx = np.empty(n_groups, np.int64)
    wait_sum = 0.0  # time from joining to service start of those through a gate [h]
    n_board = 0

    ip = 0
    while True:
        # ---- next rebooking attempt: a pre-gate miss or a gate closing
        t_pre = e_reach[pre[ip]] if ip < n_pre else _INF
        t_close = d_time[close_ptr] - close_h if close_ptr < n_dep else _INF
        t_att = t_pre if t_pre < t_close else t_close
        lim = t_att if t_att < bound else bound
        # ---- gate picks strictly before lim, group by group
        for g in range(n_groups):
            while True:
                if c_valid[g] == 0:  # find the group's next pick
                    f = g_free[g]
                    best = _INF
                    best_k = -1
                    best_dyn = False
                    best_idx = -1
                    q = g_live[g]
                    while q < g_ptr[g + 1] and d_int[d_lo + g_deps[q], 4] != 0:
                        q += 1
                    g_live[g] = q
                    while q < g_ptr[g + 1]:
                        k = g_deps[q]
                        d = d_lo + k
                        o = d_time[d] - open_h
                        if o >= best:
                            break
                        q += 1
                        if d_int[d, 4] != 0:
                            continue
                        si = s_ptr[k]
                        yi = y_ptr[k]
                        if si < s_end[k]:
                            if yi >= 0 and (
                                y_reach[yi] < e_reach[si]
                                or (y_reach[yi] == e_reach[si] and y_pid[yi] < e_pid[si])
                            ):
                                dyn = True
                                r = y_reach[yi]
                            else:
                                dyn = False
                                r = e_reach[si]
                        elif yi >= 0:
                            dyn = True
                            r = y_reach[yi]
                        else:
                            continue
                        jt = r if r > o else o
                        tau = jt if jt > f else f
                        if tau + s_gate > d_time[d] - close_h:
                            continue
                        if tau < best:
                            best = tau
                            best_k = k
                            best_dyn = dyn
                            best_idx = yi if dyn else si
                    c_best[g] = best
                    c_k[g] = best_k
                    c_dyn[g] = 1 if best_dyn else 0
                    c_idx[g] = best_idx
                    c_valid[g] = 1
                best = c_best[g]
                if best >= lim:
                    break
                best_k = c_k[g]
                best_dyn = c_dyn[g] != 0
                best_idx = c_idx[g]
                c_valid[g] = 0
                k = best_k
                d = d_lo + k
                o = d_time[d] - open_h
                p = best + s_gate
                g_free[g] = p
                leave[n_leave] = p
                n_leave += 1
                if best_dyn:
                    y = best_idx
                    r = y_reach[y]
                    jt = r if r > o else o
                    y_join[y] = jt
                    y_pass[y] = p
                    y_status[y] = BOARDED
                    y_ptr[k] = y_next[y]
                    counts[d, C_REBOOKED_BOARDED] += 1
                    counted = y_counted[y] != 0
                else:
                    x = best_idx
                    r = e_reach[x]
                    jt = r if r > o else o
                    join[x] = jt
                    pass_t[x] = p
                    status[x] = BOARDED
                    s_ptr[k] += 1
                    if (e_flags[x] & F_REBOOKED) != 0:
                        counts[d, C_REBOOKED_BOARDED] += 1
                    else:
                        counts[d, C_BOARDED] += 1
                    counted = (e_flags[x] & F_COUNTED) != 0
                wait_sum += best - jt
                n_board += 1
                if jt < best:  # waited in the queue from jt to best
                    if not counted:
                        n_ev = _join(ev_t, ev_g, ev_d, last_up, n_ev, g, jt)
                    n_ev = _leave(ev_t, ev_g, ev_d, n_ev, g, best)
        if t_att >= bound:
            break
        # ---- every attempt at t_att: the closing departures' queues, then pre-gate misses
        n_att = 0
        while close_ptr < n_dep and d_time[close_ptr] - close_h == t_att:
            d = close_ptr
            k = d - d_lo
            g = d_int[d, 0]
            o = d_time[d] - open_h
            for x in range(s_ptr[k], s_end[k]):
                status[x] = MISSED_GATE
                jt = e_reach[x] if e_reach[x] > o else o
                join[x] = jt
                if jt < t_att:
                    if (e_flags[x] & F_COUNTED) == 0:
                        n_ev = _join(ev_t, ev_g, ev_d, last_up, n_ev, g, jt)
                    n_ev = _leave(ev_t, ev_g, ev_d, n_ev, g, t_att)
                if (e_flags[x] & F_REBOOKED) != 0:
                    counts[d, C_REBOOKED_MISSED] += 1
                else:
                    counts[d, C_GATE] += 1
                att[n_att] = x
                n_att += 1
            s_ptr[k] = s_end[k]
            y = y_ptr[k]
            while y >= 0:
                y_status[y] = MISSED_GATE
                jt = y_reach[y] if y_reach[y] > o else o
                y_join[y] = jt
                if jt < t_att:
                    if y_counted[y] == 0:
                        n_ev = _join(ev_t, ev_g, ev_d, last_up, n_ev, g, jt)
                    n_ev = _leave(ev_t, ev_g, ev_d, n_ev, g, t_att)
                counts[d, C_REBOOKED_MISSED] += 1
                att[n_att] = -1 - y
                n_att += 1
                y = y_next[y]
            y_ptr[k] = -1
            d_int[d, 4] = 1
            c_valid[g] = 0
            close_ptr += 1
        while ip < n_pre and e_reach[pre[ip]] == t_att:
            x = pre[ip]
            d = e_dep[x]
            status[x] = MISSED_BEFORE
            if (e_flags[x] & F_REBOOKED) != 0:
                counts[d, C_REBOOKED_MISSED] += 1
            elif (e_flags[x] & F_LATE) != 0:
                counts[d, C_LATE] += 1
            else:
                counts[d, C_SECURITY] += 1
            att[n_att] = x
            n_att += 1
            ip += 1
        for a in range(1, n_att):  # passenger order
            x = att[a]
            px = e_pid[x] if x >= 0 else y_pid[-1 - x]
            b = a - 1
            while b >= 0:
                w = att[b]
                pw = e_pid[w] if w >= 0 else y_pid[-1 - w]
                if pw <= px:
                    break
                att[b + 1] = w
                b -= 1
            att[b + 1] = x
        for a in range(n_att):
            x = att[a]
            if x < 0 or (e_flags[x] & F_REBOOKED) != 0:  # rebooked already: stranded
                leave[n_leave] = t_att
                n_leave += 1
                continue
            d0 = e_dep[x]
            d = d_int[d0, 1]
            while d >= 0:
                if d_time[d] - close_h >= t_att + delay_h and d_int[d, 3] < d_int[d, 2]:
                    break
                d = d_int[d, 1]
            if d < 0:
                rebook[x] = -1
                counts[d0, C_STRANDED_NO_SEAT] += 1
                leave[n_leave] = t_att
                n_leave += 1
                continue
            rebook[x] = d
            d_int[d, 3] += 1
            counts[d, C_REBOOKED_IN] += 1
            k = d - d_lo
            y = n_y
            n_y += 1
            y_dep[y] = d
            y_reach[y] = t_att + delay_h
            y_pid[y] = e_pid[x]
            y_next[y] = -1
            y_status[y] = UNDECIDED
            y_join[y] = np.nan
            y_pass[y] = np.nan
            y_counted[y] = 0
            if y_tail[k] >= 0:
                y_next[y_tail[k]] = y
            y_tail[k] = y
            if y_ptr[k] < 0:
                y_ptr[k] = y
            c_valid[d_int[d, 0]] = 0
    # passengers still waiting who joined a queue before the bound count from their join
    for k in range(nd):
        d = d_lo + k
        o = d_time[d] - open_h
        g = d_int[d, 0]
        for x in range(s_ptr[k], s_end[k]):
            jt = e_reach[x] if e_reach[x] > o else o
            if jt < bound and (e_flags[x] & F_COUNTED) == 0:
                e_flags[x] |= F_COUNTED
                n_ev = _join(ev_t, ev_g, ev_d, last_up, n_ev, g, jt)
        y = y_ptr[k]
        while y >= 0:
            jt = y_reach[y] if y_reach[y] > o else o
            if jt < bound and y_counted[y] == 0:
                y_counted[y] = 1
                n_ev = _join(ev_t, ev_g, ev_d, last_up, n_ev, g, jt)
            y = y_next[y]
    state[0] = close_ptr
    return (
        status,
        join,
        pass_t,
        rebook,
        y_dep[:n_y],
        y_reach[:n_y],
        y_pid[:n_y],
        y_status[:n_y],
        y_join[:n_y],
        y_pass[:n_y],
        y_counted[:n_y],
        leave[:n_leave],
        ev_t[:n_ev],
        ev_g[:n_ev],
        ev_d[:n_ev],
        wait_sum,
        n_board,
    )
