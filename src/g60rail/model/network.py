"""The rail network of a scenario: its lines, its coarse rail legs and the passenger
trains that run on the lines.

Every pair of consecutive stops of a service runs over one :class:`~g60rail.model.line.Line`:
a line of the scenario's ``[lines]`` on which both stops are stations, or, for a rail leg
of ``[[legs]]``, a line of its two ends and one double-track section whose headway is
``24 / paths_per_day`` hours (trains may overtake there: a leg is a coarse block, not a
real section).  Times of day (timetables, maintenance windows) are local; the model's
clock is the scenario's (``meta.utc_offset_h``), see :class:`~g60rail.scenario.clock.Clock`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import simpy

from g60rail.model.disruptions import closure_windows
from g60rail.model.line import (
    DECREASING,
    INCREASING,
    DailyWindows,
    Line,
    Section,
    StationTracks,
)
from g60rail.random import Streams
from g60rail.scenario.clock import Clock, iter_weekly_times
from g60rail.scenario.line_spec import LineSpec, PassengerPath
from g60rail.scenario.schema import Leg, Scenario, parse_weekly_time

__all__ = ["PassengerTrain", "RailNetwork"]


class PassengerTrain:
    """A passenger train on a line: it carries no containers and goes first."""

    __slots__ = ("service", "speed_kmh", "tid")
    kind = "passenger"
    priority = 0
    teu = 0

    def __init__(self, tid: int, service: str, speed_kmh: float) -> None:
        self.tid = tid
        self.service = service
        self.speed_kmh = speed_kmh


class RailNetwork:
    """The lines and rail legs of a scenario, built for one run.

    Parameters
    ----------
    env
        The SimPy environment.
    scenario
        Lines, rail legs, places (their time zones and terminals), closures.
    streams
        Random streams: ``line.<line>.<section>.<+|->`` for a line section's running time,
        ``leg.<from>-<to>`` for a rail leg's.
    clock
        The model's clock.
    horizon_h
        Run length, hours.
    record
        Keep the section records (:attr:`rows`).
    warmup_h
        The sections' occupancy and waits count from this time on, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        clock: Clock,
        horizon_h: float,
        record: bool = True,
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.warmup_h = warmup_h
        self.scenario = scenario
        self.clock = clock
        self.horizon_h = horizon_h
        self.rows: list[tuple] = []
        """Section records (:data:`~g60rail.model.line.SECTION_COLUMNS`), if kept."""
        self._record = self.rows.append if record else None
        self.lines: dict[str, Line] = {}
        self.specs: dict[str, LineSpec] = dict(scenario.lines)
        self._hops: dict[tuple[str, str], Line] = {}
        for line_id, spec in scenario.lines.items():
            line = self._build_line(line_id, spec, streams)
            self.lines[line_id] = line
            for a in line.station_ids:
                for b in line.station_ids:
                    if a != b:
                        self._hops.setdefault((a, b), line)
        for leg in scenario.legs:
            if leg.mode != "road" and (leg.from_, leg.to) not in self._hops:
                line = self._build_leg(leg, streams)
                self.lines[line.id] = line
                self._hops[leg.from_, leg.to] = self._hops[leg.to, leg.from_] = line
        self._pax_ids = -1

    # -- building -----------------------------------------------------------------------
    def _build_line(self, line_id: str, spec: LineSpec, streams: Streams) -> Line:
        env, sc = self.env, self.scenario
        ids = spec.station_ids
        zones = self.clock.station_zones(self.scenario, spec)
        tracks = [
            StationTracks(env, st.id, st.tracks if limited else None)
            for st, limited in zip(spec.stations, sc.limited_stations(line_id), strict=True)
        ]
        closures = sc.disruptions.closures
        sections = []
        for i, sid in enumerate(spec.section_ids):
            window = spec.maintenance_of(i)
            maintenance: DailyWindows | list[tuple[float, float]] = []
            if window is not None:
                first, n = self.clock.daily_series(window.start_h, zones[i], self.horizon_h)
                maintenance = DailyWindows(first, window.duration_min / 60.0, n)
            shut = [
                w
                for c in closures
                if c.kind == "line" and _covers(spec, c.where, i)
                for w in closure_windows([c], "line", c.where, sc.meta.start)
            ]
            run = spec.running_time(i)
            sections.append(
                Section(
                    env,
                    sid,
                    spec.km_of(i),
                    single=spec.track_of(i) == "single",
                    headway_h=spec.headway_min_of(i) / 60.0,
                    interval_h=spec.station_interval_min / 60.0,
                    running_h={
                        INCREASING: streams.sampler(f"line.{line_id}.{sid}.+", run),
                        DECREASING: streams.sampler(f"line.{line_id}.{sid}.-", run),
                    },
                    maintenance=maintenance,
                    closures=shut,
                    warmup_h=self.warmup_h,
                )
            )
        return Line(
            env,
            line_id,
            ids,
            [st.km for st in spec.stations],
            tracks,
            sections,
            self._record,
        )

    def _build_leg(self, leg: Leg, streams: Streams) -> Line:
        env, sc = self.env, self.scenario
        a, b = leg.from_, leg.to
        section = Section(
            env,
            f"{a}_{b}",
            leg.km,
            single=False,
            headway_h=24.0 / leg.paths_per_day if leg.paths_per_day else 0.0,
            interval_h=0.0,
            running_h={
                INCREASING: streams.sampler(f"leg.{a}-{b}", leg.running_time),
                DECREASING: streams.sampler(f"leg.{b}-{a}", leg.running_time),
            },
            maintenance=[],
            closures=closure_windows(sc.disruptions.closures, "line", (a, b), sc.meta.start),
            ordered_exit=False,
            warmup_h=self.warmup_h,
        )
        tracks = [StationTracks(env, a, None), StationTracks(env, b, None)]
        return Line(env, f"leg.{a}-{b}", [a, b], [0.0, leg.km], tracks, [section], self._record)

    # -- use ----------------------------------------------------------------------------
    def between(self, a: str, b: str) -> Line:
        """The line a train takes from stop ``a`` to stop ``b``."""
        return self._hops[a, b]

    def start(self) -> None:
        """Start the passenger trains of every line: one process per passenger path starts
        each of its trains at its time (so memory does not grow with the horizon)."""
        for line_id, spec in self.specs.items():
            zones = self.clock.station_zones(self.scenario, spec)
            for path in spec.passenger_paths:
                zone = zones[spec.station_ids.index(path.from_)]
                weekly = sorted(h for t in path.departures for h in parse_weekly_time(t))
                times = iter_weekly_times(weekly, self.clock.local_week0_h(zone), self.horizon_h)
                self.env.process(self._passenger_path(self.lines[line_id], path, times))

    def _passenger_path(
        self, line: Line, path: PassengerPath, times: Iterator[float]
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        # each wait runs from the previous train's start, so a start may differ from its
        # timetabled time by a rounding (about 1e-15 h)
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(self._passenger_train(line, path))

    def _passenger_train(self, line: Line, path: PassengerPath) -> Generator:
        tid = self._pax_ids
        self._pax_ids -= 1
        train = PassengerTrain(tid, path.name or f"{line.id}.passenger", path.speed_kmh)
        holding = yield from line.run(
            train, path.from_, path.to, stop=lambda s: path.stops.get(s, 0.0)
        )
        line.leave(path.to, holding)


def _covers(spec: LineSpec, where: list[str], i: int) -> bool:
    """Whether a closure of the stretch ``where`` (two stations of the line, in either
    order) covers section ``i``."""
    ids = spec.station_ids
    if len(where) != 2 or where[0] not in ids or where[1] not in ids:
        return False
    lo, hi = sorted((ids.index(where[0]), ids.index(where[1])))
    return lo <= i < hi
