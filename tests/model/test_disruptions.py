"""Disruptions: closures timed by hand, breakdown availability against renewal theory,
and the counterfactual cost with common random numbers."""

from __future__ import annotations

from pytest import approx

import g60rail as g6
from g60rail.experiment.impact import disruption_cost
from g60rail.model.disruptions import after_windows
from g60rail.model.report import freight_kpis
from tests.conftest import freight_baseline, songjiang_only, tiny
from tests.model.test_border import clear, make_box, make_port
from tests.model.test_timeline import box, run_world


def test_after_windows() -> None:
    w = [(11.0, 13.0), (20.0, 22.0)]
    assert after_windows(10.0, 2.0, w) == 13.0  # 10-12 overlaps 11-13
    assert after_windows(8.0, 3.0, w) == 8.0  # 8-11 touches but does not overlap
    assert after_windows(12.0, 0.0, w) == 13.0
    assert after_windows(13.0, 8.0, w) == 22.0  # 13-21 overlaps the second window


def test_line_closure_holds_the_train_until_it_can_run_through() -> None:
    # a-b closed Monday 11:00-13:00; the 10:00 train's 2 h run would overlap: it enters
    # at 13:00, arrives 15:00, shunts to 15.5, box unloaded 15.5-15.6
    sc = tiny(
        disruptions={
            "closures": [
                {
                    "kind": "line",
                    "where": ["a", "b"],
                    "start": "2025-01-06T11:00:00",
                    "end": "2025-01-06T13:00:00",
                }
            ]
        }
    )
    b1 = box(0, 2, 1.0)
    world = run_world(sc, [(1.0, "a", [b1])], horizon_h=30.0)
    assert b1.t_departed == approx(10.0)
    assert b1.t_arrived == approx(15.6)
    k = freight_kpis(world)
    assert k["disruption.line_closure_delay_teu_h"] == approx(2 * 3.0)
    assert k["freight.teu_delivered"] == 2


def test_closed_border_does_nothing_until_it_reopens() -> None:
    # closed 0.5-5.0; train of 3 boxes (6 TEU) arrives at 1.0: everything starts at 5.0,
    # one officer 3 x 0.5 h: cleared 6.5
    port, env = make_port(closed=[(0.5, 5.0)])
    _, t = clear(port, env, [make_box(i) for i in range(3)], arrive_h=1.0)
    assert t == approx(6.5)
    assert port.closure_delay_teu_h == approx(6 * 4.0)


def test_customs_outage_stops_declarations_only() -> None:
    # system down 0-3: scan 1.0-1.1 and technical 1.0-2.0 go on; declarations 3.0-4.5
    port, env = make_port(customs_down=[(0.0, 3.0)])
    _, t = clear(port, env, [make_box(i) for i in range(3)], arrive_h=1.0)
    assert t == approx(4.5)


def test_breakdown_availability_matches_renewal_theory() -> None:
    # an idle stacker alternates Exp(mean 50 h) up and 10 h repair: the long-run share of
    # time down is E[R] / (E[U] + E[R]) = 1/6 (alternating renewal process). Over 40,000 h
    # (~670 cycles) the estimate's standard deviation is about 0.006; allow 0.025.
    sc = tiny(
        disruptions={
            "breakdowns": [
                {"place": "a", "equipment": "reach_stackers", "mtbf_h": 50.0, "repair_h": 10.0}
            ]
        }
    )
    world = run_world(sc, [], horizon_h=40_000.0)
    k = freight_kpis(world)
    assert k["disruption.equipment_down_h"] / 40_000 == approx(1 / 6, abs=0.025)
    assert k["disruption.breakdowns"] == approx(40_000 / 60, rel=0.1)


def test_breakdowns_raise_dwell_and_lose_nothing() -> None:
    base = songjiang_only(freight_baseline())  # the broken stackers are Songjiang's
    hit = g6.Scenario.model_validate(
        {
            **base.model_dump(by_alias=True),
            "disruptions": {
                "breakdowns": [
                    {
                        "place": "songjiang",
                        "equipment": "reach_stackers",
                        "mtbf_h": 30.0,
                        "repair_h": {"dist": "lognormal", "mean": 24.0, "cv": 0.5},
                    },
                ]
            },
        }
    )
    a = g6.simulate(base, days=60, seed=4).kpis
    b = g6.simulate(hit, days=60, seed=4).kpis
    assert a["freight.teu_booked"] == b["freight.teu_booked"]  # same bookings
    assert b["hub.dwell_h_mean"] > a["hub.dwell_h_mean"]
    assert b["disruption.breakdowns"] > 0
    assert b["freight.teu_created"] == b["freight.teu_delivered"] + b["freight.teu_in_system_end"]


def landslide(start: str, end: str) -> g6.Scenario:
    """A closure of Boten - Vientiane, on the Songjiang services (the G60 and the LMX cross
    it)."""
    base = songjiang_only(freight_baseline())
    return g6.Scenario.model_validate(
        {
            **base.model_dump(by_alias=True),
            "disruptions": {
                "closures": [
                    {
                        "kind": "line",
                        "where": ["boten", "vientiane"],
                        "start": start,
                        "end": end,
                        "reason": "landslide",
                    },
                ]
            },
        }
    )


def test_counterfactual_cost_of_a_landslide() -> None:
    cost = disruption_cost(landslide("2025-01-20T00:00:00", "2025-01-24T00:00:00"), 40, 2)
    assert cost["disruption.extra_teu_h"] > 0
    assert cost["disruption.delayed_teu"] > 0
    # a closure after the horizon changes nothing at all
    none = disruption_cost(landslide("2026-01-20T00:00:00", "2026-01-24T00:00:00"), 40, 2)
    assert none["disruption.extra_teu_h"] == 0
    assert none["disruption.stranded_teu"] == 0
    assert none["disruption.delayed_teu"] == 0
