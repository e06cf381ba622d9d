"""The corridor assembled from a scenario: hubs, terminals, border ports, lines, services,
demand and the road, wired together as SimPy processes.

:class:`World` owns the bookkeeping every part reports to (containers in the system,
TEU created and delivered, train and container records); it computes no statistics
itself (see :mod:`g60rail.model.report`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import cast

import simpy

from g60rail.geo import drayage_km
from g60rail.model.border import BorderPort
from g60rail.model.cargo import GATE_TIMES, MILESTONES, Container
from g60rail.model.demand import Booking, DemandGenerator
from g60rail.model.disruptions import EquipmentFailures, closure_windows
from g60rail.model.empties import EMPTY, EmptyReturns
from g60rail.model.engine import Wake
from g60rail.model.hub import Hub
from g60rail.model.network import RailNetwork
from g60rail.model.probes import DailyCounter, Tally
from g60rail.model.road import Road
from g60rail.model.service_queue import ServiceQueue
from g60rail.model.terminal import OnwardLeg, Terminal
from g60rail.model.trains import TrainRuns, departure_times
from g60rail.random import Exponential, Sampler, Streams
from g60rail.scenario.clock import Clock
from g60rail.scenario.schema import Scenario

__all__ = ["CONTAINER_COLUMNS", "World"]

CONTAINER_COLUMNS = (
    "cid",
    "teu",
    "mode",
    "service",
    "origin",
    "first_terminal",
    "destination",
    "held",
    "commodity",
    "tonnes",
    *MILESTONES,
    *GATE_TIMES,
)
BOOKING_HORIZON_H = 60 * 24.0
"""Bookings are generated for departures up to this long after the end of the run, so
that trucks leaving before the end for a later train are simulated."""

_POOLS = {"reach_stackers": ("stackers", "pool"), "gate_lanes": ("gate", "lanes")}
_ARRIVED_KEY = {m: f"teu_arrived.{m}" for m in ("rail", "road")}
"""Daily counter key of the TEU arriving by each mode."""
"""Where each kind of breakdown equipment sits in a :class:`Hub`: (part, servers)."""


class World:
    """Every part of the corridor for one run.

    Parameters
    ----------
    env
        The SimPy environment (time in hours from ``scenario.meta.start``).
    scenario
        What to build.
    streams
        The run's named random streams.
    horizon_h
        Run length, hours.
    record_containers
        Keep one record per container for the containers table (memory grows with the
        number of containers); statistics are kept either way.
    record_trains
        Keep the records of the per-train tables: one per train (trains), per train and
        border port (border), per train and line section passed (sections).
    warmup_h
        Warm-up, hours: the time statistics (transit, door-to-door, road trips, yard
        dwell, border clearance, truck turnaround) count only boxes created, and trains
        reaching a port, at or after it; waits (gates, tracks, line sections, train sets)
        count those that began after it, and utilisations the busy time after it; the
        yard's occupancy and the train sets' use cover the days from
        ``floor(warmup_h / 24)`` on.  Counts and the tables cover the whole run.
    """

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        horizon_h: float,
        record_containers: bool = True,
        warmup_h: float = 0.0,
        record_trains: bool = True,
    ) -> None:
        self.env = env
        self.warmup_h = warmup_h
        self.scenario = scenario
        self.streams = streams
        self.horizon_h = horizon_h
        self.record_containers = record_containers
        start = scenario.meta.start
        self.clock = clock = Clock.of(scenario)

        self.hubs: dict[str, Hub] = {
            spec.place: Hub(
                env,
                spec,
                streams,
                horizon_h,
                warmup_h,
                clock.local_day0_h(clock.zone_of(scenario, spec.place)),
            )
            for spec in (scenario.hub, *scenario.terminals.values())
        }
        onward: dict[str, dict[str, OnwardLeg]] = {}
        self.onward_legs: list[OnwardLeg] = []
        for i, o in enumerate(scenario.onward):
            sampler = streams.sampler(f"onward.{o.from_}-{o.to}", o.transfer_h)
            leg = onward.setdefault(o.from_, {})[str(i)] = OnwardLeg(env, o, sampler)
            leg.warmup_h = warmup_h
            self.onward_legs.append(leg)
        self.terminals: dict[str, Terminal] = {
            place: Terminal(env, hub, onward.get(place, {}), self._arrived, self._delivered)
            for place, hub in self.hubs.items()
        }
        self.sidings: dict[tuple[str, str], ServiceQueue] = {}
        closures = scenario.disruptions.closures
        self.ports: dict[str, BorderPort] = {
            b.place: BorderPort(
                env,
                b,
                scenario.places[b.place].country,
                streams,
                clock.local_day0_h(clock.zone_of(scenario, b.place)),
                closed=closure_windows(closures, "border", [b.place], start),
                customs_down=closure_windows(closures, "customs", [b.place], start),
                warmup_h=warmup_h,
                planner=scenario.itinerary_from,
                commodities=scenario.commodities,
                record=record_trains,
            )
            for b in scenario.borders.values()
        }
        self.network = RailNetwork(
            env, scenario, streams, clock, horizon_h, record_trains, warmup_h=warmup_h
        )
        self.road = Road(
            env,
            scenario,
            streams.sampler("road.border", scenario.road.border_h),
            self.drayage_h,
            self._arrived,
            self._delivered,
            warmup_h,
        )

        self.failures = [
            EquipmentFailures(
                env,
                bd,
                getattr(
                    getattr(self.hubs[bd.place], _POOLS[bd.equipment][0]), _POOLS[bd.equipment][1]
                ),
                streams.sampler(
                    f"breakdown.{bd.place}.{bd.equipment}.up",
                    Exponential(dist="exponential", mean=bd.mtbf_h),
                ),
                streams.sampler(f"breakdown.{bd.place}.{bd.equipment}.repair", bd.repair_h),
            )
            for bd in scenario.disruptions.breakdowns
        ]

        # bookkeeping
        self.live: dict[int, Container] = {}
        self.teu_created = 0
        self.teu_delivered = 0
        self.tonnes_created = 0.0
        self.tonnes_delivered = 0.0
        self.daily = DailyCounter(horizon_h)
        self.container_rows: list[tuple] = []
        self.deliveries: dict[tuple[str, str, str, str, str, bool], list[float]] = {}
        """Delivered boxes by (mode, service, origin, first terminal, destination, empty):
        [TEU, tonnes, 20-foot boxes, 40-foot boxes] (what the footprint reads)."""
        self.transit_h: dict[tuple[str, str, str], Tally] = {}
        self.door_h: dict[tuple[str, str, str], Tally] = {}
        self._cids = itertools.count()
        self._drayage: dict[tuple[str, str], float] = {}
        self.empties = EmptyReturns(
            env, scenario, streams, self.book, self._cids.__next__, horizon_h
        )

        self.demands = [
            DemandGenerator(
                env,
                sid,
                spec.demand,
                scenario,
                streams.rng(f"demand.{sid}"),
                streams.rng(f"cargo.{sid}"),
                self._dwell_sampler(sid),
                self.book,
                self._cids.__next__,
                horizon_h,
                departure_times(
                    spec,
                    clock.local_week0_h(clock.zone_of(scenario, spec.route[0])),
                    horizon_h + BOOKING_HORIZON_H,
                ),
                streams.rng(f"demand.{sid}.lead"),
                travel_h=self._gate_travel(spec.route[0]),
            )
            for sid, spec in scenario.services.items()
            if spec.demand is not None
        ]
        self.trains = TrainRuns(
            env,
            scenario,
            self.hubs,
            self.terminals,
            self.ports,
            self.network,
            self.siding,
            self.daily,
            self._arrived,
            self._delivered,
            clock,
            horizon_h,
            streams,
            record=record_trains,
            warmup_h=warmup_h,
        )

    # -- building helpers ---------------------------------------------------------------
    def _dwell_sampler(self, service: str) -> Callable[[str], float]:
        """Consignee dwell at a destination terminal for boxes of ``service`` (0 elsewhere)."""
        samplers: dict[str, Sampler] = {}
        for place, hub in self.hubs.items():
            samplers[place] = self.streams.sampler(f"dwell.{service}.{place}", hub.spec.dwell_h)

        def draw(destination: str) -> float:
            s = samplers.get(destination)
            return s() if s is not None else 0.0

        return draw

    def _gate_travel(self, first: str) -> Callable[[str], float]:
        """Trucking time from an origin city to the gate of the terminal at ``first``,
        hours (0 where ``first`` has no terminal)."""
        if first not in self.hubs:
            return lambda origin: 0.0
        return lambda origin: self.drayage_h(origin, first)

    def drayage_h(self, origin: str, place: str) -> float:
        """Trucking time from a city to a place, hours."""
        h = self._drayage.get((origin, place))
        if h is None:
            d = self.scenario.drayage
            places = self.scenario.places
            km = (
                drayage_km(places[origin], places[place], d.detour_factor)
                if origin != place
                else 0.0
            )
            h = self._drayage[origin, place] = km / d.speed_kmh
        return h

    def siding(self, place: str, service: str) -> ServiceQueue:
        """Boxes waiting for ``service`` at a place without a terminal."""
        q = self.sidings.get((place, service))
        if q is None:
            q = self.sidings[place, service] = ServiceQueue(self.env)
        return q

    # -- running ------------------------------------------------------------------------
    def start(self) -> None:
        """Register every process with the environment."""
        for f in self.failures:
            f.start()
        for d in self.demands:
            self.env.process(d.run())
        self.trains.start()
        self.network.start()

    def run(self) -> None:
        """Start the processes and run to the horizon; close the time-weighted probes."""
        self.start()
        self.env.run(until=self.horizon_h)
        for hub in self.hubs.values():
            hub.yard.occupancy.finish(self.horizon_h)
            hub.gate.queue.finish(self.horizon_h)
        for pool in self.trains.pools.values():
            pool.finish(self.horizon_h)

    # -- containers ---------------------------------------------------------------------
    def book(self, booking: Booking) -> None:
        """Enter a truck's booking: road trip, truck to the hub, or a siding queue.

        The truck leaves its origin at its boxes' ``t_created``, now or later in the run
        (demand generators book a day's trucks at the start of the day); tests and
        trace-driven studies may call this too.
        """
        origin, boxes, by_road = booking
        env = self.env
        t = boxes[0].t_created
        delay = t - env.now
        live = self.live
        teu = 0
        tonnes = self.tonnes_created
        for b in boxes:
            live[b.cid] = b
            teu += b.teu
            tonnes += b.tonnes
        self.tonnes_created = tonnes
        self.teu_created += teu
        self.daily.add(t, "teu_created", teu)
        if by_road:
            env.process(self.road.trip(origin, boxes, delay))
            return
        first = boxes[0].itinerary[0]
        hub = self.hubs.get(first.from_)
        if hub is not None:  # the truck drives to the hub's gate
            d = delay + self.drayage_h(origin, hub.place)
            if d > 0:
                Wake(env, d, hub.truck_arrives, boxes)
            else:
                hub.truck_in(boxes)
            return
        q = self.siding(first.from_, first.ref)
        if delay > 0:
            Wake(env, delay, self._at_siding, (q, boxes))
        else:
            self._put_at_siding(q, boxes)

    def _at_siding(self, wake: Wake) -> None:
        q, boxes = cast("tuple[ServiceQueue, list[Container]]", wake.value)
        self._put_at_siding(q, boxes)

    @staticmethod
    def _put_at_siding(q: ServiceQueue, boxes: list[Container]) -> None:
        """A truck puts its boxes down at a siding: they wait there for their train."""
        for b in boxes:
            b.t_gate_arrive = b.t_gate_in = b.t_created
            q.push(b)

    def _arrived(self, box: Container) -> None:
        mode = box.mode
        counter = _ARRIVED_KEY.get(mode) or f"teu_arrived.{mode}"
        self.daily.add(self.env.now, counter, box.teu)
        if box.t_created < self.warmup_h:
            return
        key = (mode, box.itinerary[0].from_, box.destination)
        if mode == "rail":
            tally = self.transit_h.get(key)
            if tally is None:
                tally = self.transit_h[key] = Tally()
            tally.add(box.t_arrived - box.t_departed)
        tally = self.door_h.get(key)
        if tally is None:
            tally = self.door_h[key] = Tally()
        tally.add(box.t_arrived - box.t_created)

    def _delivered(self, box: Container) -> None:
        del self.live[box.cid]
        if self.empties.services and box.mode == "rail" and box.commodity != EMPTY:
            self.empties.delivered(box)
        self.teu_delivered += box.teu
        self.tonnes_delivered += box.tonnes
        self.daily.add(self.env.now, "teu_delivered", box.teu)
        key = (
            box.mode,
            box.service,
            box.origin,
            box.itinerary[0].from_,
            box.destination,
            box.commodity == EMPTY,
        )
        group = self.deliveries.get(key)
        if group is None:
            group = self.deliveries[key] = [0.0, 0.0, 0.0, 0.0]
        group[0] += box.teu
        group[1] += box.tonnes
        group[2 if box.teu == 1 else 3] += 1.0
        if self.record_containers:
            self.container_rows.append(self.container_row(box))

    @staticmethod
    def container_row(box: Container) -> tuple:
        """A container's record, in the order of :data:`CONTAINER_COLUMNS`."""
        return (
            box.cid,
            box.teu,
            box.mode,
            box.service,
            box.origin,
            box.itinerary[0].from_,
            box.destination,
            box.held,
            box.commodity,
            box.tonnes,
            *(getattr(box, m) for m in MILESTONES),
            *(getattr(box, m) for m in GATE_TIMES),
        )

    # -- end of run ---------------------------------------------------------------------
    def teu_in_system(self) -> int:
        """TEU created but not yet delivered."""
        return sum(b.teu for b in self.live.values())

    def tonnes_in_system(self) -> float:
        """Gross tonnes created but not yet delivered."""
        return sum(b.tonnes for b in self.live.values())
