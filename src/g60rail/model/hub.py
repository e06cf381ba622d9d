"""A rail container hub: truck gate, yard, reach stackers and loading tracks.

The Songjiang International Multimodal Logistics Hub is one; the Kunming and Vientiane
terminals are built from the same parts with their own capacities.

Rules
-----
* The yard's capacity limits what trucks may bring in: a truck waits in its gate lane
  until its boxes fit, so a full yard builds a queue at the gate.  Boxes unloaded from
  trains are always accepted (the terminal never refuses a train), so the yard can run
  over capacity only through rail arrivals, and nothing is ever dropped.
* Reach stackers serve train work before truck work (priority), each move taking
  ``1 / moves_per_h`` hours on average.  One stacker unloads a whole truck.
* A train holds a loading track from placement until it leaves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import simpy

from g60rail.model.probes import LevelProbe, Tally
from g60rail.model.servers import Servers
from g60rail.random import Constant, Gamma, Sampler, Streams

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.scenario.schema import HubSpec

__all__ = ["Gate", "Hub", "LoadingTracks", "ReachStackers", "ServiceQueue", "Yard"]

TRAIN_WORK = 0
TRUCK_WORK = 1


class Yard:
    """Container stacks with a TEU capacity for truck admissions.

    Parameters
    ----------
    env
        The SimPy environment.
    capacity_teu
        Space for trucks to drop boxes, TEU.
    horizon_h
        Run length for the occupancy probe, hours.
    warmup_h
        Dwell is recorded for boxes created at or after this time, hours.
    """

    def __init__(
        self, env: simpy.Environment, capacity_teu: int, horizon_h: float, warmup_h: float = 0.0
    ) -> None:
        self.env = env
        self.capacity_teu = capacity_teu
        self.warmup_h = warmup_h
        self.level_teu = 0
        self._waiting: deque[tuple[int, simpy.Event]] = deque()
        self.occupancy = LevelProbe(horizon_h)
        self.dwell_to_train_h = Tally()
        self.dwell_to_road_h = Tally()

    @property
    def dwell_h(self) -> Tally:
        """Dwell of every box that left the yard, hours (by train and by road)."""
        return self.dwell_to_train_h.merged(self.dwell_to_road_h)

    def admit(self, teu: int) -> simpy.Event | None:
        """Reserve space for ``teu``: ``None`` if it fits now, else an event that fires
        (in arrival order) once it does."""
        if not self._waiting and self.level_teu + teu <= self.capacity_teu:
            self._enter(teu)
            return None
        ev = self.env.event()
        self._waiting.append((teu, ev))
        return ev

    def add(self, teu: int) -> None:
        """Put boxes from a train in the yard, regardless of capacity."""
        self._enter(teu)

    def remove(self, box: Container, by_train: bool) -> None:
        """Take a box out of the yard and record its dwell.

        Parameters
        ----------
        box
            The box leaving.
        by_train
            True when it leaves on a train, False by road (consignee or onward truck).
        """
        self.level_teu -= box.teu
        self.occupancy.set(self.env.now, self.level_teu)
        if box.t_created >= self.warmup_h:
            (self.dwell_to_train_h if by_train else self.dwell_to_road_h).add(
                self.env.now - box.t_yard_in
            )
        while self._waiting and self.level_teu + self._waiting[0][0] <= self.capacity_teu:
            teu, ev = self._waiting.popleft()
            self._enter(teu)
            ev.succeed()

    def _enter(self, teu: int) -> None:
        self.level_teu += teu
        self.occupancy.set(self.env.now, self.level_teu)


class ReachStackers:
    """A pool of reach stackers that move boxes between trains, trucks and stacks."""

    def __init__(
        self, env: simpy.Environment, count: int, moves_per_h: float, cv: float, sampler: Sampler
    ) -> None:
        self.env = env
        self.count = count
        self.pool = Servers(env, count)
        self._move_h = sampler
        self.busy_h = 0.0
        self.moves = 0

    @staticmethod
    def move_distribution(moves_per_h: float, cv: float) -> Constant | Gamma:
        """Duration of one move: constant ``1/moves_per_h`` or gamma with that mean."""
        mean = 1.0 / moves_per_h
        return Constant(value=mean) if cv == 0 else Gamma(dist="gamma", mean=mean, cv=cv)

    def move_h(self) -> float:
        """Draw the duration of one move and count it as work, hours."""
        d = self._move_h()
        self.busy_h += d
        self.moves += 1
        return d

    def move(self, priority: int) -> Generator:
        """Wait for a stacker and perform one move."""
        grant = self.pool.acquire(priority)
        if grant is not None:
            yield grant
        yield self.env.timeout(self.move_h())
        self.pool.release()


class Gate:
    """Truck gate lanes with a processing time per truck."""

    def __init__(self, env: simpy.Environment, lanes: int, sampler: Sampler, horizon_h: float):
        self.env = env
        self.lanes = Servers(env, lanes)
        self.process_h = sampler
        self.queue = LevelProbe(horizon_h)
        self.wait_h = Tally()
        self.busy_h = 0.0

    def serve(self, admit: Callable[[], simpy.Event | None] | None = None) -> Generator:
        """Pass one truck: wait for a lane and, holding it, for ``admit`` (yard space);
        then the processing time.

        The gate queue level counts trucks from arrival until their processing starts; a
        truck served at once never shows in it.
        """
        env = self.env
        t0 = env.now
        lane = self.lanes.acquire()
        wait = admit() if admit is not None and lane is None else None
        if lane is not None or wait is not None:
            self.queue.add(t0, 1)
            if lane is not None:
                yield lane
                wait = admit() if admit is not None else None
            if wait is not None:
                yield wait
            self.queue.add(env.now, -1)
        self.wait_h.add(env.now - t0)
        d = self.process_h()
        self.busy_h += d
        yield env.timeout(d)
        self.lanes.release()


class LoadingTracks:
    """Tracks where trains are loaded and unloaded; one train per track."""

    def __init__(self, env: simpy.Environment, count: int, horizon_h: float) -> None:
        self.env = env
        self.count = count
        self.tracks = simpy.Resource(env, capacity=count)
        self.busy_h = 0.0
        self.wait_h = Tally()


class ServiceQueue:
    """Boxes in a hub's yard waiting for trains of one service, first come first served."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.boxes: deque[Container] = deque()
        self.teu = 0
        self._signal: simpy.Event | None = None

    def push(self, box: Container) -> None:
        """A box becomes ready for loading."""
        self.boxes.append(box)
        self.teu += box.teu
        if self._signal is not None:
            sig, self._signal = self._signal, None
            sig.succeed()

    def push_front(self, box: Container) -> None:
        """Return a box taken but not loaded to the head of the queue."""
        self.boxes.appendleft(box)
        self.teu += box.teu

    def pop(self) -> Container:
        """Take the box at the head."""
        box = self.boxes.popleft()
        self.teu -= box.teu
        return box

    def arrival(self) -> simpy.Event:
        """An event that fires at the next push."""
        if self._signal is None:
            self._signal = self.env.event()
        return self._signal


class Hub:
    """Gate, yard, reach stackers and loading tracks of one terminal.

    Parameters
    ----------
    env
        The SimPy environment.
    spec
        Capacities and service times.
    streams
        The run's random streams; this hub draws from ``hub.<place>.gate``,
        ``hub.<place>.stackers`` and ``hub.<place>.shunt``.
    horizon_h
        Run length, hours.
    warmup_h
        Yard dwell counts boxes created at or after this time, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: HubSpec,
        streams: Streams,
        horizon_h: float,
        warmup_h: float = 0.0,
    ):
        self.env = env
        self.spec = spec
        self.place = spec.place
        prefix = f"hub.{spec.place}"
        self.gate = Gate(
            env, spec.gate_lanes, streams.sampler(f"{prefix}.gate", spec.gate_time_h), horizon_h
        )
        self.yard = Yard(env, spec.yard_teu, horizon_h, warmup_h)
        self.stackers = ReachStackers(
            env,
            spec.reach_stackers,
            spec.moves_per_h,
            spec.move_time_cv,
            streams.sampler(
                f"{prefix}.stackers",
                ReachStackers.move_distribution(spec.moves_per_h, spec.move_time_cv),
            ),
        )
        self.tracks = LoadingTracks(env, spec.loading_tracks, horizon_h)
        self.shunt_h = streams.sampler(f"{prefix}.shunt", spec.shunt_h)
        self.queues: dict[str, ServiceQueue] = {}

    def queue(self, service: str) -> ServiceQueue:
        """The queue of boxes waiting here for ``service``."""
        q = self.queues.get(service)
        if q is None:
            q = self.queues[service] = ServiceQueue(self.env)
        return q

    def truck_in(self, boxes: list[Container]) -> Generator:
        """A truck delivers ``boxes``: gate lane, yard space, processing, unloading.

        Each box is in the yard (``t_gate_in``, ``t_yard_in`` set) when this returns.
        """
        env = self.env
        teu = sum(b.teu for b in boxes)
        for b in boxes:
            b.t_gate_arrive = env.now
        yield from self.gate.serve(lambda: self.yard.admit(teu))
        # one reach stacker lifts the truck's boxes off, one after the other
        grant = self.stackers.pool.acquire(TRUCK_WORK)
        if grant is not None:
            yield grant
        for b in boxes:
            yield env.timeout(self.stackers.move_h())
            b.t_gate_in = env.now
            b.t_yard_in = env.now
        self.stackers.pool.release()

    def truck_out(self, box: Container) -> Generator:
        """A consignee's truck collects ``box``: gate lane, processing, one stacker move."""
        yield from self.gate.serve()
        yield from self.stackers.move(TRUCK_WORK)
        self.yard.remove(box, by_train=False)
