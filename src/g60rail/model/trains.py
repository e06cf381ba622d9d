"""Train services: weekly timetables, placement and dispatch at the origin, runs over legs.

Each departure in a service's weekly timetable creates a :class:`Train`.  It needs a train
set standing at its origin, is placed on a loading track ``load_window_h`` before its
time and loaded under its service's dispatch policy (:mod:`g60rail.model.loading`).  It
then runs its route leg by leg: at a border port it waits for clearance, at a terminal
where boxes end their rail hop they are unloaded; at the end of its run its set is free
again after its servicing.  A set sent back empty (a light run) runs its service's route
on the network too, stopping only for technical handling at border ports and the
service's stops (crew and locomotive changes).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

import simpy

from g60rail.model.hub import Hub, TrackHold
from g60rail.model.loading import OriginLoading
from g60rail.model.rolling_stock import LIGHT_TID0, LightTrain, Train, TrainSetPool
from g60rail.model.service_queue import ServiceQueue
from g60rail.random import Sampler, Streams
from g60rail.scenario.clock import iter_weekly_times

if TYPE_CHECKING:
    from g60rail.model.border import BorderPort
    from g60rail.model.cargo import Container
    from g60rail.model.line import Line
    from g60rail.model.network import RailNetwork
    from g60rail.model.probes import DailyCounter
    from g60rail.model.terminal import Terminal
    from g60rail.scenario.clock import Clock
    from g60rail.scenario.schema import Scenario, ServiceSpec

__all__ = ["TRAIN_COLUMNS", "TrainRuns", "departure_times"]

TRAIN_COLUMNS = (
    "tid",
    "service",
    "origin",
    "destination",
    "t_planned",
    "t_placed",
    "t_departed",
    "t_arrived",
    "teu",
    "boxes",
)
"""Columns of a train's record (:attr:`TrainRuns.rows`), one row per train that arrived."""


def departure_times(spec: ServiceSpec, start_week_h: float, horizon_h: float) -> Iterator[float]:
    """Simulation times (hours) of every timetabled departure within ``[0, horizon_h)``, in
    increasing order, one week at a time.

    Parameters
    ----------
    spec
        The service with its weekly timetable.
    start_week_h
        Hours from Monday 00:00, local time at the service's origin, to simulation time 0
        (e.g. 33.5 for Tuesday 09:30).
    horizon_h
        Run length, hours.
    """
    return iter_weekly_times(spec.weekly_departures_h, start_week_h, horizon_h)


class TrainRuns:
    """Every train of the scenario's services, from placement at the origin to arrival.

    A train is placed on a loading track of its origin hub ``load_window_h`` before its
    time (or at a siding where the origin has no terminal), loaded under its service's
    dispatch policy (:class:`OriginLoading`), then runs its route section by section: at a
    border port it waits for clearance and picks up released boxes, at a terminal where
    boxes end their rail hop it takes a track and is unloaded, at other stops it dwells
    ``stop_h``.

    Parameters
    ----------
    env
        The SimPy environment.
    scenario
        Services, places (their countries decide exit or entry at a port).
    hubs, terminals, ports
        The parts by place id.
    network
        The rail network: the line between each pair of consecutive stops.
    siding
        The queue of boxes waiting for a service at a place without a terminal.
    daily
        Daily counters (``teu_departed.<service>``, ``trains_departed``).
    arrived, delivered
        Called for a box that ends its trip at a place without a terminal.
    clock
        The model's clock (timetables are local at each service's origin).
    horizon_h
        Run length, hours.
    streams
        Random streams (``trainsets.<service>.turnaround``, and
        ``trainsets.light.<port>.technical`` for light runs at a border port); none: sets
        need no servicing and light runs no technical handling.
    record
        Keep one record per arrived train (:attr:`rows`).
    warmup_h
        The train-set pools' waits count departures asking for a set at or after this
        time, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        hubs: dict[str, Hub],
        terminals: dict[str, Terminal],
        ports: dict[str, BorderPort],
        network: RailNetwork,
        siding: Callable[[str, str], ServiceQueue],
        daily: DailyCounter,
        arrived: Callable[[Container], None],
        delivered: Callable[[Container], None],
        clock: Clock,
        horizon_h: float,
        streams: Streams | None = None,
        record: bool = True,
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.scenario = scenario
        self.hubs = hubs
        self.terminals = terminals
        self.ports = ports
        self.network = network
        self.siding = siding
        self.daily = daily
        self.arrived = arrived
        self.delivered = delivered
        self.clock = clock
        self.horizon_h = horizon_h
        self.record = record
        self.rows: list[tuple] = []
        """One record per arrived train, in the order of :data:`TRAIN_COLUMNS`, if kept."""
        self.arrivals = 0
        """Trains arrived at the end of their route."""
        self.departures: dict[str, list[int]] = {}
        """Per service: [trains departed, TEU on board at departure]."""
        self._tids = itertools.count()
        self._light_tids = itertools.count(LIGHT_TID0)
        self._filling: dict[str, list[Train]] = {}
        """Trains of each service not yet departed from its origin."""
        self.pools: dict[str, TrainSetPool] = {}
        self._turnaround: dict[str, Sampler] = {}
        self._light_technical: dict[str, Sampler] = {}
        for pool, sets in scenario.train_sets().items():
            members = [sid for sid in scenario.services if scenario.pool_of(sid) == pool]
            weekly: dict[str, int] = {}
            paths: dict[tuple[str, str], str] = {}
            for sid in members:
                route = scenario.services[sid].route
                weekly[route[0]] = weekly.get(route[0], 0) + len(
                    scenario.services[sid].weekly_departures_h
                )
                paths.setdefault((route[0], route[-1]), sid)
            self.pools[pool] = TrainSetPool(
                env,
                pool,
                TrainSetPool.spread(sets, weekly),
                run_light=functools.partial(self.light_run, paths),
                paths=paths,
                horizon_h=self.horizon_h,
                warmup_h=warmup_h,
            )
        if streams is not None:
            for sid, spec in scenario.services.items():
                self._turnaround[sid] = streams.sampler(
                    f"trainsets.{sid}.turnaround", spec.set_turnaround_h
                )
            for place, port in ports.items():
                self._light_technical[place] = streams.sampler(
                    f"trainsets.light.{place}.technical", port.spec.technical_h
                )

    def start(self) -> None:
        """Register every service's timetable with the environment."""
        for sid, spec in self.scenario.services.items():
            self.env.process(self.timetable(sid, spec))

    def timetable(self, sid: str, spec: ServiceSpec) -> Generator:
        """SimPy process: place every timetabled train of a service on its track.

        Under ``full`` a placement is skipped while the service's trains not yet departed
        from the origin have room for every box waiting there: another train would only
        wait behind them, holding a train set and a track.  With more boxes waiting than
        that room (a backlog), every placement is made.
        """
        hub = self.hubs.get(spec.route[0])
        window = hub.spec.load_window_h if hub is not None else 0.0
        zone = self.clock.zone_of(self.scenario, spec.route[0])
        for t in departure_times(spec, self.clock.local_week0_h(zone), self.horizon_h):
            t_place = max(0.0, t - window)
            if t_place > self.env.now:
                yield self.env.timeout(t_place - self.env.now)
            if spec.policy == "full" and not self._needs_train(sid, spec, hub):
                continue
            self.env.process(self._run(sid, spec, t, hub))

    def _needs_train(self, sid: str, spec: ServiceSpec, hub: Hub | None) -> bool:
        """Whether more TEU wait for ``sid`` at its origin than its trains not yet
        departed (loading, or waiting for a set) can still take."""
        pending = self._filling.get(sid)
        if not pending:
            return True
        room = sum(spec.capacity_teu - tr.teu for tr in pending)
        queue = hub.queue(sid) if hub is not None else self.siding(spec.route[0], sid)
        return queue.teu > room

    def _run(self, sid: str, spec: ServiceSpec, t_planned: float, hub: Hub | None) -> Generator:
        env = self.env
        train = Train(next(self._tids), sid, spec.capacity_teu, t_planned)
        pending = self._filling.setdefault(sid, [])
        pending.append(train)
        pool = self.pools.get(self.scenario.pool_of(sid))
        if pool is not None:  # the train needs a set standing at its origin
            waiting = pool.take(spec.route[0])
            if waiting is not None:
                yield waiting
        ad: simpy.Event | None = None
        if hub is not None:
            ad = yield from hub.arrive_on_ad_track()
            hold = TrackHold(hub.tracks)
            yield hold.request()
            hold.granted()
            train.t_placed = env.now if ad is None else hub.ad_since(ad)
            late = env.now > t_planned - hub.spec.load_window_h + 1e-9
            shunt = hub.shunt_h()
            if shunt > 0:
                yield env.timeout(shunt)

            def loaded(box: Container, hub: Hub = hub) -> None:
                hub.yard.remove(box, by_train=True)
                if math.isnan(box.t_loaded):
                    box.t_loaded = env.now

            yield from OriginLoading(
                env,
                train,
                spec,
                hub.queue(sid),
                hub.stackers,
                loaded,
                finish_waiting=late,
                track=hold if ad is not None else None,
                cutoff_h=hub.spec.cutoff_h,
            ).run()
            hold.release()
        else:
            train.t_placed = env.now

            def loaded_at_siding(box: Container) -> None:
                if math.isnan(box.t_loaded):
                    box.t_loaded = env.now

            yield from OriginLoading(
                env, train, spec, self.siding(spec.route[0], sid), None, loaded_at_siding
            ).run()
        self._depart(train)
        pending.remove(train)
        if hub is not None and ad is not None:
            hub.leave_ad_track(ad)
        route = spec.route
        yield from self._ride(train, route, functools.partial(self._call, train, spec))
        train.t_arrived = env.now
        if pool is not None:
            self._return_set(pool, sid, route[-1])
        self.arrivals += 1
        if self.record:
            self.rows.append(
                (
                    train.tid,
                    sid,
                    route[0],
                    route[-1],
                    train.t_planned,
                    train.t_placed,
                    train.t_departed,
                    train.t_arrived,
                    train.teu_departed,
                    train.boxes_departed,
                )
            )

    def _ride(
        self,
        train: Train | LightTrain,
        route: list[str],
        call: Callable[[int], Generator],
    ) -> Generator:
        """Run ``train`` along ``route`` line by line, calling ``call(i)`` (a process step)
        at each stop ``i`` after the first."""
        line: Line | None = None
        holding = 0  # direction of the line track the train stands on (0: none)
        for i in range(1, len(route)):
            nxt = self.network.between(route[i - 1], route[i])
            if line is not None and nxt is not line:
                line.leave(route[i - 1], holding)
                holding = 0
            line = nxt
            holding = yield from line.run(train, route[i - 1], route[i], holding)
            yield from call(i)
        if line is not None:
            line.leave(route[-1], holding)

    def light_run(self, paths: dict[tuple[str, str], str], source: str, there: str) -> simpy.Event:
        """Send an empty train set from ``source`` to ``there`` now, on the route of the
        pool's service between them (``paths``); the returned process ends when it stands
        at ``there``."""
        sid = paths[source, there]
        train = LightTrain(next(self._light_tids), sid)
        spec = self.scenario.services[sid]
        return self.env.process(
            self._ride(train, spec.route, functools.partial(self._light_call, spec))
        )

    def _light_call(self, spec: ServiceSpec, i: int) -> Generator:
        """A light run at stop ``i`` of its route: technical handling at a border port,
        then the service's stop (none at the end of the route)."""
        if i == len(spec.route) - 1:
            return
        place = spec.route[i]
        technical = self._light_technical.get(place)
        hours = (technical() if technical is not None else 0.0) + spec.stop_h.get(place, 0.0)
        if hours > 0:
            yield self.env.timeout(hours)

    def _return_set(self, pool: TrainSetPool, sid: str, place: str) -> None:
        """The set of a train that ended its run at ``place`` is free there after its
        servicing."""
        sampler = self._turnaround.get(sid)
        delay = sampler() if sampler is not None else 0.0
        if delay > 0:
            self.env.timeout(delay).callbacks.append(lambda _e: pool.arrive(place))
        else:
            pool.arrive(place)

    def _depart(self, train: Train) -> None:
        now = self.env.now
        train.t_departed = now
        train.teu_departed = train.teu
        train.boxes_departed = len(train.boxes)
        for b in train.boxes:
            if math.isnan(b.t_departed):
                b.t_departed = now
        counts = self.departures.get(train.service)
        if counts is None:
            counts = self.departures[train.service] = [0, 0]
        counts[0] += 1
        counts[1] += train.teu
        self.daily.add(now, f"teu_departed.{train.service}", train.teu)
        self.daily.add(now, "trains_departed", 1)

    def _call(self, train: Train, spec: ServiceSpec, i: int) -> Generator:
        """The train arrives at stop ``i`` of its route."""
        env = self.env
        route = spec.route
        place = route[i]
        last = i == len(route) - 1
        port = self.ports.get(place)
        if port is not None:
            leaving = not last and self.scenario.places[route[i + 1]].country != port.country
            yield from port.clear(train, exit_=leaving)
            port.pick_up(train, route[i + 1 :])
        ending = [b for b in train.boxes if b.current.to == place]
        if ending:
            term = self.terminals.get(place)
            if term is not None:
                hub = term.hub
                ad = yield from hub.arrive_on_ad_track()
                hold = TrackHold(hub.tracks)
                yield hold.request()
                hold.granted()
                shunt = hub.shunt_h()
                if shunt > 0:
                    yield env.timeout(shunt)
                yield from term.unload(train, ending)
                hold.release()
                if ad is not None:
                    hub.leave_ad_track(ad)
            else:
                train.remove(ending)
                for b in ending:
                    b.hop += 1
                    b.t_arrived = b.t_delivered = env.now
                    self.arrived(b)
                    self.delivered(b)
        dwell = spec.stop_h.get(place, 0.0)
        if not last and dwell > 0:
            yield env.timeout(dwell)
