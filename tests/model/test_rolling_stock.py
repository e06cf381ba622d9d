"""Arrival/departure tracks and train sets, on timelines worked out by hand.

Tiny scenario (tests/conftest.py): hub A with one loading track (0.5 h shunting, trains
placed 4 h before departure), one reach stacker (0.1 h a move) and one gate lane (0.1 h);
terminal B; A-B 2 h.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy
from pytest import approx

from g60rail.model.rolling_stock import TrainSetPool
from tests.conftest import tiny
from tests.model.test_timeline import box, run_world

WAITING = {
    # a hybrid train that waits up to a day for 8 TEU, and a daily train behind it
    "slow": {
        "route": ["a", "b"],
        "departures": ["Mon 10:00"],
        "capacity_teu": 10,
        "policy": "hybrid",
        "min_fill_teu": 8,
        "max_hold_h": 24,
    },
    "daily": {"route": ["a", "b"], "departures": ["daily 12:00"], "capacity_teu": 10},
}


def _first(world, service: str) -> tuple:
    return min(r for r in world.trains.rows if r[1] == service)


def test_a_train_waiting_for_its_fill_leaves_the_loading_track_for_an_ad_track() -> None:
    # slow: on an A/D track at 6.0, on the loading track at 6.0 (shunt to 6.5), its one
    #   box (gate 1.0-1.1, off the truck 1.1-1.2) loaded 6.5-6.6; at 10.0 it has 1 TEU of
    #   8, so it waits on its A/D track and frees the loading track; it leaves at
    #   10 + 24 = 34.0 with the box.
    # daily: on an A/D track at 8.0, on the loading track at 10.0 when slow leaves it,
    #   shunted to 10.5, leaves on time at 12.0.
    b = box(0, 1, 1.0, service="slow")
    sc = tiny({"hub.ad_tracks": 2}, services=WAITING)
    world = run_world(sc, [(1.0, "a", [b])], horizon_h=48.0)
    slow, daily = _first(world, "slow"), _first(world, "daily")
    assert (slow[5], slow[6]) == approx((6.0, 34.0))  # placed, departed
    assert b.t_loaded == approx(6.6)
    assert (daily[5], daily[6]) == approx((8.0, 12.0))
    hub = world.hubs["a"]
    # the loading track: slow 6-10, daily 10-12 and the next daily (Tue 12:00, placed
    # at 32) 32-36 -- busy 10 h of the 48; A/D tracks: slow 6-34, the dailies 4 h each
    assert hub.tracks.busy_time.h == approx(4.0 + 2.0 + 4.0)
    assert hub.ad_busy.h == approx(28.0 + 4.0 + 4.0)


def test_without_ad_tracks_the_waiting_train_blocks_the_loading_track() -> None:
    # the same trains with only the loading track: daily waits for it until slow leaves
    # at 34.0, is placed then, shunted to 34.5 and leaves late (and so does not wait
    # for its timetabled time again)
    b = box(0, 1, 1.0, service="slow")
    world = run_world(tiny(services=WAITING), [(1.0, "a", [b])], horizon_h=48.0)
    slow, daily = _first(world, "slow"), _first(world, "daily")
    assert slow[6] == approx(34.0)
    assert (daily[5], daily[6]) == approx((34.0, 34.5))


SETS = {
    "out": {
        "route": ["a", "b"],
        "departures": ["Mon 10:00", "Mon 14:00"],
        "capacity_teu": 10,
        "train_sets": 1,
        "set_turnaround_h": 0.5,
    },
    "out_return": {
        "route": ["b", "a"],
        "departures": ["Mon 13:00"],
        "capacity_teu": 10,
        "set_turnaround_h": 0.5,
    },
}


def test_a_departure_waits_for_its_train_set_to_come_back() -> None:
    # one set, at A (two departures a week there, one at B).
    # out 10:00: placed 6.0, shunt 6.5, leaves 10.0, at B 12.0, set free at B 12.5.
    # out_return 13:00: from 9.0 it waits for the set; placed 12.5, shunted (B: 0.5) to
    #   13.0, leaves on time 13.0, at A 15.0, set free at A 15.5.
    # out 14:00: from 10.0 it waits for the set; placed 15.5, shunt 16.0, leaves 16.0:
    #   two hours late because its set came back late.
    world = run_world(tiny(services=SETS), [], horizon_h=30.0)
    rows = sorted(world.trains.rows)
    times = [(r[1], r[5], r[6], r[7]) for r in rows]
    assert times == [
        ("out", approx(6.0), approx(10.0), approx(12.0)),
        ("out_return", approx(12.5), approx(13.0), approx(15.0)),
        ("out", approx(15.5), approx(16.0), approx(18.0)),
    ]
    pool = world.trains.pools["out"]
    assert pool.size == 1
    assert list(pool.wait_h.values) == approx([0.0, 12.5 - 9.0, 15.5 - 10.0])


def test_sets_are_spread_by_departures() -> None:
    assert TrainSetPool.spread(4, {"a": 7, "b": 7}) == {"a": 2, "b": 2}
    assert TrainSetPool.spread(5, {"a": 7, "b": 1}) == {"a": 4, "b": 1}
    assert sum(TrainSetPool.spread(40, {"a": 56, "b": 56}).values()) == 40


def _pool_timeline(at: dict[str, int], path: bool) -> tuple[list[float], TrainSetPool]:
    """A train asks for a set at ``b`` at t = 1 h; when granted, the time is recorded.
    With ``path`` a set may run light from ``a`` to ``b``, which takes 5 h."""
    env = simpy.Environment()
    pool = TrainSetPool(
        env,
        "p",
        at,
        run_light=lambda _a, _b: env.timeout(5.0),
        paths=[("a", "b")] if path else [],
        horizon_h=50.0,
    )
    granted: list[float] = []

    def train() -> Generator[simpy.Event, None, None]:
        yield env.timeout(1.0)
        ev = pool.take("b")
        if ev is not None:
            yield ev
        granted.append(env.now)

    env.process(train())
    env.run(until=50.0)
    return granted, pool


def test_an_idle_set_runs_light_to_where_a_train_waits() -> None:
    # three sets idle at a, none at b: at t = 1 one of them leaves a empty and, after its
    # 5 h light run, reaches b at 6, where the waiting train takes it
    granted, pool = _pool_timeline({"a": 3, "b": 0}, path=True)
    assert granted == approx([6.0])
    assert pool.light_runs == 1
    assert pool.free == {"a": 2, "b": 0}
    assert pool.wait_h.mean() == approx(5.0)
    # one set away from t = 1 to the end at 50 (light run, then the train that took it)
    pool.away.finish(50.0)
    assert pool.away.mean(50.0) == approx(49.0 / 50.0)


def test_a_set_is_away_from_its_taking_until_it_is_free_again() -> None:
    # two sets at a; a train takes one at 2 h, it is free again at a at 7 h; over 10 h one
    # set was away for 5 h: 0.5 sets on average (utilisation 0.25)
    env = simpy.Environment()
    pool = TrainSetPool(
        env, "p", {"a": 2}, run_light=lambda _a, _b: env.timeout(1.0), paths=[], horizon_h=10.0
    )

    def train() -> Generator[simpy.Event, None, None]:
        yield env.timeout(2.0)
        assert pool.take("a") is None
        yield env.timeout(5.0)
        pool.arrive("a")

    env.process(train())
    env.run(until=10.0)
    pool.away.finish(10.0)
    assert pool.away.mean(10.0) == approx(0.5)
    assert pool.away.max == 1


def test_no_light_run_from_the_last_set_or_without_a_path() -> None:
    granted, pool = _pool_timeline({"a": 1, "b": 0}, path=True)  # a keeps its reserve
    assert granted == [] and pool.light_runs == 0
    granted, pool = _pool_timeline({"a": 3, "b": 0}, path=False)
    assert granted == [] and pool.light_runs == 0


def test_a_train_still_waiting_at_the_end_counts_its_wait_up_to_it() -> None:
    # no set ever comes to b: the train asking at t = 1 still waits at the end, t = 50,
    # and counts 49 h (with no waits counted, a held pool would show none)
    granted, pool = _pool_timeline({"a": 1, "b": 0}, path=True)
    assert granted == [] and len(pool.wait_h) == 0
    pool.finish(50.0)
    assert list(pool.wait_h.values) == approx([49.0])
    pool.finish(50.0)  # closing twice counts nothing twice
    assert len(pool.wait_h) == 1


# three sets of one pool on a single-track line A-B (100 km at 50 km/h: 2 h; 6 min of
# station interval); two departures from B at the start, four a week from A
LIGHT = {
    "out": {
        "route": ["a", "b"],
        "departures": ["Mon 10:00", "Tue 10:00", "Wed 10:00", "Thu 10:00"],
        "capacity_teu": 10,
        "train_sets": 3,
    },
    "out_return": {
        "route": ["b", "a"],
        "departures": ["Mon 01:00", "Mon 02:00"],
        "capacity_teu": 10,
    },
}
SINGLE_AB = {
    "ab": {
        "track": "single",
        "speed_kmh": 50.0,
        "running_cv": 0.0,
        "station_interval_min": 6.0,
        "stations": [{"id": "a", "km": 0}, {"id": "b", "km": 100}],
    }
}


def test_a_light_run_takes_the_single_track_like_a_train() -> None:
    # sets spread 2 at A, 1 at B.  Both returns are placed at B at 0 (4 h window): the
    # first takes B's set; the second finds none, so one of A's two idle sets runs light
    # A -> B at 0 and holds the single track until 2.0 (free again at 2.1).
    # return 1 leaves B at 1.0 (placed 0, shunt to 0.5) and waits for the track: in
    #   2.1-4.1.
    # return 2 gets the light set at 2.0, is placed then, shunted to 2.5, leaves (late)
    #   at 2.5 and waits behind return 1: in 4.2-6.2.
    sc = tiny(services=LIGHT, lines=SINGLE_AB, legs=[])
    world = run_world(sc, [], horizon_h=8.0)
    returns = sorted(r for r in world.trains.rows if r[1] == "out_return")
    assert [(r[5], r[6], r[7]) for r in returns] == [
        (approx(0.0), approx(1.0), approx(4.1)),
        (approx(2.0), approx(2.5), approx(6.2)),
    ]
    light = [r for r in world.network.rows if r[2] == "light"]
    assert [(r[1], r[5], r[6], r[10], r[11]) for r in light] == [
        ("out", "a", "b", approx(0.0), approx(2.0))
    ]
    assert world.trains.pools["out"].light_runs == 1
