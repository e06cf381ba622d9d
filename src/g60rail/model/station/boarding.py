"""The boarding stage between windows: passengers waiting for a gate, the gate groups'
state and, on request, every passenger's gate outcome (the rules are in
:mod:`~g60rail.model.station.gates`)."""

from __future__ import annotations

import math

import numpy as np

from g60rail.model.station.gates import F_COUNTED, F_REBOOKED, UNDECIDED, gate_stage
from g60rail.model.station.kernel import jit as _njit
from g60rail.model.station.queues import integrate_groups
from g60rail.model.station.records import Departures
from g60rail.scenario.station_spec import StationSpec

__all__ = ["Boarding", "sort_entries"]

_INF = math.inf


@_njit(cache=True, nogil=True)
def _sort_run(idx: np.ndarray, lo: int, hi: int, reach: np.ndarray, pid: np.ndarray) -> None:
    """Sort ``idx[lo:hi]`` by (reach, pid): insertion sort while the run is nearly sorted
    (the usual case: one entrance's passengers in arrival order), else Shell's method."""
    budget = 16 * (hi - lo) + 64
    for a in range(lo + 1, hi):
        x = idx[a]
        rx = reach[x]
        px = pid[x]
        b = a - 1
        while b >= lo:
            y = idx[b]
            ry = reach[y]
            if not (rx < ry or (rx == ry and px < pid[y])):
                break
            idx[b + 1] = y
            b -= 1
            budget -= 1
        idx[b + 1] = x
        if budget < 0:  # far from sorted: Shell's method for the run instead
            _shell_sort(idx, lo, hi, reach, pid)
            return


@_njit(cache=True, nogil=True)
def _shell_sort(idx: np.ndarray, lo: int, hi: int, reach: np.ndarray, pid: np.ndarray) -> None:
    """Sort ``idx[lo:hi]`` by (reach, pid) (keys are unique: pid is), Shell's method."""
    n = hi - lo
    gap = 1
    while gap < n // 3:
        gap = 3 * gap + 1
    while gap >= 1:
        for a in range(lo + gap, hi):
            x = idx[a]
            rx = reach[x]
            px = pid[x]
            b = a
            while b - gap >= lo:
                y = idx[b - gap]
                if not (rx < reach[y] or (rx == reach[y] and px < pid[y])):
                    break
                idx[b] = y
                b -= gap
            idx[b] = x
        gap //= 3


@_njit(cache=True, nogil=True)
def sort_entries(
    dep: np.ndarray, reach: np.ndarray, pid: np.ndarray, flags: np.ndarray, runs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The passengers sorted by departure, reach time and passenger number.

    ``runs`` bounds the input's runs (``[0, ..., n]``), each nearly sorted by reach (one
    entrance's batch) or small (the passengers carried over): each run is sorted, the
    runs merged by (reach, pid), then a stable counting sort by departure.
    """
    n = dep.shape[0]
    idx = np.arange(n)
    n_runs = runs.shape[0] - 1
    for r in range(n_runs):
        _sort_run(idx, runs[r], runs[r + 1], reach, pid)
    heads = runs[:-1].copy()
    merged = np.empty(n, np.int64)
    for o in range(n):
        best = -1
        rb = 0.0
        pb = 0
        for r in range(n_runs):
            if heads[r] < runs[r + 1]:
                x = idx[heads[r]]
                rx = reach[x]
                if best < 0 or rx < rb or (rx == rb and pid[x] < pb):
                    best = r
                    rb = rx
                    pb = pid[x]
        merged[o] = idx[heads[best]]
        heads[best] += 1
    lo = int(dep[0]) if n else 0
    hi = lo
    for i in range(n):
        lo = min(lo, int(dep[i]))
        hi = max(hi, int(dep[i]))
    count = np.zeros(hi - lo + 2, np.int64)
    for i in range(n):
        count[dep[i] - lo + 1] += 1
    for k in range(hi - lo + 1):
        count[k + 1] += count[k]
    out_dep = np.empty(n, dep.dtype)
    out_reach = np.empty(n)
    out_pid = np.empty(n, pid.dtype)
    out_flags = np.empty(n, flags.dtype)
    for j in merged:
        c = dep[j] - lo
        o = count[c]
        count[c] += 1
        out_dep[o] = dep[j]
        out_reach[o] = reach[j]
        out_pid[o] = pid[j]
        out_flags[o] = flags[j]
    return out_dep, out_reach, out_pid, out_flags


class Boarding:
    """Passengers between security and their train, and the gate groups' state.

    Parameters
    ----------
    spec
        The station.
    deps
        The run's departures (their counters are updated).
    n_slots
        Hour slots of the run (the gate-queue records).
    record
        Keep every passenger's gate outcome (:attr:`records`).
    """

    def __init__(self, spec: StationSpec, deps: Departures, n_slots: int, record: bool) -> None:
        g = spec.gates
        self.deps = deps
        self.open_h = g.open_min_before_departure / 60.0
        self.close_h = g.close_min_before_departure / 60.0
        self.s_gate = 1.0 / (60.0 * g.passengers_per_min)
        self.delay_h = spec.rebooking.delay_min / 60.0
        self.free = np.full(g.groups, -_INF)
        self.level = np.zeros((g.groups, 4))
        self.level[:, 1] = -_INF
        self.q_sum = np.zeros((g.groups, n_slots))
        self.q_max = np.zeros((g.groups, n_slots))
        self.state = np.zeros(1, np.int64)
        self.carry: dict[str, np.ndarray] | None = None
        self.record = record
        self.records: list[dict[str, np.ndarray]] = []
        self.gate_wait_sum_h = 0.0
        self.n_through = 0

    def __bool__(self) -> bool:
        """Whether passengers are still waiting for a gate outcome."""
        return self.carry is not None

    def run(
        self,
        dep: np.ndarray,
        reach: np.ndarray,
        pid: np.ndarray,
        flags: np.ndarray,
        bound: float,
        runs: np.ndarray | list[int] | None = None,
    ) -> np.ndarray:
        """Add passengers who reach the gate area and handle all events before ``bound``.

        ``runs`` bounds the parts of the input (``[0, ..., n]``) that are each nearly
        sorted by reach time (one entrance's passengers in arrival order); by default the
        whole input is one part.  Returns the times [h] at which passengers leave the
        hall for good (through the gate of their train, or stranded).
        """
        if runs is None:
            runs = [0, dep.size]
        if self.carry is not None:
            c = self.carry
            runs = np.concatenate(([0], c["dep"].size + np.asarray(runs)))
            dep = np.concatenate((c["dep"], dep))
            reach = np.concatenate((c["reach"], reach))
            pid = np.concatenate((c["pid"], pid))
            flags = np.concatenate((c["flags"], flags))
        dep, reach, pid, flags = sort_entries(dep, reach, pid, flags, np.asarray(runs, np.int64))
        d = self.deps
        out = gate_stage(
            dep,
            reach,
            pid,
            flags,
            d.times_all,
            d.ints,
            d.counts_all,
            d.count,
            self.state,
            self.free,
            self.open_h,
            self.close_h,
            self.s_gate,
            self.delay_h,
            bound,
        )
        status, join, pass_t, rebook = out[:4]
        y_dep, y_reach, y_pid, y_status, y_join, y_pass, y_counted, leave = out[4:12]
        integrate_groups(out[12], out[13], out[14], bound, self.level, self.q_sum, self.q_max)
        self.gate_wait_sum_h += out[15]
        self.n_through += out[16]
        wait = status == UNDECIDED
        y_wait = y_status == UNDECIDED
        if self.record:
            done = ~wait
            y_done = ~y_wait
            self.records.append(
                {
                    "pid": np.concatenate((pid[done], y_pid[y_done])),
                    "second": np.concatenate(
                        (
                            (flags[done] & F_REBOOKED) != 0,
                            np.ones(int(np.count_nonzero(y_done)), bool),
                        )
                    ),
                    "dep": np.concatenate((dep[done], y_dep[y_done])),
                    "status": np.concatenate((status[done], y_status[y_done])),
                    "join": np.concatenate((join[done], y_join[y_done])),
                    "pass": np.concatenate((pass_t[done], y_pass[y_done])),
                    "rebook": np.concatenate(
                        (rebook[done], np.full(int(np.count_nonzero(y_done)), -2, np.int64))
                    ),
                }
            )
        if wait.any() or y_wait.any():
            y_flags = np.where(y_counted[y_wait] != 0, F_REBOOKED | F_COUNTED, F_REBOOKED)
            carry = {
                "dep": np.concatenate((dep[wait], y_dep[y_wait])),
                "reach": np.concatenate((reach[wait], y_reach[y_wait])),
                "pid": np.concatenate((pid[wait], y_pid[y_wait])),
                "flags": np.concatenate((flags[wait], y_flags.astype(np.int8))),
            }
            # kept in (reach, pid) order: the next call takes it as one sorted run
            order = np.lexsort((carry["pid"], carry["reach"]))
            self.carry = {k: v[order] for k, v in carry.items()}
        else:
            self.carry = None
        return leave
