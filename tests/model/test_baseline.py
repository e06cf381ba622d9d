"""The packaged baseline: its tables, capacity effects at the Songjiang hub, reproducibility.

The calibration targets are checked over a year in ``tests/validation/test_calibration.py``.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

import g60rail as g6
from tests.conftest import freight_baseline, songjiang_hub

DAYS = 42


@pytest.fixture(scope="module")
def baseline() -> g6.Scenario:
    """The Songjiang hub's services: what the capacity and reproducibility tests read."""
    return songjiang_hub()


@pytest.fixture(scope="module")
def run42() -> g6.Result:
    """Six weeks of the whole freight corridor."""
    return g6.simulate(freight_baseline(), days=DAYS, seed=11)


def conserved(k: dict[str, float]) -> bool:
    return k["freight.teu_created"] == k["freight.teu_delivered"] + k["freight.teu_in_system_end"]


def test_conservation_and_kpi_names(run42: g6.Result) -> None:
    k = run42.kpis
    assert conserved(k)
    assert k["freight.teu_created"] > 10_000
    for name in (
        "freight.teu_created",
        "freight.teu_delivered",
        "freight.teu_in_system_end",
        "freight.trains_departed",
        "freight.train_fill_teu_mean",
        "hub.dwell_h_mean",
        "hub.dwell_h_p95",
        "hub.yard_teu_max",
        "hub.reach_stacker_utilization",
        "hub.gate_wait_h_mean",
        "border.mohan.clearance_h_mean",
        "border.boten.clearance_h_mean",
        "transit.songjiang_vientiane.h_mean",
    ):
        assert name in k and not math.isnan(k[name]), name


def test_container_table_matches_kpis_and_timestamps_are_ordered(run42: g6.Result) -> None:
    c = run42.tables["containers"]
    assert c["teu"].sum() == run42.kpis["freight.teu_created"]
    assert c.loc[c["t_delivered"].notna(), "teu"].sum() == run42.kpis["freight.teu_delivered"]
    rail = c[c["mode"] == "rail"]
    seq = [
        "t_created",
        "t_gate_arrive",
        "t_gate_in",
        "t_loaded",
        "t_departed",
        "t_arrived",
        "t_delivered",
    ]
    for a, b in itertools.pairwise(seq):
        both = rail[a].notna() & rail[b].notna()
        assert (rail.loc[both, a] <= rail.loc[both, b] + 1e-9).all(), (a, b)
    # a box never reaches a milestone without the ones before it
    for a, b in itertools.pairwise(seq):
        assert not (rail[a].isna() & rail[b].notna()).any(), (a, b)
    ts = run42.tables["timeseries"]
    assert pd.api.types.is_datetime64_any_dtype(ts["date"])
    assert ts["teu_created"].sum() == run42.kpis["freight.teu_created"]


def test_trains_table(run42: g6.Result) -> None:
    t = run42.tables["trains"]
    assert (t["teu"] <= 82).all()
    full = [
        sid for sid, spec in g6.load_scenario("baseline").services.items() if spec.policy == "full"
    ]
    timed = t[~t["service"].isin(full)]  # a "full" train leaves when full, its time is a placement
    assert (timed["t_departed"] >= timed["t_planned"] - 1e-9).all()  # never early
    assert (t["run_h"] > 0).all()
    g60 = t[t["service"] == "g60"]
    assert len(g60) >= 2 * DAYS // 7 - 2  # two a week, minus those still running


def test_same_seed_same_numbers_other_seed_other_numbers(baseline: g6.Scenario) -> None:
    a = g6.simulate(baseline, days=30, seed=5)
    b = g6.simulate(baseline, days=30, seed=5)
    c = g6.simulate(baseline, days=30, seed=6)
    assert a.kpis.keys() == b.kpis.keys()
    for key in a.kpis:
        va, vb = a.kpis[key], b.kpis[key]
        assert va == vb or (math.isnan(va) and math.isnan(vb)), key
    pd.testing.assert_frame_equal(a.tables["containers"], b.tables["containers"])
    assert a.kpis["freight.teu_created"] != c.kpis["freight.teu_created"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_reach_stacker_raises_hub_dwell(baseline: g6.Scenario, seed: int) -> None:
    four = g6.simulate(baseline.with_overrides({"hub.reach_stackers": 4}), days=60, seed=seed)
    one = g6.simulate(baseline.with_overrides({"hub.reach_stackers": 1}), days=60, seed=seed)
    # common random numbers: the same bookings arrive in both runs, so the difference
    # is the stackers' doing, not noise; at baseline volume it is about +1 h
    assert one.kpis["freight.teu_booked"] == four.kpis["freight.teu_booked"]
    assert one.kpis["hub.dwell_h_mean"] > four.kpis["hub.dwell_h_mean"] + 0.3
    # work conservation: about the same moves shared by a quarter of the machines
    moves = one.kpis["hub.reach_stacker_moves"] / four.kpis["hub.reach_stacker_moves"]
    assert moves == pytest.approx(1.0, abs=0.02)
    ratio = one.kpis["hub.reach_stacker_utilization"] / four.kpis["hub.reach_stacker_utilization"]
    assert ratio == pytest.approx(4.0 * moves, rel=0.05)
    assert conserved(one.kpis) and conserved(four.kpis)


def test_tiny_yard_builds_a_gate_queue_and_loses_nothing(baseline: g6.Scenario) -> None:
    # with the gate open round the clock, trucks wait at the gate only for yard space
    open_gate = baseline.with_overrides({"hub.gate_hours": {"open": "00:00", "close": "24:00"}})
    big = g6.simulate(open_gate, days=60, seed=3)
    tiny = g6.simulate(open_gate.with_overrides({"hub.yard_teu": 60}), days=60, seed=3)
    assert big.kpis["hub.gate_wait_h_mean"] < 0.05
    assert tiny.kpis["hub.gate_wait_h_mean"] > 1.0
    assert tiny.kpis["hub.gate_queue_max"] > big.kpis["hub.gate_queue_max"]
    assert tiny.kpis["freight.teu_booked"] == big.kpis["freight.teu_booked"]
    assert conserved(tiny.kpis)
    # trucks wait instead of dropping boxes: the yard exceeds its truck capacity only
    # through rail arrivals, which it never refuses
    assert tiny.kpis["hub.yard_teu_max"] >= 60


def test_scenario_is_immutable_and_overrides_make_a_new_one(baseline: g6.Scenario) -> None:
    new = baseline.with_overrides({"hub.reach_stackers": 2})
    assert baseline.hub.reach_stackers == 4 and new.hub.reach_stackers == 2
    assert new.hash != baseline.hash
    with pytest.raises(Exception, match="frozen"):
        baseline.hub.reach_stackers = 3  # type: ignore[misc]
