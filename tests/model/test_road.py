"""Road alternative: driving hours with rest, border crossings, trip times."""

from __future__ import annotations

import pytest

from g60rail.model.road import driving_time_h
from g60rail.model.run import simulate
from g60rail.scenario.io import load_scenario


@pytest.mark.parametrize(
    ("drive_h", "expected"),
    [(10.0, 10.0), (20.0, 20.0), (21.0, 25.0), (40.0, 44.0), (41.0, 49.0)],
)
def test_driving_time_with_daily_rest(drive_h: float, expected: float) -> None:
    # 20 h driving then 4 h rest
    assert driving_time_h(drive_h, 20.0) == pytest.approx(expected)


def test_road_trip_songjiang_vientiane_by_hand() -> None:
    # baseline road legs: 2730 km and 700 km at 60 km/h, 3 km at 20, 680 km at 45:
    # 45.5 + 11.667 + 0.15 + 15.111 = 72.428 h driving -> 3 rests of 4 h (after 20, 40,
    # 60 h); one border crossing (Mohan CN -> Boten LA) of 6 h; no drayage (origin
    # Songjiang)
    sc = load_scenario(
        "baseline",
        overrides={
            "road.border_h": 6.0,
            "services.g60.demand.road_share": 1.0,
            "services.g60.demand.origins": {"songjiang": 1.0},
            "services.g60.demand.destinations": {"vientiane": 1.0},
        },
    )
    res = simulate(sc, days=20, seed=1)
    expected = 2730 / 60 + 700 / 60 + 3 / 20 + 680 / 45 + 3 * 4 + 6.0
    assert res.kpis["road.songjiang_vientiane.h_mean"] == pytest.approx(expected)
    assert res.kpis["road.songjiang_vientiane.h_p95"] == pytest.approx(expected)
