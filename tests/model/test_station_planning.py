"""Security-lane planning meets its target with no lane to spare."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from g60rail.model.station import simulate_station
from g60rail.model.station.planning import LanePlan, plan_security_lanes
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import small_station

DAY = datetime.date(2025, 3, 14)
TARGET = 4.0
SEED = 21


def hourly_p95(spec: StationSpec) -> pd.Series:
    """p95 wait [min] per (entrance, hour of day) of an independent simulate_station run."""
    run = simulate_station(
        spec,
        start=datetime.datetime.combine(DAY, datetime.time()),
        days=1,
        streams=Streams(SEED),
        record_passengers=True,
    )
    pax = run.tables["passengers"]
    hour = np.floor(pax["arrival_h"]).astype(int) % 24
    return pax.groupby([pax["entrance"].astype(str), hour])["security_wait_min"].quantile(0.95)


@pytest.fixture(scope="module")
def setup() -> tuple[StationSpec, LanePlan]:
    spec = StationSpec.model_validate(
        small_station(
            services=[
                {
                    "destination": "Hangzhou East",
                    "train_type": "hsr",
                    "departures_per_day": 40,
                    "first_departure_h": 6.0,
                    "last_departure_h": 22.5,
                    "seats": 1193,
                    "load_factor": 0.5,
                },
            ]
        )
    )
    return spec, plan_security_lanes(spec, day=DAY, target_p95_min=TARGET, seed=SEED)


def test_plan_meets_the_target(setup: tuple[StationSpec, LanePlan]) -> None:
    spec, plan = setup
    p95 = hourly_p95(plan.apply(spec))
    assert p95.max() <= TARGET
    assert plan.hourly["wait_p95_min"].max() <= TARGET
    assert plan.passengers > 20_000
    assert plan.lanes["total"].max() >= 5  # the target takes real staffing


def test_one_lane_less_in_the_peak_hour_misses(setup: tuple[StationSpec, LanePlan]) -> None:
    spec, plan = setup
    lanes = plan.lanes_per_hour()
    for name in lanes:
        x = list(lanes[name])
        peak = int(np.argmax(x))
        x[peak] -= 1
        p95 = hourly_p95(spec.with_security_lanes({**lanes, name: tuple(x)}))
        assert p95.loc[name].max() > TARGET, (name, peak)


def test_plan_is_shown(setup: tuple[StationSpec, LanePlan]) -> None:
    _, plan = setup
    text = str(plan)
    assert "2025-03-14" in text and "p95 wait <= 4 min" in text
    assert {"north", "south", "total"} <= set(plan.lanes.columns)
    assert list(plan.lanes.index) == list(range(24))
    assert len(text.splitlines()) == 1 + 1 + 3  # title, hour header, two entrances, total
    assert (plan.lanes["total"] == plan.lanes["north"] + plan.lanes["south"]).all()


def test_day_as_number_and_bad_arguments(setup: tuple[StationSpec, LanePlan]) -> None:
    spec, plan = setup
    again = plan_security_lanes(
        spec,
        day=3,
        start=datetime.date(2025, 3, 11),
        target_p95_min=TARGET,
        seed=Streams(SEED),
    )
    pd.testing.assert_frame_equal(again.lanes, plan.lanes)
    with pytest.raises(ValueError, match="start"):
        plan_security_lanes(spec, day=3, target_p95_min=TARGET)
    with pytest.raises(ValueError, match="positive"):
        plan_security_lanes(spec, day=DAY, target_p95_min=0.0)
    with pytest.raises(ValueError, match="cannot meet"):
        plan_security_lanes(spec, day=DAY, target_p95_min=0.01, max_lanes=2)
