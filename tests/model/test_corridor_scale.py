"""The corridor at published scale: where capacity binds, the warm-up, the backlog flag.

``songjiang_design`` loads the Songjiang hub at its design throughput (about 2 Mt, 170 k
TEU a year).  Each check compares runs with common random numbers (same seed, same
bookings), so the differences are the capacities', not noise.
"""

from __future__ import annotations

import pytest

import g60rail as g6
from tests.conftest import songjiang_design_hub, songjiang_hub
from tests.validation.checks import check_run

DAYS, WARMUP, SEED = 120, 7, 5


@pytest.fixture(scope="module")
def design() -> g6.Scenario:
    """The design case's Songjiang services (the hub sees nothing of the others)."""
    return songjiang_design_hub()


@pytest.fixture(scope="module")
def runs(design: g6.Scenario) -> dict[str, g6.Result]:
    """The design case and the same with one reach stacker, loading track or gate lane
    fewer at Songjiang."""
    variants = {
        "design": {},
        "stackers": {"hub.reach_stackers": design.hub.reach_stackers - 1},
        "tracks": {"hub.loading_tracks": design.hub.loading_tracks - 1},
        "gate": {"hub.gate_lanes": design.hub.gate_lanes - 1},
    }
    return {
        name: g6.simulate(
            design.with_overrides(ov),
            days=DAYS,
            seed=SEED,
            warmup_days=WARMUP,
            record_containers=name == "design",
        )
        for name, ov in variants.items()
    }


def test_the_design_case_keeps_the_reach_stackers_busy(runs: dict[str, g6.Result]) -> None:
    k = runs["design"].kpis
    assert k["hub.reach_stacker_utilization"] >= 0.40
    assert 130e3 <= k["hub.teu_handled_per_year"] <= 210e3
    assert k["freight.backlog_growing"] == 0.0  # busy, yet a steady state
    check_run(runs["design"])


def test_one_stacker_fewer_lengthens_the_trucks_turnaround(runs: dict[str, g6.Result]) -> None:
    # train work goes first on the stackers, so a stacker fewer is felt by the trucks
    # waiting to be unloaded (their turnaround), while trains keep being loaded in time
    base = runs["design"].kpis
    fewer = runs["stackers"].kpis
    assert fewer["hub.truck_turnaround_h_p95"] >= 1.10 * base["hub.truck_turnaround_h_p95"]
    assert fewer["hub.reach_stacker_utilization"] > base["hub.reach_stacker_utilization"]


def test_stackers_serving_first_come_first_served_make_the_boxes_miss_their_trains(
    design: g6.Scenario, runs: dict[str, g6.Result]
) -> None:
    """Train work first (the default) keeps the trains loaded in time: a stacker fewer
    leaves the wait for the train (p95) within a few per cent.  Served in the order asked
    for, the stackers let trucks hold up loading, trains leave boxes behind, and the same
    stacker fewer lengthens that wait by far more than 10 %: the boxes left behind pile
    up, where the design case itself is a steady state."""
    dwell = "hub.dwell_to_train_h_p95"
    trains_first = runs["stackers"].kpis[dwell] / runs["design"].kpis[dwell]
    assert abs(trains_first - 1.0) < 0.10
    fcfs = design.with_overrides({"hub.stacker_priority": "fcfs"})
    one_fewer = {"hub.reach_stackers": design.hub.reach_stackers - 1}
    kw = {"days": DAYS, "seed": SEED, "warmup_days": WARMUP, "record_containers": False}
    base = g6.simulate(fcfs, **kw).kpis
    fewer = g6.simulate(fcfs.with_overrides(one_fewer), **kw).kpis
    assert base["freight.backlog_growing"] == 0.0
    assert fewer[dwell] >= 1.10 * base[dwell]
    assert fewer["freight.backlog_growing"] == 1.0  # the boxes left behind pile up


def test_reach_stackers_bind_before_loading_tracks_and_gate_lanes(
    runs: dict[str, g6.Result],
) -> None:
    k = runs["design"].kpis
    # the busiest resource per unit ...
    assert k["hub.reach_stacker_utilization"] > k["hub.track_utilization"]
    assert k["hub.reach_stacker_utilization"] > k["hub.gate_utilization"]

    # ... and the one whose loss costs most, in the wait for the train and at the gate
    def cost(name: str) -> float:
        r = runs[name].kpis
        return (r["hub.dwell_to_train_h_mean"] - k["hub.dwell_to_train_h_mean"]) + (
            r["hub.truck_turnaround_h_mean"] - k["hub.truck_turnaround_h_mean"]
        )

    assert cost("stackers") > cost("tracks")
    assert cost("stackers") > cost("gate")


def test_a_run_of_four_weeks_leaves_out_its_first_week_by_default() -> None:
    sc = songjiang_hub()
    assert g6.simulate(sc, days=28, seed=1).manifest["warmup_days"] == 7.0
    assert g6.simulate(sc, days=5, seed=1).manifest["warmup_days"] == 0.0


# twice the cross-border bookings, with the same trains and sets: boxes pile up
JAM = {
    "services.cross_border.demand.teu_per_week": 4600.0,
    "services.cross_border_return.demand.teu_per_week": 4600.0,
}


def test_an_empty_corridor_filling_up_is_not_a_growing_backlog() -> None:
    """With no warm-up the TEU inside rise for the first week whatever the load (no box is
    delivered before about the sixth day): the backlog is judged after that week, so a
    steady corridor is not flagged, while one booked past its trains still is."""
    sc = g6.load_scenario("baseline").with_overrides({"station": None})
    steady = g6.simulate(sc, days=24, seed=2, warmup_days=0.0, record_containers=False)
    assert steady.kpis["freight.backlog_growing"] == 0.0
    grown = g6.simulate(
        sc.with_overrides(JAM), days=24, seed=2, warmup_days=0.0, record_containers=False
    )
    assert grown.kpis["freight.backlog_growing"] == 1.0


def test_a_backlog_that_keeps_growing_is_flagged() -> None:
    sc = g6.load_scenario("baseline").with_overrides({"station": None})
    steady = g6.simulate(sc, days=42, seed=2, record_containers=False)
    assert steady.kpis["freight.backlog_growing"] == 0.0
    grown = g6.simulate(sc.with_overrides(JAM), days=42, seed=2, record_containers=False)
    assert grown.kpis["freight.backlog_growing"] == 1.0
    assert grown.kpis["freight.in_system_age_h_mean"] > steady.kpis["freight.in_system_age_h_mean"]
