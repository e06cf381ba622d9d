"""Empty boxes sent back by rail, on a timeline worked out by hand.

Tiny scenario (tests/conftest.py) plus a return service ``s_return`` from B to A on
Mondays at 20:00; every box of ``s`` delivered at B comes back empty one hour after its
delivery.  Gate 0.1 h a truck, stacker moves 0.1 h, trains placed 4 h before departure
and shunted 0.5 h, A-B 2 h, consignees collect after 5 h.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest import approx

import g60rail as g6
from g60rail.errors import ScenarioError
from g60rail.model.empties import EMPTY
from g60rail.model.report import freight_kpis
from g60rail.scenario.schema import Scenario
from tests.conftest import TINY, songjiang_hub, tiny
from tests.model.test_timeline import box, run_world

RETURN = {"route": ["b", "a"], "departures": ["Mon 20:00"], "capacity_teu": 10}
EMPTIES = {"share": 1.0, "back_h": 1.0}


def services(share: float = 1.0) -> dict[str, Any]:
    """The tiny scenario's service with empties, and a return service."""
    s = {**TINY["services"]["s"], "empties": {**EMPTIES, "share": share}}
    return {"s": s, "s_return": RETURN}


def with_empties(share: float = 1.0) -> Scenario:
    return tiny(services=services(share))


def test_a_delivered_box_comes_back_empty_on_the_return_train() -> None:
    loaded = box(0, 2, 1.0)
    world = run_world(with_empties(), [(1.0, "a", [loaded])], horizon_h=48.0)
    # out: gate 1.0-1.1, stacker 1.1-1.2, loaded 6.5-6.6, train 10-12, shunt, unloaded
    # 12.5-12.6, collected after 5 h: gate 17.6-17.7, move 17.7-17.8
    assert loaded.t_delivered == approx(17.8)
    (empty_row,) = [r for r in world.trains.rows if r[1] == "s_return"]
    # the empty box: at B's gate one hour later (18.8-18.9), lifted off 18.9-19.0 onto
    # the return train that stands loading since 16.5, moved on 19.0-19.1; the train
    # leaves at 20:00, reaches A at 22.0, shunted to 22.5, unloaded 22.5-22.6; collected
    # at A after its 5 h dwell: gate 27.6-27.7, move 27.7-27.8
    _tid, service, origin, dest, t_planned, _placed, t_dep, t_arr, teu, n = empty_row
    assert (service, origin, dest, teu, n) == ("s_return", "b", "a", 2, 1)
    assert (t_planned, t_dep, t_arr) == approx((20.0, 20.0, 22.6))
    k = freight_kpis(world)
    assert k["freight.teu_empty"] == 2
    assert k["freight.teu_created"] == 4  # the loaded box and its empty
    assert k["freight.teu_delivered"] == 4
    assert k["freight.tonnes_created"] == 0.0  # an empty box carries no cargo


def test_no_empties_when_the_share_is_zero() -> None:
    world = run_world(with_empties(0.0), [(1.0, "a", [box(0, 2, 1.0)])], horizon_h=48.0)
    k = freight_kpis(world)
    assert k["freight.teu_empty"] == 0
    assert k["freight.teu_created"] == 2
    assert not [r for r in world.trains.rows if r[1] == "s_return" and r[8] > 0]


def test_empties_need_a_train_back() -> None:
    demand = {"teu_per_week": 10, "origins": {"a": 1.0}, "destinations": {"b": 1.0}}
    one_way = {"s": {**services()["s"], "demand": demand}}
    with pytest.raises(ScenarioError, match=r"services\.s\.empties"):
        tiny(services=one_way)
    tiny(services={**services(), **one_way})  # with the return service it is valid


def test_the_baseline_sends_empties_back_and_keeps_its_bookings() -> None:
    sc = songjiang_hub()
    assert any(s.empties is not None for s in sc.services.values())
    no_empties = sc.with_overrides(
        {f"services.{sid}.empties": None for sid, s in sc.services.items() if s.empties}
    )
    on = g6.simulate(sc, days=35, seed=2)
    off = g6.simulate(no_empties, days=35, seed=2)
    k, k0 = on.kpis, off.kpis
    assert k["freight.teu_empty"] > 0 and k0["freight.teu_empty"] == 0
    # the empties have their own random streams: the loaded bookings are the same
    assert k["freight.teu_booked"] == k0["freight.teu_booked"] == k0["freight.teu_created"]
    assert k["freight.teu_created"] == k["freight.teu_booked"] + k["freight.teu_empty"]
    assert k["freight.tonnes_created"] == k0["freight.tonnes_created"]
    c = on.tables["containers"]
    empties = c[c["commodity"] == EMPTY]
    assert empties["teu"].sum() == k["freight.teu_empty"]
    assert (empties["tonnes"] == 0).all()
    # they fill the return trains: more TEU leave on the returns than without them
    returns = [sid for sid in sc.services if sid.endswith("_return")]
    moved = sum(k[f"freight.{sid}.teu_departed"] for sid in returns)
    assert moved > sum(k0[f"freight.{sid}.teu_departed"] for sid in returns)
