"""Demand: arrival rates against the Poisson model, seasonality, box mix, itineraries."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from g60rail.errors import ScenarioError
from g60rail.model.demand import DemandGenerator, month_boundaries_h
from g60rail.random import Streams
from g60rail.scenario.io import load_scenario
from tests.conftest import tiny


def generate(demand: dict, days: float, seed: int = 1):
    sc = tiny(
        services={
            "s": {
                "route": ["a", "b"],
                "departures": ["Mon 10:00"],
                "capacity_teu": 10,
                "demand": demand,
            }
        }
    )
    env = simpy.Environment()
    streams = Streams(seed)
    trucks = []
    ids = iter(range(10**9))
    gen = DemandGenerator(
        env,
        "s",
        sc.services["s"].demand,
        sc,
        streams.rng("d"),
        streams.rng("c"),
        lambda d: 0.0,
        trucks.append,
        lambda: next(ids),
        24.0 * days,
    )
    env.process(gen.run())
    env.run(until=24.0 * days)
    return trucks


def test_teu_per_week_matches_the_rate_within_poisson_noise() -> None:
    # 40' share 0.5, twin share 0.5: 1.75 TEU a truck; 70 TEU/week = 40 trucks/week
    weeks = 52
    trucks = generate({"teu_per_week": 70, "share_40ft": 0.5, "twin_20ft_share": 0.5}, 7 * weeks)
    n = len(trucks)
    expected = 40 * weeks
    assert abs(n - expected) < 4 * math.sqrt(expected)  # 4 sigma of a Poisson count
    teu = sum(b.teu for _, boxes, _ in trucks for b in boxes)
    assert teu / weeks == pytest.approx(70, rel=0.08)
    forty = np.mean([boxes[0].teu == 2 for _, boxes, _ in trucks])
    assert abs(forty - 0.5) < 4 * math.sqrt(0.25 / n)


def test_month_with_zero_seasonality_has_no_arrivals() -> None:
    season = [1.0] * 12
    season[1] = 0.0  # February
    trucks = generate({"teu_per_week": 200, "seasonality": season}, 120)
    t_feb = month_boundaries_h(tiny().meta.start, 24 * 120)
    feb_start, mar_start = t_feb[1][0], t_feb[2][0]
    times = np.array([boxes[0].t_created for _, boxes, _ in trucks])
    assert not np.any((times >= feb_start) & (times < mar_start))
    assert np.any(times < feb_start) and np.any(times >= mar_start)


def test_month_boundaries_follow_the_calendar() -> None:
    b = month_boundaries_h(tiny().meta.start, 24 * 60)  # from 2025-01-06
    assert b[0] == (0.0, 0)
    assert b[1] == (pytest.approx(26 * 24), 1)  # 2025-02-01
    assert b[2] == (pytest.approx((26 + 28) * 24), 2)


def test_same_seed_same_bookings_and_different_seed_differs() -> None:
    d = {"teu_per_week": 100}
    a = [b.t_created for _, bs, _ in generate(d, 30, seed=3) for b in bs]
    b = [b.t_created for _, bs, _ in generate(d, 30, seed=3) for b in bs]
    c = [b.t_created for _, bs, _ in generate(d, 30, seed=4) for b in bs]
    assert a == b
    assert a != c


def test_itineraries_direct_onward_and_transfer() -> None:
    sc = load_scenario("baseline")
    assert [h.to for h in sc.itinerary("g60", "vientiane")] == ["vientiane"]
    onward = sc.itinerary("g60", "bangkok")
    assert [(h.kind, h.from_, h.to) for h in onward] == [
        ("rail", "songjiang", "vientiane"),
        ("onward", "vientiane", "bangkok"),
    ]
    transfer = sc.itinerary("shanghai_yunnan", "vientiane")
    assert [(h.ref, h.from_, h.to) for h in transfer] == [
        ("shanghai_yunnan", "songjiang", "kunming"),
        ("lmx", "kunming", "vientiane"),
    ]
    with pytest.raises(ScenarioError) as err:
        sc.itinerary("lmx", "alashankou")
    assert err.value.field == "services.lmx.demand.destinations.alashankou"


def test_bookings_per_departure_arrive_before_their_train() -> None:
    # Mondays 10:00, constant 24 h lead: the trucks for week w's train leave on Sunday
    # 10:00, t = 168 w - 14. Horizon 50 weeks: weeks 1..50 (week 0's would leave at -14,
    # week 50's at 8,386 < 8,400). Each count is Poisson with mean 40 trucks (70 TEU/week
    # at 1.75 TEU a truck), so the total is within 4 sigma of 50 x 40.
    sc = tiny(
        services={
            "s": {
                "route": ["a", "b"],
                "departures": ["Mon 10:00"],
                "capacity_teu": 10,
                "demand": {
                    "teu_per_week": 70,
                    "share_40ft": 0.5,
                    "twin_20ft_share": 0.5,
                    "booking_lead_h": 24.0,
                },
            }
        }
    )
    env = simpy.Environment()
    streams = Streams(5)
    trucks = []
    ids = iter(range(10**9))
    from g60rail.model.trains import departure_times

    deps = departure_times(sc.services["s"], 0.0, 24.0 * 7 * 52)
    gen = DemandGenerator(
        env,
        "s",
        sc.services["s"].demand,
        sc,
        streams.rng("d"),
        streams.rng("c"),
        lambda d: 0.0,
        trucks.append,
        lambda: next(ids),
        24.0 * 7 * 50,
        deps,
        streams.rng("lead"),
    )
    env.process(gen.run())
    env.run()
    times = np.array([boxes[0].t_created for _, boxes, _ in trucks])
    assert set(np.round((times + 14.0) % 168.0, 9)) == {0.0}  # all on Sundays 10:00
    assert abs(len(trucks) - 40 * 50) < 4 * math.sqrt(40 * 50)
    assert times.min() >= 0


def test_bookings_per_departure_need_their_stream() -> None:
    sc = tiny(
        services={
            "s": {
                "route": ["a", "b"],
                "departures": ["Mon 10:00"],
                "capacity_teu": 10,
                "demand": {"teu_per_week": 10, "booking_lead_h": 24.0},
            }
        }
    )
    with pytest.raises(ValueError, match="lead_rng"):
        DemandGenerator(
            simpy.Environment(),
            "s",
            sc.services["s"].demand,
            sc,
            Streams(0).rng("d"),
            Streams(0).rng("c"),
            lambda d: 0.0,
            lambda b: None,
            lambda: 0,
            100.0,
            [10.0],
        )
