"""Train and container timelines worked out by hand on the tiny scenario.

Tiny scenario (tests/conftest.py): hub A with one gate lane (0.1 h a truck), one reach
stacker (0.1 h a move), one track (0.5 h shunting, train placed 4 h before departure);
terminal B with two stackers; A-B is 100 km at 50 km/h = 2 h; service s leaves A on
Mondays at 10:00 (t = 10 h); consignees collect after 5 h.
"""

from __future__ import annotations

import simpy
from pytest import approx

from g60rail.model.cargo import Container, Hop
from g60rail.model.report import freight_kpis
from g60rail.model.world import World
from g60rail.random import Streams
from tests.conftest import tiny

NOT_SELECTED = (1.0, 1.0, 1.0, 1.0)  # uniforms that never trigger inspection


def box(cid: int, teu: int, t: float, service: str = "s", route=("a", "b")) -> Container:
    hop = Hop("rail", service, route[0], route[-1])
    return Container(cid, teu, route[0], route[-1], service, (hop,), t, 5.0, NOT_SELECTED)


def run_world(scenario, bookings, horizon_h):
    env = simpy.Environment()
    world = World(env, scenario, Streams(0), horizon_h)

    def feed():
        for t, origin, boxes in bookings:
            yield env.timeout(t - env.now)
            world.book((origin, boxes, False))

    env.process(feed())
    world.run()
    return world


def test_hand_worked_timeline_hub_train_terminal() -> None:
    b1 = box(0, 2, 1.0)
    b2, b3 = box(1, 1, 7.0), box(2, 1, 7.0)
    world = run_world(tiny(), [(1.0, "a", [b1]), (7.0, "a", [b2, b3])], horizon_h=24.0)

    # truck 1: gate 1.0-1.1, stacker 1.1-1.2
    assert (b1.t_gate_arrive, b1.t_gate_in) == approx((1.0, 1.2))
    # train placed at 10 - 4 = 6, shunted until 6.5, box 1 moved 6.5-6.6
    assert b1.t_loaded == approx(6.6)
    # truck 2 at 7.0: gate 7.0-7.1, its boxes lifted off 7.1-7.2 and 7.2-7.3, then loaded
    # one after the other by the single stacker 7.3-7.4 and 7.4-7.5
    assert (b2.t_gate_in, b3.t_gate_in) == approx((7.2, 7.3))
    assert (b2.t_loaded, b3.t_loaded) == approx((7.4, 7.5))
    # scheduled departure at 10:00, 2 h run, shunt 0.5 at B, two stackers unload:
    # boxes 1 and 2 12.5-12.6, box 3 12.6-12.7
    for b in (b1, b2, b3):
        assert b.t_departed == approx(10.0)
    assert (b1.t_arrived, b2.t_arrived, b3.t_arrived) == approx((12.6, 12.6, 12.7))
    # after a 5 h dwell the consignees' trucks share B's one gate lane:
    # box 1 gate 17.6-17.7 move 17.7-17.8; box 2 gate 17.7-17.8 move 17.8-17.9;
    # box 3 (arrives 17.7) gate 17.8-17.9 move 17.9-18.0
    assert (b1.t_delivered, b2.t_delivered, b3.t_delivered) == approx((17.8, 17.9, 18.0))

    (row,) = world.trains.rows
    _tid, service, origin, dest, t_planned, t_placed, t_dep, t_arr, teu, n = row
    assert (service, origin, dest, teu, n) == ("s", "a", "b", 4, 3)
    assert (t_planned, t_placed, t_dep, t_arr) == approx((10.0, 6.0, 10.0, 12.7))

    k = freight_kpis(world)
    assert k["freight.teu_created"] == 4
    assert k["freight.teu_delivered"] == 4
    assert k["freight.teu_in_system_end"] == 0
    # yard dwell at A: 6.6-1.2, 7.4-7.2, 7.5-7.3
    assert k["hub.dwell_h_mean"] == approx((5.4 + 0.2 + 0.2) / 3)
    assert k["hub.dwell_to_train_h_mean"] == approx((5.4 + 0.2 + 0.2) / 3)
    # at B the boxes wait from unloading to their trucks: 12.6-17.8, 12.6-17.9, 12.7-18.0
    assert k["hub.b.dwell_to_road_h_mean"] == approx((5.2 + 5.3 + 5.3) / 3)
    # six moves of 0.1 h by one stacker in 24 h
    assert k["hub.reach_stacker_utilization"] == approx(0.6 / 24)
    # track at A held 6.0-10.0
    assert k["hub.track_utilization"] == approx(4.0 / 24)
    assert k["transit.a_b.h_mean"] == approx((2.6 + 2.6 + 2.7) / 3)
    assert k["hub.gate_wait_h_mean"] == approx(0.0)


def test_box_too_late_for_the_train_waits_a_week() -> None:
    late = box(0, 2, 9.95)  # gate 9.95-10.05: after the 10:00 departure
    world = run_world(tiny(), [(9.95, "a", [late])], horizon_h=24.0 * 8)
    trains = sorted(world.trains.rows)
    assert [r[8] for r in trains] == [0, 2]  # first train leaves empty, next week's takes it
    assert late.t_departed == approx(168.0 + 10.0)


def test_busy_track_delays_placement_and_the_late_train_loads_what_was_waiting() -> None:
    # two services share A's single track, both leaving Monday 10:00
    sc = tiny(
        services={
            "s": {"route": ["a", "b"], "departures": ["Mon 10:00"], "capacity_teu": 10},
            "t": {"route": ["a", "b"], "departures": ["Mon 10:00"], "capacity_teu": 10},
        }
    )
    b_s, b_t = box(0, 2, 1.0, "s"), box(1, 2, 1.0, "t")
    world = run_world(sc, [(1.0, "a", [b_s]), (2.0, "a", [b_t])], horizon_h=48.0)
    rows = {r[1]: r for r in world.trains.rows}
    # s is placed first (6.0) and leaves at 10.0; t gets the track at 10.0, shunts to
    # 10.5, loads its waiting box 10.5-10.6 and leaves then
    assert rows["s"][5:7] == approx((6.0, 10.0))
    assert rows["t"][5:7] == approx((10.0, 10.6))
    assert b_t.t_departed == approx(10.6)


def test_line_paths_space_trains_by_the_headway() -> None:
    # 4 paths a day on A-B: entries at least 6 h apart. s and t both leave A on Monday
    # 10:00 empty; A's single track places s at 6.0 (leaves 10.0) and t at 10.0 (shunt
    # to 10.5, leaves 10.5). s takes the 10.0 path, t waits for the 16.0 one.
    sc = tiny(
        {"legs.0.paths_per_day": 4},
        services={
            "s": {"route": ["a", "b"], "departures": ["Mon 10:00"], "capacity_teu": 10},
            "t": {"route": ["a", "b"], "departures": ["Mon 10:00"], "capacity_teu": 10},
        },
    )
    world = run_world(sc, [], horizon_h=48.0)
    rows = {r[1]: r for r in world.trains.rows}
    assert (rows["s"][6], rows["s"][7]) == approx((10.0, 12.0))
    assert (rows["t"][6], rows["t"][7]) == approx((10.5, 18.0))
    (section,) = world.network.between("a", "b").sections
    assert section.headway_h == approx(6.0)
    assert list(section.wait_h.values) == approx([0.0, 5.5])


def _stacker_timeline(priority: str) -> tuple[list[Container], Container]:
    """Truck A brings three boxes for the train at 1.0 (in the yard by 1.4).  Truck C
    brings three more at 6.2: gate 6.2-6.3, lifted off 6.3-6.6 by the one stacker.  Truck
    B brings one at 6.3: gate 6.3-6.4, it asks for the stacker at 6.4; the train, placed
    at 6.0 and shunted by 6.5, asks for it at 6.5.  Both wait until 6.6."""
    a = [box(i, 1, 1.0) for i in range(3)]
    c = [box(3 + i, 1, 6.2) for i in range(3)]
    b = box(6, 1, 6.3)
    sc = tiny({"hub.stacker_priority": priority})
    run_world(sc, [(1.0, "a", a), (6.2, "a", c), (6.3, "a", [b])], horizon_h=24.0)
    assert [x.t_gate_in for x in c] == approx([6.4, 6.5, 6.6])
    assert all(x.t_departed == approx(10.0) for x in (*a, *c, b))
    return a, b


def test_stackers_serve_the_train_before_a_truck_that_asked_first() -> None:
    a, b = _stacker_timeline("trains_first")
    # the train's moves go first: A's boxes 6.6-6.9, C's 6.9-7.2; then truck B is lifted
    # off 7.2-7.3 and its box, the last in the yard, is loaded 7.3-7.4
    assert [x.t_loaded for x in a] == approx([6.7, 6.8, 6.9])
    assert (b.t_gate_in, b.t_loaded) == approx((7.3, 7.4))


def test_first_come_first_served_stackers_serve_the_truck_that_asked_first() -> None:
    a, b = _stacker_timeline("fcfs")
    # truck B asked at 6.4, the train at 6.5: B is lifted off 6.6-6.7; then the train's
    # moves, one at a time: A's boxes 6.7-7.0, C's 7.0-7.3, B's 7.3-7.4
    assert b.t_gate_in == approx(6.7)
    assert [x.t_loaded for x in a] == approx([6.8, 6.9, 7.0])
    assert b.t_loaded == approx(7.4)
