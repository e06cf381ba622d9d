"""Line sections, station tracks and meets: a timeline worked by hand, and random heavy
traffic both ways that never deadlocks and never breaks the occupation rules."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from g60rail.model.line import (
    DECREASING,
    INCREASING,
    SECTION_COLUMNS,
    DailyWindows,
    Line,
    Section,
    StationTracks,
    Windows,
    WindowUnion,
)
from g60rail.random import Streams

MIN = 1.0 / 60.0


@dataclass
class Freight:
    tid: int
    service: str = "test"
    kind: str = "freight"
    priority: int = 1
    speed_kmh: float | None = None
    teu: int = 40


def build_line(
    env: simpy.Environment,
    km: list[float],
    tracks: list[int | None],
    single: list[bool],
    speed_kmh: float = 60.0,
    headway_min: float = 10.0,
    interval_min: float = 4.0,
    maintenance: list[list[tuple[float, float]]] | None = None,
) -> tuple[Line, list[tuple]]:
    """A line of stations ``s0, s1, ...`` at ``km`` with constant running times."""
    rows: list[tuple] = []
    streams = Streams(0)
    ids = [f"s{i}" for i in range(len(km))]
    sections = [
        Section(
            env,
            f"{ids[i]}_{ids[i + 1]}",
            km[i + 1] - km[i],
            single=single[i],
            headway_h=headway_min * MIN,
            interval_h=interval_min * MIN,
            running_h={
                d: streams.sampler(f"x{i}{d}", (km[i + 1] - km[i]) / speed_kmh)
                for d in (INCREASING, DECREASING)
            },
            maintenance=(maintenance or [[]] * len(single))[i],
            closures=[],
        )
        for i in range(len(km) - 1)
    ]
    stations = [LoggedTracks(env, s, t) for s, t in zip(ids, tracks, strict=True)]
    return Line(env, "test", ids, km, list(stations), sections, rows.append), rows


class LoggedTracks(StationTracks):
    """Station tracks that log every grant and release: (time, direction, +1 | -1)."""

    def __init__(self, env: simpy.Environment, station: str, tracks: int | None) -> None:
        super().__init__(env, station, tracks)
        self.log: list[tuple[float, int, int]] = []

    def reserve(self, direction: int) -> simpy.Event | None:
        ev = super().reserve(direction)
        if ev is None:
            self.log.append((self.env.now, direction, 1))
        else:
            ev.callbacks.append(lambda _e: self.log.append((self.env.now, direction, 1)))
        return ev

    def release(self, direction: int) -> None:
        self.log.append((self.env.now, direction, -1))
        super().release(direction)


def go(env: simpy.Environment, line: Line, train: Freight, a: str, b: str, t0: float, done: list):
    yield env.timeout(t0)
    holding = yield from line.run(train, a, b)
    line.leave(b, holding)
    done.append(train.tid)


def by_train(rows: list[tuple]) -> dict[tuple[int, str], tuple[float, float, float]]:
    i = {c: k for k, c in enumerate(SECTION_COLUMNS)}
    return {
        (r[i["tid"]], r[i["section"]]): (r[i["t_ready"]], r[i["t_enter"]], r[i["t_exit"]])
        for r in rows
    }


def test_two_opposing_trains_meet_at_the_passing_loop_as_worked_by_hand() -> None:
    # s0 --30 km single-- s1 (2 tracks: one each way) --30 km single-- s2, 60 km/h, so
    # 30 min a section, station interval 4 min.
    #  X: s0 -> s2 at 0.0: enters s0_s1 at 0.0, at s1 at 0.5; s1_s2 is held by Y until
    #     0.7 plus the interval: enters 0.7 + 4/60, out at 1.2 + 4/60.
    #  Y: s2 -> s0 at 0.2: enters s1_s2 at 0.2, at s1 at 0.7; s0_s1 free since 0.5 + 4/60:
    #     enters 0.7, out 1.2.  They meet at s1.
    #  Z: s0 -> s2 at 0.1: s1's one increasing track is X's until X leaves it (0.7 + 4/60),
    #     then s0_s1 is Y's until 1.2 + 4/60: enters then, at s1 1.7 + 4/60, s1_s2 free.
    env = simpy.Environment()
    line, rows = build_line(env, [0, 30, 60], [None, 2, None], [True, True])
    done: list[int] = []
    env.process(go(env, line, Freight(1), "s0", "s2", 0.0, done))
    env.process(go(env, line, Freight(2), "s2", "s0", 0.2, done))
    env.process(go(env, line, Freight(3), "s0", "s2", 0.1, done))
    env.run()
    t = by_train(rows)
    iv = 4 * MIN
    assert t[1, "s0_s1"] == pytest.approx((0.0, 0.0, 0.5))
    assert t[1, "s1_s2"] == pytest.approx((0.5, 0.7 + iv, 1.2 + iv))
    assert t[2, "s1_s2"] == pytest.approx((0.2, 0.2, 0.7))
    assert t[2, "s0_s1"] == pytest.approx((0.7, 0.7, 1.2))
    assert t[3, "s0_s1"] == pytest.approx((0.1, 1.2 + iv, 1.7 + iv))
    assert t[3, "s1_s2"] == pytest.approx((1.7 + iv, 1.7 + iv, 2.2 + iv))
    assert sorted(done) == [1, 2, 3]


def test_double_track_keeps_the_headway_and_order() -> None:
    env = simpy.Environment()
    line, rows = build_line(env, [0, 30], [None, None], [False], headway_min=10.0)
    done: list[int] = []
    slow = Freight(1)
    fast = Freight(2, speed_kmh=120.0)
    env.process(go(env, line, slow, "s0", "s1", 0.0, done))
    env.process(go(env, line, fast, "s0", "s1", 0.0, done))
    env.process(go(env, line, Freight(3), "s1", "s0", 0.0, done))
    env.run()
    t = by_train(rows)
    assert t[1, "s0_s1"] == pytest.approx((0.0, 0.0, 0.5))
    # 10 min behind, and it cannot pass the slow train: out 10 min after it
    assert t[2, "s0_s1"] == pytest.approx((0.0, 10 * MIN, 0.5 + 10 * MIN))
    assert t[3, "s0_s1"] == pytest.approx((0.0, 0.0, 0.5))  # the other track


def test_a_train_waits_at_the_station_for_the_maintenance_window() -> None:
    env = simpy.Environment()
    line, rows = build_line(
        env, [0, 30, 60], [None, 2, None], [True, True], maintenance=[[], [(0.75, 2.0)]]
    )
    done: list[int] = []
    env.process(go(env, line, Freight(1), "s0", "s2", 0.0, done))
    env.run()
    t = by_train(rows)
    # at s1 at 0.5; a 30-min run would end at 1.0, inside the window: enters at 2.0
    assert t[1, "s1_s2"] == pytest.approx((0.5, 2.0, 2.5))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-30.0, 30.0),
    st.floats(0.01, 23.99),
    st.integers(0, 12),
    st.floats(-40.0, 320.0),
    st.floats(0.0, 30.0),
    st.lists(st.tuples(st.floats(-10.0, 300.0), st.floats(0.0, 60.0)), max_size=4),
)
def test_daily_windows_and_unions_agree_with_the_listed_windows(
    first: float,
    dur: float,
    n: int,
    t: float,
    d: float,
    shut: list[tuple[float, float]],
) -> None:
    """The daily series found as needed gives the answers of the same windows listed, and
    a union the answers of its windows merged into one list, to the last bit."""
    listed = [(first + 24.0 * k, first + 24.0 * k + dur) for k in range(n)]
    daily = DailyWindows(first, dur, n)
    assert daily.clear(t, d) == Windows(listed).clear(t, d)
    assert daily.total_h(0.0, t) == Windows(listed).total_h(0.0, t)
    closures = [(s, s + length) for s, length in shut]
    union = WindowUnion(daily, Windows(closures))
    assert union.clear(t, d) == Windows(listed + closures).clear(t, d)
    assert bool(union) == bool(listed + closures)


def test_windows_lookup_agrees_with_a_linear_scan() -> None:
    w = Windows([(1.0, 2.0), (1.5, 3.0), (5.0, 6.0)])
    assert (w.starts, w.ends) == ([1.0, 5.0], [3.0, 6.0])
    assert w.clear(0.0, 0.5) == 0.0
    assert w.clear(0.0, 1.5) == 3.0
    assert w.clear(2.9, 2.5) == 6.0
    assert w.clear(3.0, 2.0) == 3.0
    assert w.clear(5.0, 0.0) == 6.0
    assert w.total_h(0.0, 5.5) == pytest.approx(2.5)


# -- random heavy traffic -------------------------------------------------------------------
@st.composite
def layouts(draw: st.DrawFn) -> dict:
    n = draw(st.integers(2, 6))
    gaps = draw(st.lists(st.floats(5, 60), min_size=n - 1, max_size=n - 1))
    km = list(itertools.accumulate([0.0, *gaps]))
    tracks = [None] + [draw(st.integers(2, 4)) for _ in range(n - 2)] + [None]
    single = draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    maint = [
        [(s, s + d) for s in (draw(st.floats(0, 20)),) for d in (draw(st.floats(0.1, 3)),)]
        if draw(st.booleans())
        else []
        for _ in range(n - 1)
    ]
    trains = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),  # from
                st.integers(0, n - 1),  # to
                st.floats(0, 24),  # start
                st.booleans(),  # passenger
            ).filter(lambda x: x[0] != x[1]),
            min_size=1,
            max_size=40,
        )
    )
    return {"km": km, "tracks": tracks, "single": single, "maint": maint, "trains": trains}


@settings(max_examples=300, deadline=None)
@given(layouts())
def test_random_heavy_traffic_never_deadlocks_or_overfills(layout: dict) -> None:
    env = simpy.Environment()
    line, rows = build_line(
        env, layout["km"], layout["tracks"], layout["single"], maintenance=layout["maint"]
    )
    done: list[int] = []
    for tid, (a, b, t0, pax) in enumerate(layout["trains"]):
        train = Freight(tid, priority=0 if pax else 1, speed_kmh=120.0 if pax else None)
        env.process(go(env, line, train, f"s{a}", f"s{b}", t0, done))
    env.run()  # to the end: nothing may be left waiting
    assert sorted(done) == list(range(len(layout["trains"])))
    check_occupation(line, rows, layout)


def check_occupation(line: Line, rows: list[tuple], layout: dict) -> None:
    """No two trains in a single-track section (with the station interval between them),
    headway and order one way on double track, no run into a window, and never more
    trains holding (or heading for) a station's tracks of one direction than it has."""
    i = {c: k for k, c in enumerate(SECTION_COLUMNS)}
    eps = 1e-9
    for section in line.sections:
        mine = sorted(
            (r[i["t_enter"]], r[i["t_exit"]], r[i["direction"]])
            for r in rows
            if r[i["section"]] == section.id
        )
        if section.single:
            for (_e0, x0, _), (e1, _x1, _) in itertools.pairwise(mine):
                assert e1 >= x0 + section.interval_h - eps, (section.id, mine)
        else:
            for d in ("increasing", "decreasing"):
                one_way = [m for m in mine if m[2] == d]
                for (e0, x0, _), (e1, x1, _) in itertools.pairwise(one_way):
                    assert e1 >= e0 + section.headway_h - eps
                    assert x1 >= x0 + section.headway_h - eps
        for e, x, _ in mine:
            assert section.windows.clear(e, x - e) == pytest.approx(e), "ran into a window"
    for tracks in line.tracks:
        assert isinstance(tracks, LoggedTracks)
        level = {INCREASING: 0, DECREASING: 0}
        # the log is in event order: a track passed on is released before it is granted
        for _t, d, step in tracks.log:
            level[d] += step
            assert 0 <= level[d] <= tracks.quota[d], (tracks.station, tracks.log)
        assert level == {INCREASING: 0, DECREASING: 0}  # every track given back
    # and physically: a train stands at a station from arriving until it leaves
    for k, tracks in enumerate(line.tracks):
        if not tracks.limited:
            continue
        for d, name in ((INCREASING, "increasing"), (DECREASING, "decreasing")):
            spans = []
            for tid, (a, b, _t0, _p) in enumerate(layout["trains"]):
                recs = sorted(
                    (r for r in rows if r[i["tid"]] == tid), key=lambda r: r[i["t_enter"]]
                )
                if recs[0][i["direction"]] != name:
                    continue
                path = list(range(a, b + 1)) if b > a else list(range(a, b - 1, -1))
                if k in path[1:-1]:
                    j = path.index(k)
                    spans.append((recs[j - 1][i["t_exit"]], recs[j][i["t_enter"]]))
            events = sorted([(x, 1) for x, _ in spans] + [(y, -1) for _, y in spans])
            level_ = 0
            for _t, step in sorted(events, key=lambda e: (e[0], e[1])):
                level_ += step
                assert level_ <= tracks.quota[d], (k, name, spans)
