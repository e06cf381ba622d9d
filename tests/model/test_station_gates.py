"""The gate and rebooking kernel: a hand-worked timeline, compiled against interpreted,
and the ordering of the passengers it takes."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest

from g60rail.model.station import simulate_station
from g60rail.model.station.boarding import Boarding, sort_entries
from g60rail.model.station.demand import DayPassengers
from g60rail.model.station.gates import F_LATE, gate_stage
from g60rail.model.station.records import Departures
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import small_station

MONDAY = datetime.datetime(2025, 3, 10)
WALK = 2.0 / 60  # small_station's walk to the gates [h]
OPEN, CLOSE = 20.0 / 60, 5.0 / 60  # small_station's gate window [h before departure]


def _departures(
    time_h: np.ndarray, gate: np.ndarray, own: np.ndarray, seats: np.ndarray, nxt: np.ndarray
) -> Departures:
    deps = Departures(max(4, time_h.size))
    n = time_h.size
    deps.add(
        DayPassengers(
            day=MONDAY.date(),
            dep_time_h=time_h,
            dep_service=np.zeros(n, np.int64),
            dep_gate=gate,
            dep_passengers=own,
            dep_capacity=seats,
            dep_destination=np.zeros(n, np.int64),
            dep_next=nxt,
            dep_alighting=np.zeros(n, np.int64),
            dep_train_arrival_h=time_h,
            arrival_h=[],
            service_h=[],
            departure=[],
            pid=[],
        )
    )
    return deps


def test_hand_worked_gate_timeline() -> None:
    """One gate group, 1 min per passenger; departures A 10:00 and B 10:10 to the same
    destination (gates open 20 min before, close 5 min before), rebooking delay 2 min.

    ======  ===========  ======================================================
    pid     reaches      what happens
    ======  ===========  ======================================================
    0-2     A, 09:30     queue from 09:40; through 09:41, 09:42, 09:43
    3       B, 09:45     queues from 09:50 (B opens); through 09:51
    4       B, 09:50     through 09:53: A's passenger 5 (09:50.5) goes first
    5       A, 09:50.5   waits behind 3; A departs first: through 09:52
    6       A, 09:53.5   through 09:54.5
    7       A, 09:54.5   queues, cannot be through by 09:55: misses at the gate,
                         rebooked onto B, back at 09:57, through 09:58
    8       A, 09:56     reaches after closing: misses before the gate (late
                         flag: late arrival); rebooked onto B at 09:58; B has
                         one seat left after 7: through 09:59
    9       A, 09:56.5   misses before the gate (security); no seat left on B:
                         stranded at 09:56.5
    ======  ===========  ======================================================
    """
    t = lambda hh, mm: hh + mm / 60  # noqa: E731
    deps = _departures(
        np.array([t(10, 0), t(10, 10)]),
        np.zeros(2, np.int64),
        np.array([8, 2]),
        np.array([10, 4]),
        np.array([1, -1]),
    )
    spec = StationSpec.model_validate(
        small_station(
            gates={
                "groups": 1,
                "passengers_per_min": 1.0,
                "open_min_before_departure": 20.0,
                "close_min_before_departure": 5.0,
            },
            rebooking={"delay_min": 2.0},
        )
    )
    board = Boarding(spec, deps, n_slots=24, record=True)
    reach = np.array([t(9, 30)] * 3 + [t(9, 45), t(9, 50), t(9, 50.5), t(9, 53.5), t(9, 54.5)])
    reach = np.concatenate((reach, [t(9, 56), t(9, 56.5)]))
    dep = np.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    flags = np.zeros(10, np.int8)
    flags[8] = F_LATE
    leave = board.run(dep, reach, np.arange(10), flags, 24.0)
    r = {k: np.concatenate([x[k] for x in board.records]) for k in board.records[0]}
    first = {int(p): i for i, p in enumerate(r["pid"]) if not r["second"][i]}
    second = {int(p): i for i, p in enumerate(r["pid"]) if r["second"][i]}
    passed = {p: r["pass"][i] for p, i in first.items()}
    expect = {0: (9, 41), 1: (9, 42), 2: (9, 43), 3: (9, 51), 4: (9, 53), 5: (9, 52), 6: (9, 54.5)}
    for p, hm in expect.items():
        assert passed[p] == pytest.approx(t(*hm), abs=1e-12), p
    assert all(np.isnan(passed[p]) for p in (7, 8, 9))
    assert r["status"][first[7]] == 2 and r["status"][first[8]] == 3
    assert r["pass"][second[7]] == pytest.approx(t(9, 58), abs=1e-12)
    assert r["pass"][second[8]] == pytest.approx(t(9, 59), abs=1e-12)
    assert 9 not in second and r["rebook"][first[9]] == -1
    counts = dict(zip(["A", "B"], deps.counts_all[:2].tolist(), strict=True))
    # boarded, late, security, gate, rebooked in, rebooked boarded, rebooked missed, no seat
    assert counts["A"] == [5, 1, 1, 1, 0, 0, 0, 1]
    assert counts["B"] == [2, 0, 0, 0, 2, 2, 0, 0]
    assert sorted(leave.tolist()) == pytest.approx(
        sorted([t(*expect[p]) for p in expect] + [t(9, 58), t(9, 59), t(9, 56.5)]), abs=1e-12
    )


def test_gate_kernel_compiled_equals_interpreted() -> None:
    """The gate and rebooking kernel gives the same numbers without numba."""
    spec = StationSpec.model_validate(small_station())
    run = simulate_station(spec, start=MONDAY, days=1, streams=Streams(3), record_passengers=True)
    pax = run.tables["passengers"]
    dep_t = run.tables["pax_departures"]
    results = []
    for fn in (gate_stage, gate_stage.py_func):
        deps = _departures(
            dep_t["time_h"].to_numpy(),
            dep_t["gate_group"].to_numpy(),
            dep_t["passengers"].to_numpy(),
            np.full(len(dep_t), 10**6),
            np.append(np.arange(1, len(dep_t)), -1),
        )
        reach = (pax["security_exit_h"] + WALK).to_numpy()
        depi = pax["departure"].to_numpy()
        order = np.lexsort((pax["passenger"].to_numpy(), reach, depi))
        out = fn(
            depi[order],
            reach[order],
            pax["passenger"].to_numpy()[order],
            np.zeros(len(pax), np.int8),
            deps.times_all,
            deps.ints,
            deps.counts_all,
            deps.count,
            np.zeros(1, np.int64),
            np.full(3, -np.inf),
            OPEN,
            CLOSE,
            1 / (60 * 15),
            4 / 60,
            math.inf,
        )
        results.append((out, deps.counts_all.copy()))
    (a, ca), (b, cb) = results
    assert np.array_equal(ca, cb)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=True)
        else:
            assert x == y


def test_sort_entries_is_a_lexsort() -> None:
    """Runs that are nearly sorted (an entrance's passengers), a shuffled run (the carry,
    and the merge-sort fallback) and ties in reach broken by passenger number."""
    rng = np.random.default_rng(8)
    for trial in range(20):
        sizes = rng.integers(0, 800, 4)
        parts = []
        for k, m in enumerate(sizes):
            r = np.sort(rng.uniform(0, 30, m)) + rng.exponential(0.003, m)  # nearly sorted
            if k == 0 or trial % 5 == 0:
                r = rng.permutation(r)
            r[: m // 10] = np.round(r[: m // 10], 1)  # ties
            parts.append(r)
        reach = np.concatenate(parts)
        n = reach.size
        dep = rng.integers(0, 50, n)
        pid = rng.permutation(n)
        flags = rng.integers(0, 8, n).astype(np.int8)
        runs = np.concatenate(([0], np.cumsum(sizes)))
        out = sort_entries(dep, reach, pid, flags, runs)
        order = np.lexsort((pid, reach, dep))
        for got, col in zip(out, (dep, reach, pid, flags), strict=True):
            assert np.array_equal(got, col[order])
