"""Trucks at the gate: opening hours, the departure cut-off, turnaround, the hour-of-day
profile of arrivals.

Hand-worked timelines use the tiny scenario (tests/conftest.py): hub A has one gate lane
(0.1 h a pass, in or out), one reach stacker (0.1 h a move) and one track (0.5 h
shunting, train placed 4 h before its time); service s leaves A on Mondays at 10:00
(t = 10 h; the run starts on Monday 00:00 in A's zone).  Every truck passes the gate
twice, in and out, on the same lanes.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from pytest import approx
from scipy import stats

from g60rail.errors import ScenarioError
from g60rail.model.daily import DailyWindow, HourProfile
from g60rail.model.demand import DemandGenerator
from g60rail.model.report import freight_kpis
from g60rail.model.world import World
from g60rail.random import Streams
from g60rail.scenario.clock import Clock
from g60rail.scenario.schema import Scenario
from tests.conftest import freight_baseline, tiny
from tests.model.test_timeline import box, run_world

PROFILE = [0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.4, 1.7, 1.9, 1.9, 1.6]
PROFILE += [1.2, 1.5, 1.8, 1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.3, 0.2]
ALPHA = 0.001
"""Significance of the goodness-of-fit tests: a correct model fails one with probability
0.1 % (the seeds are fixed, so a run either passes or fails for good)."""


# -- opening hours -----------------------------------------------------------------------
def test_truck_at_a_closed_gate_waits_for_the_opening_coming_in_and_going_out() -> None:
    # gate open 08:00-18:00. Truck A at 05:00 waits for 08:00: in 8.0-8.1, lifted off
    # 8.1-8.2, out 8.2-8.3 (turnaround 3.3 h). Truck E at 17.85: in 17.85-17.95, lifted
    # off 17.95-18.05, by then the gate is closed: out on Tuesday at 08:00 (t = 32), after
    # truck F, which came at 17.95 and, its pass not done by 18:00, waited in the lane:
    # F in 32.0-32.1, E out 32.1-32.2, F lifted off 32.1-32.2 and out 32.2-32.3.
    sc = tiny({"hub.gate_hours": {"open": "08:00", "close": "18:00"}})
    a, e, f = box(0, 2, 5.0), box(1, 2, 17.85), box(2, 2, 17.95)
    world = run_world(sc, [(5.0, "a", [a]), (17.85, "a", [e]), (17.95, "a", [f])], 40.0)

    assert (a.t_gate_arrive, a.t_gate_pass, a.t_gate_in) == approx((5.0, 8.0, 8.2))
    assert (a.t_gate_out_pass, a.t_gate_out) == approx((8.2, 8.3))
    assert (e.t_gate_pass, e.t_gate_in, e.t_gate_out_pass, e.t_gate_out) == approx(
        (17.85, 18.05, 32.1, 32.2)
    )
    assert (f.t_gate_pass, f.t_gate_in, f.t_gate_out) == approx((32.0, 32.2, 32.3))
    gate = world.hubs["a"].gate
    assert list(gate.wait_h.values) == approx([3.0, 0.0, 14.05])  # A, E, F at the in-gate
    assert list(gate.out_wait_h.values) == approx([0.0, 14.05, 0.0])  # A, E, F going out
    assert gate.queue.max == 2  # F in its lane and E behind it, overnight
    k = freight_kpis(world)
    assert k["hub.truck_turnaround_h_mean"] == approx((3.3 + 14.35 + 14.35) / 3)
    assert a.t_departed == approx(10.0)  # A's box made Monday's train


def test_gate_over_midnight_and_always_open() -> None:
    night = DailyWindow.of(22.0, 6.0, day0_h=0.0)  # 22:00-06:00
    assert night.is_open(23.0) and night.is_open(5.9) and not night.is_open(12.0)
    assert night.next_start_h(5.95, 0.1) == approx(22.0)  # not done by 06:00
    assert night.next_start_h(12.0, 0.1) == approx(22.0)
    assert night.next_start_h(23.0, 0.1) == 23.0
    # a window read in another zone: day0 = 9.5 means t = 0 is 09:30 local
    day = DailyWindow.of(8.0, 18.0, day0_h=9.5)
    assert day.next_start_h(9.0, 0.1) == approx(22.5)  # 18:30 local -> 08:00 next day
    always = DailyWindow.of(0.0, 24.0, day0_h=3.0)
    assert always.always_open and always.next_start_h(7.3, 5.0) == 7.3


# -- cut-off -----------------------------------------------------------------------------
def test_box_that_passes_the_in_gate_after_the_cut_off_takes_the_next_departure() -> None:
    # cut-off 2 h before Monday 10:00: boxes must pass the in-gate by 08:00; gate opens
    # at 06:00. A (2 TEU) at 05:00 waits, passes at 6.0: Monday's train. B (1 TEU) at
    # 7.93 passes at 7.93: Monday's train. C (1 TEU) comes at 7.96, before the cut-off,
    # but waits for B's pass and passes at 8.03: next Monday's train (t = 178), counted
    # as held up at the gate. D (1 TEU) comes at 9.0, after the cut-off: next Monday's
    # train, not counted (it did not come for this one).
    sc = tiny({"hub.cutoff_h": 2.0, "hub.gate_hours": {"open": "06:00", "close": "22:00"}})
    a, b, c, d = box(0, 2, 5.0), box(1, 1, 7.93), box(2, 1, 7.96), box(3, 1, 9.0)
    feed = [(5.0, "a", [a]), (7.93, "a", [b]), (7.96, "a", [c]), (9.0, "a", [d])]
    world = run_world(sc, feed, 24.0 * 8)

    assert (a.t_gate_pass, b.t_gate_pass, c.t_gate_pass, d.t_gate_pass) == approx(
        (6.0, 7.93, 8.03, 9.0)
    )
    assert (a.t_departed, b.t_departed) == approx((10.0, 10.0))
    assert (c.t_departed, d.t_departed) == approx((178.0, 178.0))
    trains = sorted(world.trains.rows)
    assert [r[8] for r in trains] == [3, 2]  # TEU on board: A + B, then C + D
    k = freight_kpis(world)
    assert k["hub.cutoff_missed_teu"] == 1.0  # C (at next Monday's train nothing is late)
    # C and D stayed in the yard a week: their dwell counts from their lifting off
    assert world.hubs["a"].yard.dwell_to_train_h.values.max() > 160.0


def test_without_a_cut_off_the_late_boxes_board() -> None:
    # the same trucks, no cut-off: everything that is in the yard by 10:00 leaves then
    sc = tiny({"hub.gate_hours": {"open": "06:00", "close": "22:00"}})
    boxes = [box(0, 2, 5.0), box(1, 1, 7.93), box(2, 1, 7.96), box(3, 1, 9.0)]
    feed = [(b.t_created, "a", [b]) for b in boxes]
    run_world(sc, feed, 24.0)
    assert [b.t_departed for b in boxes] == approx([10.0] * 4)


def test_held_train_takes_a_late_box_once_its_cut_off_has_passed() -> None:
    # hybrid: waits past 10:00 for 2 TEU, up to 10 h. The only box passes the in-gate at
    # 9.5 (lifted off 9.6-9.7), after the 08:00 cut-off; the held train may take it at
    # 9.5 + 2 = 11.5: loaded 11.5-11.6, the train leaves at 11.6.
    sc = tiny(
        {
            "hub.cutoff_h": 2.0,
            "services.s.policy": "hybrid",
            "services.s.min_fill_teu": 2,
            "services.s.max_hold_h": 10.0,
        }
    )
    late = box(0, 2, 9.5)
    world = run_world(sc, [(9.5, "a", [late])], 24.0)
    assert late.t_gate_in == approx(9.7)
    assert (late.t_loaded, late.t_departed) == approx((11.6, 11.6))
    assert freight_kpis(world)["hub.cutoff_missed_teu"] == 0.0


# -- turnaround --------------------------------------------------------------------------
def test_turnaround_of_delivering_and_collecting_trucks_worked_by_hand() -> None:
    # the timeline of tests/model/test_timeline.py, with the trucks' way out. At A:
    # truck 1 (1.0) in 1.0-1.1, lifted off 1.1-1.2, out 1.2-1.3: 0.3 h; truck 2 (7.0,
    # two 20') in 7.0-7.1, lifted off 7.1-7.3, out 7.3-7.4: 0.4 h.
    # At B (one lane, two stackers) the consignees come at 17.6, 17.6, 17.7: in-gate
    # 17.6-17.7 / 17.7-17.8 / 17.8-17.9, on the truck at 17.8 / 17.9 / 18.0 (delivered);
    # out-gate in order of asking: 1 at 17.9-18.0, 2 at 18.0-18.1, 3 at 18.1-18.2: 0.4,
    # 0.5, 0.5 h.
    b1 = box(0, 2, 1.0)
    b2, b3 = box(1, 1, 7.0), box(2, 1, 7.0)
    world = run_world(tiny(), [(1.0, "a", [b1]), (7.0, "a", [b2, b3])], horizon_h=24.0)

    assert (b1.t_gate_out, b2.t_gate_out, b3.t_gate_out) == approx((1.3, 7.4, 7.4))
    assert (b1.t_pickup_arrive, b2.t_pickup_arrive, b3.t_pickup_arrive) == approx(
        (17.6, 17.6, 17.7)
    )
    assert (b1.t_pickup_pass, b2.t_pickup_pass, b3.t_pickup_pass) == approx((17.6, 17.7, 17.8))
    assert (b1.t_delivered, b2.t_delivered, b3.t_delivered) == approx((17.8, 17.9, 18.0))
    k = freight_kpis(world)
    assert k["hub.truck_turnaround_h_mean"] == approx(0.35)
    assert k["hub.truck_turnaround_h_p95"] == approx(0.3 + 0.95 * 0.1)
    assert k["hub.b.truck_turnaround_h_mean"] == approx((0.4 + 0.5 + 0.5) / 3)
    assert k["hub.b.gate_out_wait_h_mean"] == approx(0.1)  # each waits for the one before
    assert k["hub.gate_wait_h_mean"] == approx(0.0)
    # the containers table carries the gate times
    c = {row[0]: dict(zip(_columns(), row, strict=True)) for row in world.container_rows}
    assert c[0]["t_gate_out"] == approx(1.3) and c[2]["t_pickup_pass"] == approx(17.8)


def test_a_truck_waiting_for_yard_space_lets_a_collecting_truck_through() -> None:
    # terminal B with space for 2 TEU and one lane; a train of service back leaves B on
    # Mondays at 20:00.  X (40') goes by s: in at A 1.0-1.2, on the train 6.5-6.6, at B
    # 12.0, unloaded 12.5-12.6: B's yard is full.  D (20', for back) comes to B's gate at
    # 17.0 and waits for space before the gate, holding no lane.  X's consignee comes at
    # 12.6 + 5 = 17.6: in-gate 17.6-17.7, X on the truck 17.7-17.8, which frees the space;
    # that truck takes the lane first (17.8-17.9), then D: in-gate 17.9-18.0, lifted off
    # 18.0-18.1, out 18.1-18.2; loaded on back 18.1-18.2, which leaves at 20.0.  (Were D
    # to hold the lane while it waits, the consignee could never come in: nothing else
    # frees B's yard.)
    back = {"route": ["b", "a"], "departures": ["Mon 20:00"], "capacity_teu": 10}
    services = {"s": tiny().services["s"].model_dump(by_alias=True), "back": back}
    sc = tiny({"terminals.b.yard_teu": 2}, services=services)
    x = box(0, 2, 1.0)
    d = box(1, 1, 17.0, service="back", route=("b", "a"))
    world = run_world(sc, [(1.0, "a", [x]), (17.0, "b", [d])], horizon_h=24.0)
    assert (x.t_arrived, x.t_pickup_pass, x.t_delivered) == approx((12.6, 17.6, 17.8))
    assert (d.t_gate_arrive, d.t_gate_pass, d.t_gate_in, d.t_gate_out) == approx(
        (17.0, 17.9, 18.1, 18.2)
    )
    assert (d.t_loaded, d.t_departed) == approx((18.2, 20.0))
    gate = world.hubs["b"].gate
    assert list(gate.wait_h.values) == approx([0.0, 0.9])  # the consignee, then D
    assert gate.queue.max == 1


def test_turnaround_counts_only_boxes_created_after_the_warm_up() -> None:
    # as above with a 5 h warm-up: truck 1 (boxes created at 1.0) and the consignee of
    # its box are left out; truck 2 (0.4 h) and the consignees of boxes 2, 3 (0.5 h) count
    b1 = box(0, 2, 1.0)
    b2, b3 = box(1, 1, 7.0), box(2, 1, 7.0)
    env = simpy.Environment()
    world = World(env, tiny(), Streams(0), 24.0, warmup_h=5.0)

    def feed():
        for t, boxes in ((1.0, [b1]), (7.0, [b2, b3])):
            yield env.timeout(t - env.now)
            world.book(("a", boxes, False))

    env.process(feed())
    world.run()
    k = freight_kpis(world)
    assert k["hub.truck_turnaround_h_mean"] == approx(0.4)
    assert k["hub.b.truck_turnaround_h_mean"] == approx(0.5)


def test_utilisations_and_waits_count_from_the_warm_up() -> None:
    # the timeline above, with and without the 5 h warm-up. At A the stacker makes six
    # moves of 0.1 h: truck 1's box (1.1-1.2, before the warm-up), then, after it, the
    # loading of box 1 on the train (placed at 6.0), truck 2's two boxes and their
    # loading. The gate makes four passes of 0.1 h, two of them (truck 1, in and out)
    # before the warm-up. Busy time after the warm-up counts over the 19 h after it.
    def kpis(warmup_h: float) -> dict[str, float]:
        boxes = [box(0, 2, 1.0)], [box(1, 1, 7.0), box(2, 1, 7.0)]
        env = simpy.Environment()
        world = World(env, tiny(), Streams(0), 24.0, warmup_h=warmup_h)

        def feed():
            for t, load in zip((1.0, 7.0), boxes, strict=True):
                yield env.timeout(t - env.now)
                world.book(("a", load, False))

        env.process(feed())
        world.run()
        return freight_kpis(world)

    full, warm = kpis(0.0), kpis(5.0)
    assert full["hub.reach_stacker_utilization"] == approx(0.6 / 24.0)
    assert warm["hub.reach_stacker_utilization"] == approx(0.5 / 19.0)
    assert full["hub.gate_utilization"] == approx(0.4 / 24.0)
    assert warm["hub.gate_utilization"] == approx(0.2 / 19.0)
    # the train holds its track from 6.0 to its departure at 10.0, after the warm-up
    assert full["hub.track_utilization"] * 24.0 == approx(warm["hub.track_utilization"] * 19.0)
    assert full["freight.teu_created"] == warm["freight.teu_created"]  # counts: whole run


def _columns() -> tuple[str, ...]:
    from g60rail.model.world import CONTAINER_COLUMNS

    return CONTAINER_COLUMNS


# -- the hour-of-day profile -------------------------------------------------------------
def _profile_scenario(demand: dict, departures: list[str]) -> Scenario:
    """Tiny with the run starting at 09:30 and A on UTC+7 (local = clock - 1 h): A's
    local hour is (t + 8.5) mod 24."""
    sc = tiny(
        {
            "meta.start": "2025-01-06T09:30:00",
            "places.a.utc_offset_h": 7.0,
            "hub.truck_arrival_profile": PROFILE,
            "hub.cutoff_h": 2.0,
        },
        services={
            "s": {"route": ["a", "b"], "departures": departures, "capacity_teu": 10},
        },
    )
    data = sc.to_dict()
    data["services"]["s"]["demand"] = demand
    from g60rail.scenario.io import scenario_from_dict

    return scenario_from_dict(data)


def _gate_arrivals(sc: Scenario, days: float, seed: int) -> np.ndarray:
    """Gate arrival times of the trucks of service s (origin b is 3.7 h from A's gate)."""
    env = simpy.Environment()
    streams = Streams(seed)
    trucks: list = []
    ids = iter(range(10**9))
    from g60rail.model.trains import departure_times

    clock = Clock.of(sc)
    deps = departure_times(sc.services["s"], clock.local_week0_h(7.0), 24.0 * (days + 30))
    travel = {"a": 0.0, "b": 3.7}
    gen = DemandGenerator(
        env,
        "s",
        sc.services["s"].demand,  # type: ignore[arg-type]
        sc,
        streams.rng("demand.s"),
        streams.rng("cargo.s"),
        lambda d: 0.0,
        trucks.append,
        lambda: next(ids),
        24.0 * days,
        deps,
        streams.rng("demand.s.lead"),
        travel_h=travel.__getitem__,
    )
    env.process(gen.run())
    env.run()
    return np.array([bs[0].t_created + travel[o] for o, bs, _ in trucks])


def _hour_counts(t: np.ndarray, first_day: int, last_day: int) -> np.ndarray:
    """Trucks per local hour of A (day0 = 8.5) on the whole local days in between."""
    local = t + 8.5
    keep = (local >= 24.0 * first_day) & (local < 24.0 * last_day)
    return np.bincount((local[keep] % 24.0).astype(int), minlength=24)


@pytest.mark.parametrize(
    "demand",
    [
        {"teu_per_week": 3500.0, "origins": {"a": 1.0, "b": 1.0}},
        {
            "teu_per_week": 3500.0,
            "origins": {"a": 1.0, "b": 1.0},
            "booking_lead_h": {"dist": "lognormal", "mean": 24.0, "cv": 0.5},
        },
    ],
    ids=["poisson", "booked"],
)
def test_gate_arrivals_follow_the_hour_of_day_profile(demand: dict) -> None:
    # 2,000 trucks a week (1.75 TEU a truck) over 12 whole local days after the first two
    # (the first days lack trucks that would have left before the start): about 3,400
    # trucks, at least 14 expected in the emptiest hour. Chi-square against the profile
    # must not reject at 0.1 %; against a flat day it must (power check).
    sc = _profile_scenario(demand, ["daily 10:00"])
    counts = _hour_counts(_gate_arrivals(sc, days=16.0, seed=11), 2, 14)
    n = counts.sum()
    shares = np.array(PROFILE) / sum(PROFILE)
    assert n > 3000 and (n * shares).min() > 5
    fit = stats.chisquare(counts, n * shares)
    assert fit.pvalue > ALPHA, (fit, counts)
    flat = stats.chisquare(counts, np.full(24, n / 24))
    assert flat.pvalue < 1e-6


def test_booked_trucks_come_before_the_cut_off_of_a_train() -> None:
    # every booked truck comes at least the cut-off (2 h) before some departure of its
    # service; with a weekly train (Mon 10:00 local = t 1.5 + 168 k) none falls in the two
    # hours before a departure
    lead = {"dist": "lognormal", "mean": 24.0, "cv": 0.5}
    demand = {"teu_per_week": 700.0, "booking_lead_h": lead}
    sc = _profile_scenario(demand, ["Mon 10:00"])
    t = _gate_arrivals(sc, days=70.0, seed=3)
    to_next = (1.5 - t) % 168.0
    assert len(t) > 3000
    assert to_next.min() >= 2.0 - 1e-9
    assert np.median(to_next) == approx(24.0, abs=6.0)  # the lead, reshaped by hours


def test_a_profile_moves_poisson_trucks_in_time_and_changes_nothing_else() -> None:
    # inversion maps the same exponential gaps: with whole local days in every month (run
    # from local midnight) the same trucks come, in the same order, at other hours
    def trucks(profile: list[float] | None) -> list[tuple]:
        sc = tiny(
            {"hub.truck_arrival_profile": profile},
            services={
                "s": {
                    "route": ["a", "b"],
                    "departures": ["Mon 10:00"],
                    "capacity_teu": 10,
                    "demand": {"teu_per_week": 400.0},
                }
            },
        )
        env = simpy.Environment()
        streams = Streams(4)
        out: list = []
        ids = iter(range(10**9))
        gen = DemandGenerator(
            env,
            "s",
            sc.services["s"].demand,  # type: ignore[arg-type]
            sc,
            streams.rng("d"),
            streams.rng("c"),
            lambda d: 0.0,
            out.append,
            lambda: next(ids),
            24.0 * 90,
        )
        env.process(gen.run())
        env.run()
        return out

    flat, shaped = trucks(None), trucks(PROFILE)
    assert len(flat) == len(shaped) > 3000  # 400 TEU a week at 1.65 TEU a truck, 90 days
    assert [(o, [b.teu for b in bs]) for o, bs, _ in flat] == [
        (o, [b.teu for b in bs]) for o, bs, _ in shaped
    ]

    def share_at_3am(trucks: list[tuple]) -> float:
        return float(np.mean([3.0 <= bs[0].t_created % 24.0 < 4.0 for _, bs, _ in trucks]))

    # 03:00-04:00 holds 1/24 of a flat day and 0.1/23.2 of the profile's
    assert share_at_3am(flat) == approx(1 / 24, abs=0.01)
    assert share_at_3am(shaped) < 0.01


def test_a_profile_at_one_terminal_leaves_services_from_another_untouched() -> None:
    # common random numbers: the return service books from B; A's profile changes nothing
    def back_bookings(profile: list[float] | None) -> list[tuple]:
        sc = tiny({"hub.truck_arrival_profile": profile})
        data = sc.to_dict()
        data["services"]["s"]["demand"] = {"teu_per_week": 60.0}
        data["services"]["back"] = {
            "route": ["b", "a"],
            "departures": ["daily 06:00"],
            "capacity_teu": 8,
            "demand": {"teu_per_week": 40.0, "booking_lead_h": 20.0},
        }
        from g60rail.scenario.io import scenario_from_dict

        env = simpy.Environment()
        world = World(env, scenario_from_dict(data), Streams(9), 24.0 * 21)
        world.run()
        rows = world.container_rows + [World.container_row(b) for b in world.live.values()]
        records = [dict(zip(_columns(), r, strict=True)) for r in rows]
        return sorted((r["t_created"], r["teu"]) for r in records if r["service"] == "back")

    a, b = back_bookings(None), back_bookings(PROFILE)
    assert len(a) > 50 and a == b


def test_profile_draws_are_exact_inversions() -> None:
    prof = HourProfile(PROFILE, day0_h=0.0)
    assert sum(prof.shares) == approx(1.0)
    assert np.mean(prof.rate) == approx(1.0)
    # hour_of_day inverts the piecewise-uniform distribution
    u = np.linspace(0.0, 1.0, 20001, endpoint=False)
    h = np.array([prof.hour_of_day(x) for x in u])
    counts = np.bincount(h.astype(int), minlength=24) / len(u)
    assert counts == approx(prof.shares, abs=1e-4)
    # advance integrates the rate: one mean-day of mass is one day
    assert prof.advance(5.3, 24.0, 1000.0) == approx(29.3)
    assert prof.advance(5.3, 24.0, 20.0) is None
    # arrival_before stays on the nominal day unless that is after `latest`
    t = prof.arrival_before(t_nominal=30.0, latest=100.0, u=0.5)
    assert 24.0 <= t < 48.0
    t = prof.arrival_before(t_nominal=30.0, latest=30.0, u=0.999)  # 23:xx on day 1 > 30
    assert t == approx(prof.hour_of_day(0.999))  # a day earlier: 23:xx on day 0


def test_profile_must_have_24_weights_not_all_zero() -> None:
    with pytest.raises(ScenarioError, match="24 hourly weights"):
        tiny({"hub.truck_arrival_profile": [1.0] * 23})
    with pytest.raises(ScenarioError, match="24 hourly weights"):
        tiny({"hub.truck_arrival_profile": [0.0] * 24})


# -- invariant on the baseline -----------------------------------------------------------
def test_no_truck_passes_a_gate_outside_its_opening_hours_on_the_baseline() -> None:
    import g60rail as g6

    sc = freight_baseline()
    res = g6.simulate(sc, days=30, seed=2)
    c = res.tables["containers"]
    clock = Clock.of(sc)
    checked = closed_arrivals = 0
    for place in (sc.hub.place, *(t.place for t in sc.terminals.values())):
        spec = sc.terminal(place)
        assert spec is not None
        window = DailyWindow.of(
            spec.gate_hours.open_h,
            spec.gate_hours.close_h,
            clock.local_day0_h(clock.zone_of(sc, place)),
        )
        mine = c[c["first_terminal"] == place]
        starts = np.r_[
            mine["t_gate_pass"].dropna(),
            mine["t_gate_out_pass"].dropna(),
            c.loc[c["destination"] == place, "t_pickup_pass"].dropna(),
        ]
        # every pass, in or out, starts while the gate is open
        assert all(window.is_open(t + 1e-6) for t in starts), place
        # and an out-gate pass (its end is in the table) is done by closing
        out = mine[mine["t_gate_out"].notna()]
        for t0, t1 in zip(out["t_gate_out_pass"], out["t_gate_out"], strict=True):
            assert window.is_open(t1 - 1e-6) and t1 - t0 < window.length_h, (place, t0, t1)
        checked += len(starts)
        closed_arrivals += sum(not window.is_open(t) for t in mine["t_gate_arrive"].dropna())
    assert checked > 10_000
    assert closed_arrivals > 100  # the hours bind: trucks did come to closed gates
    assert res.kpis["hub.gate_wait_h_mean"] > 0 and res.kpis["hub.truck_turnaround_h_p95"] > 1.0
