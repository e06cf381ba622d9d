"""The fast station model reproduces the per-passenger SimPy reference on the same inputs."""

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

TOL = 1e-9  # hours; the two differ only by rounding in SimPy's now + delay


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
    np.testing.assert_allclose(fast, ref.start_h, rtol=0, atol=TOL)
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


@pytest.mark.parametrize(
    "changes",
    [
        {},
        # congested: one lane at each entrance, the south one closing at 20:00 with a queue
        {
            "entrances": [
                {"name": "north", "share": 0.5, "security_lanes_per_hour": [1] * 24},
                {
                    "name": "south",
                    "share": 0.5,
                    "security_lanes_per_hour": [0] * 6 + [1] * 14 + [0] * 4,
                },
            ]
        },
    ],
    ids=["small", "congested"],
)
def test_station_day_equals_the_reference(changes: dict[str, object]) -> None:
    """Security, walk, missed trains, gate queues and hall peak of a whole day."""
    spec = StationSpec.model_validate(small_station(**changes))
    day = datetime.date(2025, 3, 14)
    run = simulate_station(
        spec,
        start=datetime.datetime(2025, 3, 14),
        days=1,
        streams=Streams(9),
        record_passengers=True,
    )
    ref, arrival = reference_day(spec, day, seed=9)
    pax = run.tables["passengers"]
    np.testing.assert_array_equal(pax["arrival_h"], arrival)
    np.testing.assert_allclose(pax["security_start_h"], ref.start_h, rtol=0, atol=TOL)
    np.testing.assert_allclose(pax["security_exit_h"], ref.exit_h, rtol=0, atol=TOL)
    np.testing.assert_array_equal(pax["missed"], ref.missed)
    np.testing.assert_allclose(pax["gate_pass_h"], ref.gate_pass_h, rtol=0, atol=TOL)
    assert run.kpis["pax.hall_occupancy_max"] == ref.hall_max
    if changes:  # the congested variant really queues and misses trains
        assert run.kpis["pax.security_wait_min_max"] > 60
        assert run.kpis["pax.missed_departures"] > 100
        assert 0 < run.kpis["pax.missed_due_to_security"] <= run.kpis["pax.missed_departures"]
        zero_wait = pax["arrival_h"] + (pax["security_exit_h"] - pax["security_start_h"])
        in_time = zero_wait + spec.walk_to_gate_min / 60 <= pax["departure_h"] - 5 / 60
        assert run.kpis["pax.missed_due_to_security"] == (pax["missed"] & in_time).sum()
