"""Held boxes go the way of any train; box clearance until the box leaves the port;
commodity classes with their own inspection shares; tonnes counted.

The corridor of these tests (hub and terminal parameters as tests/conftest.py ``TINY``):

```
 v (hub, LA) --2 h-- p (border port, LA) --2 h-- k (terminal, CN) --2 h-- s (terminal, CN)
```

Every leg is 100 km at 50 km/h (2 h).  Hub v: one gate lane (0.1 h a truck), one reach
stacker (0.1 h a move), one track, 0.5 h shunting, trains placed 4 h before departure;
terminals k and s: two stackers, one track, otherwise the same; consignees collect 5 h
after a box is unloaded.  Port p: one officer (0.5 h a declaration, none pre-declared),
0.1 h scan, 1.0 h technical handling, one bay (3 h an inspection).  Services (the model's
clock is local time everywhere, Monday 00:00 = 0 h):

* ``weekly`` v -> p -> k -> s, Mondays 10:00;
* ``short`` v -> p -> k, daily 20:00;
* ``feeder`` k -> s, daily 06:00.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import simpy
from pytest import approx

import g60rail as g6
from g60rail.errors import ScenarioError
from g60rail.model.border import BorderPort
from g60rail.model.cargo import Container, Hop
from g60rail.model.report import freight_kpis, freight_tables
from g60rail.model.rolling_stock import Train
from g60rail.random import Streams
from g60rail.scenario.io import scenario_from_dict
from g60rail.scenario.routes import plan_from
from g60rail.scenario.schema import BorderSpec, Scenario
from tests.conftest import TINY
from tests.model.test_timeline import run_world

HELD_AT_EXIT = (0.0, 0.9, 0.9, 0.9)  # inspected at a share of 0.5, declared by an officer
NEVER_HELD = (1.0, 1.0, 1.0, 1.0)


def _place(name: str, lon: float, country: str, kind: str = "city") -> dict[str, Any]:
    return {"name": name, "lat": 21.0, "lon": lon, "country": country, "kind": kind}


def _leg(a: str, b: str) -> dict[str, Any]:
    return {"from": a, "to": b, "mode": "rail", "km": 100, "speed_kmh": 50}


def corridor(**changes: Any) -> dict[str, Any]:
    """The scenario data of the module docstring; ``changes`` replace whole sections."""
    terminal = copy.deepcopy(TINY["terminals"]["b"])
    data: dict[str, Any] = {
        "meta": {"name": "routing", "start": "2025-01-06T00:00:00"},  # a Monday
        "places": {
            "v": _place("V hub", 102.0, "LA", "hub"),
            "p": _place("P port", 102.5, "LA", "border"),
            "k": _place("K terminal", 103.0, "CN", "terminal"),
            "s": _place("S terminal", 103.5, "CN", "terminal"),
        },
        "legs": [_leg("v", "p"), _leg("p", "k"), _leg("k", "s")],
        "hub": {**copy.deepcopy(TINY["hub"]), "place": "v"},
        "terminals": {"k": {**terminal, "place": "k"}, "s": {**terminal, "place": "s"}},
        "borders": {
            "p": {
                "place": "p",
                "officers": 1,
                "declaration_h": 0.5,
                "scan_h": 0.1,
                "technical_h": 1.0,
                "inspection_h": 3.0,
                "inspect_share_exit": 0.5,
                "inspect_share_entry": 0.0,
            }
        },
        "services": {
            "weekly": {
                "route": ["v", "p", "k", "s"],
                "departures": ["Mon 10:00"],
                "capacity_teu": 10,
            },
            "short": {"route": ["v", "p", "k"], "departures": ["daily 20:00"], "capacity_teu": 10},
            "feeder": {"route": ["k", "s"], "departures": ["daily 06:00"], "capacity_teu": 10},
        },
    }
    data.update(copy.deepcopy(changes))
    return data


def weekly_box(cid: int, u: tuple[float, ...], t: float = 1.0) -> Container:
    """A 40-foot box booked on ``weekly`` from v to s, trucked in at ``t``."""
    hop = Hop("rail", "weekly", "v", "s")
    return Container(cid, 2, "v", "s", "weekly", (hop,), t, 5.0, u, tonnes=24.0)


# -- hand-worked timeline --------------------------------------------------------------------
def test_held_box_takes_another_service_to_a_terminal_and_transfers_there() -> None:
    """The timeline, to the minute (hours from Monday 00:00):

    * 1.0 the truck reaches v: gate 1.0-1.1, stacker 1.1-1.2 (in the yard at 1.2);
    * the weekly train is placed at 6.0, shunted to 6.5, the box loaded 6.5-6.6, the
      train leaves at 10.0 and reaches p at 12.0;
    * p: the box's declaration 12.0-12.5, scan 12.0-12.1, technical handling 12.0-13.0:
      the train is cleared at 13.0 and the box (selected: u = 0.0 < 0.5) is taken off;
      inspected 13.0-16.0, then it waits; the weekly train runs on empty (k 15.0, s 17.0);
    * the Monday ``short`` (placed 16.0, shunted to 16.5, leaves 20.0) reaches p at 22.0,
      is cleared at 23.0 (scan 0.1, technical 1.0, nothing to declare); it does not call
      at s, but at the terminal k, from which ``feeder`` goes to s: the box boards at 23.0
      (clearance 12.0-23.0 = 11 h; 7 h waiting after its inspection);
    * k at 25.0: track free, shunt to 25.5, unloaded 25.5-25.6, queued for ``feeder``;
    * Tuesday's feeder (06:00 = 30.0) is placed at 26.0, shunted to 26.5, loads the box
      26.5-26.6, leaves at 30.0, reaches s at 32.0: shunt to 32.5, unloaded 32.5-32.6;
    * after 5 h the consignee's truck: gate 37.6-37.7, stacker 37.7-37.8: delivered.

    Without the re-routing it would wait at p for next Monday's weekly train (p at 180.0).
    """
    box = weekly_box(0, HELD_AT_EXIT)
    world = run_world(scenario_from_dict(corridor()), [(1.0, "v", [box])], horizon_h=39.0)

    assert (box.t_gate_in, box.t_loaded, box.t_departed) == approx((1.2, 6.6, 10.0))
    assert box.held
    assert box.t_border_in == approx(12.0)
    assert box.t_border_out == approx(23.0)  # boarded the short train, not at 16.0
    assert box.t_arrived == approx(32.6)
    assert box.t_delivered == approx(37.8)
    assert box.itinerary == (
        Hop("rail", "weekly", "v", "p"),
        Hop("rail", "short", "p", "k"),
        Hop("rail", "feeder", "k", "s"),
    )
    assert box.hop == len(box.itinerary)

    port = world.ports["p"]
    assert port.clearance_h.values.tolist() == approx([1.0, 1.0])  # weekly 12-13, short 22-23
    assert port.box_clearance_h.values.tolist() == approx([11.0])
    assert port.held_wait_h.values.tolist() == approx([7.0])

    k = freight_kpis(world)
    assert k["border.p.box_clearance_h_mean"] == approx(11.0)
    assert k["border.p.held_wait_h_mean"] == approx(7.0)
    assert k["transit.v_s.h_mean"] == approx(32.6 - 10.0)
    assert k["hub.k.dwell_h_mean"] == approx(26.6 - 25.6)
    assert k["freight.teu_delivered"] == 2 and k["freight.teu_in_system_end"] == 0
    assert k["freight.tonnes_delivered"] == approx(24.0)

    tables = freight_tables(world)
    (row,) = tables["containers"].to_dict("records")
    assert (row["first_terminal"], row["service"], row["held"]) == ("v", "weekly", True)
    assert (row["commodity"], row["tonnes"]) == ("general", 24.0)
    rows = {r["service"]: r for r in tables["border"].to_dict("records")}
    assert [rows["weekly"][c] for c in ("teu_cleared", "teu_held", "teu_boarded")] == [0, 2, 0]
    assert [rows["short"][c] for c in ("teu_cleared", "teu_held", "teu_boarded")] == [0, 0, 2]
    assert rows["short"]["tonnes_boarded"] == approx(24.0)
    assert len(rows) == len(tables["border"]) == 2  # the Monday trains only


def test_without_another_way_the_held_box_waits_for_its_own_service() -> None:
    # no feeder from k: the short train cannot take it its way; next Monday's weekly
    # train reaches p at 180.0 and is cleared at 181.0 (technical handling)
    data = corridor()
    del data["services"]["feeder"]
    box = weekly_box(0, HELD_AT_EXIT)
    world = run_world(scenario_from_dict(data), [(1.0, "v", [box])], horizon_h=200.0)
    assert box.t_border_out == approx(181.0)
    assert box.itinerary == (Hop("rail", "weekly", "v", "s"),)  # its own service: unchanged
    # weekly again: k 183.0, s 185.0, shunt to 185.5, unloaded 185.5-185.6
    assert box.t_arrived == approx(185.6)
    assert world.ports["p"].box_clearance_h.values.tolist() == approx([181.0 - 12.0])


# -- the choice of train at the port -----------------------------------------------------------
def _port(planner: Any = None) -> tuple[BorderPort, simpy.Environment]:
    spec = BorderSpec(
        place="p",
        officers=1,
        declaration_h=0.5,
        scan_h=0.1,
        inspection_h=3.0,
        inspect_share_exit=0.5,
        inspect_share_entry=0.0,
    )
    env = simpy.Environment()
    return BorderPort(env, spec, "LA", Streams(0), 0.0, planner=planner), env


def _released(port: BorderPort, env: simpy.Environment, boxes: list[Container]) -> None:
    """Clear a train with ``boxes`` (all held) and run until they are inspected."""
    train = Train(0, "weekly", 100, 0.0)
    for b in boxes:
        train.add(b)
    env.process(port.clear(train, exit_=True))
    env.run(until=50.0)
    assert len(port.held) == len(boxes)


def _planner_from(sc: Scenario):
    return sc.itinerary_from


def test_a_direct_train_is_preferred_to_a_transfer() -> None:
    # the train calls at k (whence feeder reaches s) and at s itself: the box rides to s
    sc = scenario_from_dict(corridor())
    port, env = _port(_planner_from(sc))
    box = weekly_box(0, HELD_AT_EXIT)
    _released(port, env, [box])
    other = Train(1, "other", 100, 0.0)
    port.pick_up(other, ["k", "s"])
    assert other.boxes == [box]
    assert box.itinerary == (Hop("rail", "weekly", "v", "p"), Hop("rail", "other", "p", "s"))
    assert box.hop == 1


def test_nearest_terminal_ahead_that_reaches_the_destination() -> None:
    sc = scenario_from_dict(corridor())
    port, env = _port(_planner_from(sc))
    box = weekly_box(0, HELD_AT_EXIT)
    _released(port, env, [box])
    nowhere = Train(1, "nowhere", 100, 0.0)
    port.pick_up(nowhere, ["x"])  # no terminal, not the hop's end: stays
    assert nowhere.boxes == [] and port.held == [box]
    short = Train(2, "short", 100, 0.0)
    port.pick_up(short, ["k"])
    assert short.boxes == [box] and port.held == []
    assert box.itinerary[box.hop :] == (
        Hop("rail", "short", "p", "k"),
        Hop("rail", "feeder", "k", "s"),
    )


def test_a_train_without_room_leaves_the_box_and_takes_a_smaller_one() -> None:
    sc = scenario_from_dict(corridor())
    port, env = _port(_planner_from(sc))
    big, small = weekly_box(0, HELD_AT_EXIT), weekly_box(1, HELD_AT_EXIT)
    small.teu = 1
    _released(port, env, [big, small])
    train = Train(1, "short", 3, 0.0)
    train.add(weekly_box(2, NEVER_HELD))  # 2 of its 3 TEU taken
    port.pick_up(train, ["k"])
    assert [b.cid for b in train.boxes] == [2, 1]
    assert port.held == [big]
    assert big.itinerary == (Hop("rail", "weekly", "v", "s"),) and big.hop == 0


def test_without_a_planner_only_trains_to_the_hops_end_take_a_box() -> None:
    port, env = _port(planner=None)
    box = weekly_box(0, HELD_AT_EXIT)
    _released(port, env, [box])
    port.pick_up(Train(1, "short", 100, 0.0), ["k"])
    assert port.held == [box]
    port.pick_up(Train(2, "weekly", 100, 0.0), ["k", "s"])
    assert port.held == [] and box.itinerary == (Hop("rail", "weekly", "v", "s"),)


def test_plan_from_a_terminal_does_not_come_back_through_the_port() -> None:
    routes = {
        "north": ["k", "s"],
        "south": ["k", "p", "v"],
        "loop": ["k", "p", "q", "s"],
    }
    terminals = {"k", "s", "v"}
    assert plan_from(routes, [], terminals, "k", "s") == (Hop("rail", "north", "k", "s"),)
    # to v only through p: avoided; s still by the direct service
    assert plan_from(routes, [], terminals, "k", "v", avoid=("p",)) is None
    assert plan_from(routes, [], terminals, "k", "v") == (Hop("rail", "south", "k", "v"),)
    assert plan_from(routes, [], terminals, "k", "q", avoid=("p",)) is None
    assert plan_from(routes, [], terminals, "k", "k") == ()
    assert plan_from(routes, [], terminals, "p", "s") is None  # no terminal at p
    assert plan_from(routes, [("k", "z")], terminals, "k", "z") == (Hop("onward", "0", "k", "z"),)
    # the fewest hops win: one service k -> s beats a connection at m
    two = {"a": ["k", "m"], "b": ["m", "s"], "c": ["k", "s"]}
    assert plan_from(two, [], {"k", "m", "s"}, "k", "s") == (Hop("rail", "c", "k", "s"),)


# -- commodities --------------------------------------------------------------------------------
QUARANTINE = {"tonnes_per_teu": 9.0, "inspect_share_entry": 1.0, "inspect_share_exit": 0.0}


def two_way() -> Scenario:
    """Hub a (CN) -- port m (CN) -- terminal b (LA), daily trains both ways with Poisson
    demand of two classes: ``general`` (port shares 0.2 exit, 0.1 entry) and ``quarantine``
    (always inspected on entry, never on exit)."""
    terminal = copy.deepcopy(TINY["terminals"]["b"])
    port = {
        "place": "m",
        "officers": 4,
        "declaration_h": 0.05,
        "scan_h": 0.1,
        "inspection_bays": 20,
        "inspection_h": 1.0,
        "inspect_share_exit": 0.2,
        "inspect_share_entry": 0.1,
    }
    demand = {"teu_per_week": 150.0, "commodities": {"general": 0.7, "quarantine": 0.3}}
    data = {
        "meta": {"name": "two_way", "start": "2025-01-06T00:00:00"},
        "places": {
            "a": _place("A hub", 100.0, "CN", "hub"),
            "m": _place("M port", 100.5, "CN", "border"),
            "b": _place("B terminal", 101.0, "LA", "terminal"),
        },
        "legs": [_leg("a", "m"), _leg("m", "b")],
        "hub": {**copy.deepcopy(TINY["hub"]), "reach_stackers": 4, "yard_teu": 2000},
        "terminals": {"b": {**terminal, "place": "b", "reach_stackers": 4, "yard_teu": 2000}},
        "borders": {"m": port},
        "commodities": {"quarantine": QUARANTINE},
        "services": {
            "south": {
                "route": ["a", "m", "b"],
                "departures": ["daily 10:00"],
                "capacity_teu": 60,
                "demand": demand,
            },
            "north": {
                "route": ["b", "m", "a"],
                "departures": ["daily 12:00"],
                "capacity_teu": 60,
                "demand": demand,
            },
        },
    }
    return scenario_from_dict(data)


def binomial_ok(k: int, n: int, p: float, z: float = 4.0) -> bool:
    """``k`` successes in ``n`` trials lie within ``z`` standard deviations of ``n p``
    (z = 4: a false alarm about once in 16,000 runs)."""
    return abs(k - n * p) <= z * math.sqrt(n * p * (1 - p))


@pytest.fixture(scope="module")
def two_way_run() -> g6.Result:
    return g6.simulate(two_way(), days=60, seed=11)


def test_a_class_inspected_on_entry_is_always_held_there_and_never_on_exit(
    two_way_run: g6.Result,
) -> None:
    c = two_way_run.tables["containers"]
    crossed = c[(c["mode"] == "rail") & c["t_border_in"].notna()]
    entry = crossed["service"] == "north"  # b (LA) -> m (CN): entry into China
    quarantine = crossed["commodity"] == "quarantine"
    assert (quarantine & entry).sum() > 100 and (quarantine & ~entry).sum() > 100
    assert crossed.loc[quarantine & entry, "held"].all()
    assert not crossed.loc[quarantine & ~entry, "held"].any()
    # the general class keeps the port's shares: binomial bounds on the held counts
    for is_entry, share in ((True, 0.1), (False, 0.2)):
        general = crossed[~quarantine & (entry == is_entry)]
        assert binomial_ok(int(general["held"].sum()), len(general), share), (is_entry, share)
    # classes are drawn by the demand's weights (one draw per truck: bound on the trucks)
    trucks = c.groupby(["service", "t_created", "origin"])["commodity"].first()
    assert binomial_ok(int((trucks == "quarantine").sum()), len(trucks), 0.3)


def test_tonnes_are_conserved_and_the_border_kpis_match_the_tables(
    two_way_run: g6.Result,
) -> None:
    k, t = two_way_run.kpis, two_way_run.tables
    c = t["containers"]
    weight = c["commodity"].map({"general": 12.0, "quarantine": 9.0})
    assert np.allclose(c["tonnes"], c["teu"] * weight)
    assert k["freight.tonnes_created"] == approx(c["tonnes"].sum())
    assert k["freight.tonnes_created"] == approx(
        k["freight.tonnes_delivered"] + k["freight.tonnes_in_system_end"]
    )
    done = c["t_delivered"].notna()
    assert k["freight.tonnes_delivered"] == approx(c.loc[done, "tonnes"].sum())
    assert k["freight.tonnes_in_system_end"] > 0  # boxes still on their way at the end

    days = 60.0
    border = t["border"]
    assert k["border.m.trains_per_day"] == approx(len(border) / days)
    assert k["border.m.trains_per_day"] == approx(2.0, abs=0.05)  # one train each way a day
    crossed_teu = border["teu_cleared"].sum() + border["teu_boarded"].sum()
    crossed_t = border["tonnes_cleared"].sum() + border["tonnes_boarded"].sum()
    assert k["border.m.teu_per_year"] == approx(crossed_teu * 365.0 / days)
    assert k["border.m.tonnes_per_year"] == approx(crossed_t * 365.0 / days)
    # one port on every route: what left it is every box that has a t_border_out
    out = c[c["t_border_out"].notna()]
    assert crossed_teu == out["teu"].sum()
    assert crossed_t == approx(out["tonnes"].sum())
    # held boxes all boarded trains of their own or the other daily service later
    assert border["teu_held"].sum() >= border["teu_boarded"].sum() > 0


def test_commodity_draws_do_not_move_the_bookings() -> None:
    """Commodity classes come from the cargo stream: other weights, same trucks."""
    a = g6.simulate(two_way(), days=14, seed=5).tables["containers"]
    other = two_way().with_overrides(
        {"services.south.demand.commodities": {"general": 0.2, "quarantine": 0.8}}
    )
    b = g6.simulate(other, days=14, seed=5).tables["containers"]
    cols = ["cid", "teu", "service", "origin", "destination", "t_created"]
    assert a[cols].equals(b[cols])
    south = a["service"] == "south"
    assert (b.loc[south, "commodity"] == "quarantine").mean() > (
        a.loc[south, "commodity"] == "quarantine"
    ).mean()


def test_unknown_commodity_names_the_field() -> None:
    data = two_way().to_dict()
    data["services"]["north"]["demand"]["commodities"] = {"durian": 1.0}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert "services.north.demand.commodities.durian" in str(err.value)


def test_every_scenario_has_the_general_class() -> None:
    sc = two_way()
    assert set(sc.commodities) == {"general", "quarantine"}
    assert sc.commodities["general"].tonnes_per_teu > 0
    assert scenario_from_dict(sc.to_dict()) == sc
