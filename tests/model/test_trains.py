"""Timetables and the three dispatch policies, timed by hand.

The service runs between two sidings (places without a terminal), so loading takes no
modelled time and only the policy decides when the train leaves.  Capacity 4 TEU; every
box is a 40-footer (2 TEU); the timetable says Monday 10:00 (t = 10 h).
"""

from __future__ import annotations

import pytest
from pytest import approx

import g60rail as g6
from g60rail.model.trains import departure_times
from g60rail.scenario.schema import ServiceSpec
from tests.conftest import freight_baseline, tiny
from tests.model.test_timeline import box, run_world

SIDINGS = {
    "x": {"name": "X", "lat": 30.0, "lon": 110.0, "country": "CN", "kind": "exit"},
    "y": {"name": "Y", "lat": 30.0, "lon": 111.0, "country": "CN", "kind": "exit"},
}


def siding_scenario(**service):
    places = {**tiny().to_dict()["places"], **SIDINGS}
    legs = [
        *tiny().to_dict()["legs"],
        {"from": "x", "to": "y", "mode": "rail", "km": 100, "speed_kmh": 50},
    ]
    spec = {"route": ["x", "y"], "departures": ["Mon 10:00"], "capacity_teu": 4, **service}
    return tiny(places=places, legs=legs, services={"v": spec})


def departures(policy: dict, bookings: list[float], horizon_h: float = 30.0) -> list[tuple]:
    sc = siding_scenario(**policy)
    feed = [(t, "x", [box(i, 2, t, "v", ("x", "y"))]) for i, t in enumerate(bookings)]
    world = run_world(sc, feed, horizon_h)
    return [(r[6], r[8]) for r in sorted(world.trains.rows)]


def test_scheduled_leaves_on_time_with_what_is_there() -> None:
    assert departures({"policy": "scheduled"}, [1.0, 11.0]) == [(approx(10.0), 2)]


def test_full_leaves_when_the_next_box_does_not_fit() -> None:
    # placed at 10:00 (no load window at a siding); 2 TEU at 11, 4 TEU at 12: full
    assert departures({"policy": "full"}, [11.0, 12.0]) == [(approx(12.0), 4)]


def test_hybrid_waits_for_minimum_fill() -> None:
    pol = {"policy": "hybrid", "min_fill_teu": 4, "max_hold_h": 3.0}
    assert departures(pol, [1.0, 11.5]) == [(approx(11.5), 4)]


def test_hybrid_gives_up_after_the_maximum_hold() -> None:
    pol = {"policy": "hybrid", "min_fill_teu": 4, "max_hold_h": 3.0}
    assert departures(pol, [1.0]) == [(approx(13.0), 2)]


def test_hybrid_leaves_on_time_when_filled() -> None:
    pol = {"policy": "hybrid", "min_fill_teu": 4, "max_hold_h": 3.0}
    assert departures(pol, [1.0, 2.0]) == [(approx(10.0), 4)]


@pytest.mark.parametrize(
    ("times", "week0_h", "horizon_h", "expected"),
    [
        (["Wed 15:25"], 0.0, 400.0, [63.0 + 25 / 60, 231.0 + 25 / 60, 399.0 + 25 / 60]),
        (["Mon 10:00"], 33.5, 400.0, [144.5, 312.5]),  # start Tuesday 09:30
        (["daily 08:00"], 0.0, 72.0, [8.0, 32.0, 56.0]),
        (["Sun 23:00", "Mon 01:00"], 0.0, 170.0, [1.0, 167.0, 169.0]),
    ],
)
def test_departure_times(times, week0_h, horizon_h, expected) -> None:
    spec = ServiceSpec(route=["a", "b"], departures=times, capacity_teu=10)
    assert list(departure_times(spec, week0_h, horizon_h)) == approx(expected)


def test_weekly_time_is_validated() -> None:
    with pytest.raises(ValueError, match="Wed 15:25"):
        ServiceSpec(route=["a", "b"], departures=["Wednesday 3pm"], capacity_teu=10)


def test_a_run_without_per_train_records_keeps_every_kpi() -> None:
    """``record_trains=False`` (and ``record_containers=False``) drops the per-train and
    per-box rows, not a statistic: the KPIs are the full run's, bit for bit."""
    sc = freight_baseline()
    full = g6.simulate(sc, days=10, seed=4)
    lean = g6.simulate(sc, days=10, seed=4, record_containers=False, record_trains=False)
    assert repr(sorted(lean.kpis.items())) == repr(sorted(full.kpis.items()))
    for name in ("trains", "border", "sections"):
        assert len(full.tables[name]) > 0
        assert len(lean.tables[name]) == 0
        assert list(lean.tables[name].columns) == list(full.tables[name].columns)
