"""Terminals by hand: transfer between services at an intermediate terminal, onward legs,
hand-over at a place without a terminal.

Tiny scenario plus place C (no terminal) 2 h beyond terminal B, service u B -> C on
Mondays at 20:00, and an onward leg B -> D (100 km at 50 km/h after a 3 h transfer).
"""

from __future__ import annotations

import copy

from pytest import approx

from g60rail.model.cargo import Container, Hop
from g60rail.model.report import freight_kpis
from tests.conftest import TINY, tiny
from tests.model.test_timeline import NOT_SELECTED, run_world


def scenario():
    places = copy.deepcopy(TINY["places"])
    places["c"] = {"name": "C", "lat": 30.0, "lon": 122.0, "country": "CN", "kind": "exit"}
    places["d"] = {"name": "D", "lat": 31.0, "lon": 121.0, "country": "CN"}
    legs = [
        *copy.deepcopy(TINY["legs"]),
        {"from": "b", "to": "c", "mode": "rail", "km": 100, "speed_kmh": 50},
    ]
    services = {
        "s": {"route": ["a", "b"], "departures": ["Mon 10:00"], "capacity_teu": 10},
        "u": {"route": ["b", "c"], "departures": ["Mon 20:00"], "capacity_teu": 10},
    }
    onward = [
        {"from": "b", "to": "d", "mode": "road", "km": 100, "speed_kmh": 50, "transfer_h": 3.0}
    ]
    return tiny(places=places, legs=legs, services=services, onward=onward)


def test_transfer_at_an_intermediate_terminal() -> None:
    hops = (Hop("rail", "s", "a", "b"), Hop("rail", "u", "b", "c"))
    b = Container(0, 2, "a", "c", "s", hops, 1.0, 5.0, NOT_SELECTED)
    world = run_world(scenario(), [(1.0, "a", [b])], horizon_h=30.0)
    # A as in the hub timeline: loaded 6.6, leaves 10.0, at B 12.0, shunt to 12.5,
    # unloaded 12.5-12.6 into B's yard, queued for u
    assert b.t_loaded == approx(6.6)
    assert b.t_departed == approx(10.0)
    # u is placed at B at 16.0, shunts to 16.5, loads the box 16.5-16.6, leaves 20.0,
    # reaches C (no terminal: handed over on arrival) at 22.0
    assert b.t_arrived == approx(22.0)
    assert b.t_delivered == approx(22.0)
    k = freight_kpis(world)
    assert k["transit.a_c.h_mean"] == approx(12.0)
    assert k["hub.b.dwell_h_mean"] == approx(4.0)  # in B's yard 12.6-16.6
    assert k["freight.teu_delivered"] == 2
    assert k["freight.teu_in_system_end"] == 0


def test_onward_leg_after_unloading() -> None:
    hops = (Hop("rail", "s", "a", "b"), Hop("onward", "0", "b", "d"))
    b = Container(0, 2, "a", "d", "s", hops, 1.0, 5.0, NOT_SELECTED)
    world = run_world(scenario(), [(1.0, "a", [b])], horizon_h=30.0)
    # unloaded at B 12.6; a stacker puts it on the onward truck 12.6-12.7; transfer 3 h
    # and 2 h on the road: at D 17.7
    assert b.t_arrived == approx(17.7)
    assert b.t_delivered == approx(17.7)
    k = freight_kpis(world)
    assert k["transit.a_d.h_mean"] == approx(7.7)
    assert k["hub.b.dwell_h_mean"] == approx(0.1)
    assert k["freight.teu_in_system_end"] == 0


def test_boxes_still_inside_at_the_end_are_counted_not_dropped() -> None:
    hops = (Hop("rail", "s", "a", "b"), Hop("rail", "u", "b", "c"))
    boxes = [Container(i, 1, "a", "c", "s", hops, 1.0, 5.0, NOT_SELECTED) for i in range(3)]
    world = run_world(scenario(), [(1.0, "a", boxes[:2]), (2.0, "a", boxes[2:])], horizon_h=15)
    k = freight_kpis(world)
    assert k["freight.teu_created"] == 3
    assert k["freight.teu_delivered"] == 0
    assert k["freight.teu_in_system_end"] == 3  # waiting at B for Monday's 20:00 train
