"""The fast station model reproduces the per-passenger SimPy reference on the same inputs,
to the last digit: security starts and exits, gate queues and passing times, misses by
cause, rebooking and stranding, hall peak and exit gates."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from g60rail.model.station import simulate_station
from g60rail.model.station.records import SecurityBank
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import reference_day, reference_station, small_station

DAY = datetime.date(2025, 3, 14)


def _spec_with_lanes(lanes: list[list[int]]) -> StationSpec:
    share = 1.0 / len(lanes)
    entrances = [
        {"name": f"e{i}", "share": share, "security_lanes_per_hour": x} for i, x in enumerate(lanes)
    ]
    return StationSpec.model_validate(small_station(entrances=entrances))


lane_plans = st.lists(st.integers(0, 3), min_size=24, max_size=24).filter(lambda x: max(x) > 0)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    lanes=st.lists(lane_plans, min_size=1, max_size=3),
    hour_offset=st.floats(0.0, 23.99),
    mean_service_h=st.sampled_from([0.002, 0.05, 0.3]),
)
def test_security_waits_equal_the_reference(
    seed: int, n: int, lanes: list[list[int]], hour_offset: float, mean_service_h: float
) -> None:
    """Random arrivals, screening times and hourly lane plans (lanes open and close while
    passengers queue and while lanes are busy)."""
    rng = np.random.default_rng(seed)
    arrival = np.sort(rng.uniform(-3.0, 30.0, n))
    service = rng.exponential(mean_service_h, n)
    entrance = rng.integers(0, len(lanes), n)
    bank = SecurityBank(_spec_with_lanes(lanes), hour_offset)
    fast = bank.starts(arrival, service, entrance)
    ref = reference_station(arrival, service, entrance, lanes, hour_offset)
    np.testing.assert_array_equal(fast, ref.start_h)
    assert np.isfinite(fast).all()


def test_chunked_calls_continue_one_queue() -> None:
    """The state carried between windows makes chunked runs equal one long run."""
    rng = np.random.default_rng(3)
    lanes = [[1] * 6 + [2] * 12 + [0] * 6]
    arrival = np.sort(rng.uniform(0, 72, 5000))
    service = rng.exponential(0.01, 5000)
    entrance = np.zeros(5000, dtype=np.int64)
    whole = SecurityBank(_spec_with_lanes(lanes), 0.0).starts(arrival, service, entrance)
    bank = SecurityBank(_spec_with_lanes(lanes), 0.0)
    parts = [
        bank.starts(arrival[s], service[s], entrance[s])
        for s in (slice(0, 1700), slice(1700, 3100), slice(3100, None))
    ]
    assert np.array_equal(np.concatenate(parts), whole)


CASES = {
    "small": {},
    # one lane at each entrance, the south one closing at 20:00 with a queue: security
    # misses, rebooking onto full trains
    "congested": {
        "entrances": [
            {"name": "north", "share": 0.5, "security_lanes_per_hour": [1] * 24},
            {
                "name": "south",
                "share": 0.5,
                "security_lanes_per_hour": [0] * 6 + [1] * 14 + [0] * 4,
            },
        ]
    },
    # slow gates: long gate queues overlapping between departures of a group, misses at
    # the gate, rebooked passengers queuing again, seats running out
    "slow_gates": {
        "gates": {
            "groups": 2,
            "passengers_per_min": 6.0,
            "open_min_before_departure": 25.0,
            "close_min_before_departure": 5.0,
        },
        "rebooking": {"delay_min": 0.0},
    },
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, StationSpec, object, object, dict]:
    name = request.param
    spec = StationSpec.model_validate(small_station(**CASES[name]))
    run = simulate_station(
        spec,
        start=datetime.datetime.combine(DAY, datetime.time()),
        days=1,
        streams=Streams(9),
        record_passengers=True,
        window_days=1,
    )
    ref, inputs = reference_day(spec, DAY, seed=9)
    return name, spec, run, ref, inputs


def test_station_day_equals_the_reference(case: tuple) -> None:
    """Every passenger's times and outcome, to the last digit."""
    _, _, run, ref, inputs = case
    pax = run.tables["passengers"]
    eq = np.testing.assert_array_equal
    eq(pax["arrival_h"], inputs["arrival_h"])
    eq(pax["security_start_h"], ref.start_h)
    eq(pax["security_exit_h"], ref.exit_h)
    eq(pax["gate_arrival_h"], ref.gate_arrival_h)
    eq(pax["gate_pass_h"], ref.gate_pass_h)
    eq(pax["boarded"], ref.status == 1)
    eq(pax["miss_cause"] == "gate", ref.status == 2)
    eq(pax["rebooked_departure"], ref.rebooked_departure)
    eq(pax["rebooked_gate_arrival_h"], ref.gate_arrival2_h)
    eq(pax["rebooked_gate_pass_h"], ref.gate_pass2_h)
    eq(pax["boarded_rebooked"], ref.status2 == 1)
    eq(pax["stranded"], (ref.status != 1) & (ref.status2 != 1))
    assert run.kpis["pax.hall_occupancy_max"] == ref.hall_max
    arr = run.tables["arriving_passengers"]
    eq(arr["exit_reach_h"], inputs["exit_reach_h"])
    eq(arr["exit_start_h"], ref.exit_start_h)


def test_the_reference_cases_exercise_the_rules(case: tuple) -> None:
    """Each case really reaches the rules it is there for (else equality proves little)."""
    name, _, run, _, _ = case
    k = run.kpis
    assert k["pax.missed_late_arrival"] > 0
    assert k["pax.rebooked"] > 0 and k["pax.boarded_after_rebooking"] > 0
    if name == "congested":
        assert k["pax.security_wait_min_max"] > 60
        assert k["pax.missed_due_to_security"] > 100
    if name == "slow_gates":
        assert k["pax.missed_at_gate"] > 500
        assert k["pax.stranded"] > 100
        pax = run.tables["passengers"]
        assert (pax["rebooked"] & ~pax["boarded_rebooked"]).sum() > 10  # missed twice
    # the exit gates queue
    assert k["pax.exit_wait_min_max"] > 0


def test_windows_do_not_change_the_result(case: tuple) -> None:
    """One-day and four-day windows, with or without the background thread that draws the
    days and runs the exit gates, give the same numbers (the state carries exactly)."""
    _, spec, _, _, _ = case
    start = datetime.datetime.combine(DAY, datetime.time()) - datetime.timedelta(hours=7)
    runs = [
        simulate_station(
            spec,
            start=start,
            days=2,
            streams=Streams(9),
            record_passengers=True,
            window_days=w,
            prefetch=pf,
        )
        for w, pf in ((1, False), (4, True), (2, True))
    ]
    first = runs[0]
    for other in runs[1:]:
        # whole-run sums are added window by window: equal up to rounding
        assert other.kpis == pytest.approx(first.kpis, rel=1e-12)
        for t in first.tables:
            assert other.tables[t].equals(first.tables[t]), t
