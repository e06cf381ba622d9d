"""Conservation and ordered milestones on every run of several scenarios and seeds.

Source: the conservation rule of ../shared/DESIGN.md ("A container is never lost ...
``freight.teu_created == freight.teu_delivered + freight.teu_in_system_end``") and the
milestone order of :data:`g60rail.model.cargo.MILESTONES`; the checks themselves are in
:mod:`tests.validation.checks`.  Scenarios: the baseline (with the station), a congested
hub (tiny yard, one reach stacker, one gate lane: trucks queue, nothing is dropped), the
baseline under every kind of disruption, other dispatch policies, and the tiny
hand-computable scenario with demand.
"""

from __future__ import annotations

from typing import Any

import pytest

import g60rail as g6
from tests.conftest import tiny
from tests.validation.checks import check_run

NO_STATION = {"station": None}

DISRUPTIONS: dict[str, Any] = {
    "disruptions.breakdowns": [
        {
            "place": "songjiang",
            "equipment": "reach_stackers",
            "mtbf_h": 120.0,
            "repair_h": {"dist": "lognormal", "mean": 8.0, "cv": 0.5},
        },
        {"place": "kunming", "equipment": "gate_lanes", "mtbf_h": 200.0, "repair_h": 4.0},
    ],
    "disruptions.closures": [
        {
            "kind": "line",
            "where": ["boten", "vientiane"],
            "start": "2025-01-20T00:00:00",
            "end": "2025-01-24T00:00:00",
            "reason": "landslide",
        },
        {
            "kind": "border",
            "where": ["mohan"],
            "start": "2025-02-01T06:00:00",
            "end": "2025-02-02T18:00:00",
            "reason": "holiday",
        },
        {
            "kind": "customs",
            "where": ["boten"],
            "start": "2025-02-10T00:00:00",
            "end": "2025-02-10T12:00:00",
            "reason": "system outage",
        },
    ],
}

CONGESTED = {
    "hub.yard_teu": 150,
    "hub.reach_stackers": 1,
    "hub.gate_lanes": 1,
    "hub.loading_tracks": 1,
}

POLICIES = {
    "services.g60.policy": "full",
    "services.shanghai_yunnan.policy": "hybrid",
    "services.shanghai_yunnan.min_fill_teu": 40,
    "services.shanghai_yunnan.max_hold_h": 12,
}

CASES = [
    ("baseline", {}, 45, 0),
    ("baseline", NO_STATION, 60, 1),  # a year: tests/validation/test_calibration.py
    ("congested", {**NO_STATION, **CONGESTED}, 45, 2),
    ("disrupted", {**NO_STATION, **DISRUPTIONS}, 60, 3),
    ("disrupted+congested", {**NO_STATION, **DISRUPTIONS, **CONGESTED}, 45, 4),
    ("policies", {**NO_STATION, **POLICIES}, 60, 5),
]


@pytest.fixture(scope="module")
def baseline() -> g6.Scenario:
    """The packaged baseline."""
    return g6.load_scenario("baseline")


@pytest.mark.parametrize(
    ("label", "overrides", "days", "seed"), CASES, ids=[f"{c[0]}-seed{c[3]}" for c in CASES]
)
def test_every_run_conserves_and_orders(
    baseline: g6.Scenario, label: str, overrides: dict[str, Any], days: int, seed: int
) -> None:
    """Conservation, ordered milestones and (with the station) every passenger accounted."""
    sc = baseline.with_overrides(overrides)
    res = g6.simulate(sc, days=days, seed=seed)
    check_run(res, sc)
    assert res.kpis["freight.teu_delivered"] > 0
    if label.startswith("disrupted"):
        assert res.kpis["disruption.breakdowns"] > 0
        assert res.kpis["disruption.line_closure_delay_teu_h"] > 0
        assert res.kpis["disruption.border_closure_delay_teu_h"] > 0
        assert "disruption.stranded_teu_end" not in res.kpis  # a copy of teu_in_system_end
    if "congested" in label:
        assert res.kpis["hub.gate_queue_max"] > 0  # trucks did wait for yard space


def test_passenger_records_are_ordered(baseline: g6.Scenario) -> None:
    """Per-passenger milestones (two days with passenger records)."""
    if baseline.station is None:
        pytest.skip("the baseline has no station")
    res = g6.simulate(baseline, days=2, seed=6, record_passengers=True)
    assert "passengers" in res.tables
    check_run(res)


@pytest.mark.parametrize("policy", ["scheduled", "full", "hybrid"])
def test_tiny_with_demand(policy: str) -> None:
    """The hand-computable tiny scenario with Poisson demand, under every policy."""
    sc = tiny(
        {
            "services.s.policy": policy,
            "services.s.min_fill_teu": 6 if policy == "hybrid" else 0,
            "services.s.max_hold_h": 10,
        }
    )
    data = sc.to_dict()
    data["services"]["s"]["demand"] = {"teu_per_week": 40.0}
    data["services"]["back"] = {
        "route": ["b", "a"],
        "departures": ["daily 06:00"],
        "capacity_teu": 8,
        "demand": {"teu_per_week": 20.0},
    }
    from g60rail.scenario.io import scenario_from_dict

    res = g6.simulate(scenario_from_dict(data), days=21, seed=7)
    check_run(res)
    assert res.kpis["freight.teu_created"] > 0


def test_record_containers_off_keeps_the_kpis(baseline: g6.Scenario) -> None:
    """``record_containers=False`` changes no KPI, only drops the per-box table."""
    sc = baseline.with_overrides(NO_STATION)
    a = g6.simulate(sc, days=20, seed=8)
    b = g6.simulate(sc, days=20, seed=8, record_containers=False)
    check_run(b)
    assert a.kpis == pytest.approx(b.kpis, nan_ok=True)
