"""Train services: weekly timetables, loading and dispatch at the origin, runs over legs.

Each departure in a service's weekly timetable creates a :class:`Train`.  It is placed on
a loading track ``load_window_h`` before its time, loaded by reach stackers from the queue
of boxes waiting for its service, and dispatched by the service's policy:

``scheduled``
    it leaves at the timetabled time with what is loaded (a train that had to wait for a
    track first loads the boxes that were waiting at its time);
``full``
    it leaves as soon as the next waiting box does not fit;
``hybrid``
    on time if it holds at least ``min_fill_teu``, otherwise it keeps loading until it
    does or ``max_hold_h`` has passed.

It then runs its route leg by leg: at a border port it waits for clearance, at a terminal
where boxes end their rail hop they are unloaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import simpy

from g60rail.model.hub import TRAIN_WORK, ReachStackers, ServiceQueue

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.scenario.schema import ServiceSpec

__all__ = ["OriginLoading", "Train", "departure_times"]


class Train:
    """One run of a service, with the boxes it carries."""

    __slots__ = (
        "boxes",
        "boxes_departed",
        "capacity_teu",
        "service",
        "t_arrived",
        "t_departed",
        "t_placed",
        "t_planned",
        "teu",
        "teu_departed",
        "tid",
    )

    def __init__(self, tid: int, service: str, capacity_teu: int, t_planned: float) -> None:
        self.tid = tid
        self.service = service
        self.capacity_teu = capacity_teu
        self.t_planned = t_planned
        self.t_placed = float("nan")
        self.t_departed = float("nan")
        self.t_arrived = float("nan")
        self.boxes: list[Container] = []
        self.teu = 0
        self.teu_departed = 0
        self.boxes_departed = 0

    def add(self, box: Container) -> None:
        """Put a box on the train."""
        self.boxes.append(box)
        self.teu += box.teu

    def remove(self, boxes: list[Container]) -> None:
        """Take boxes off the train."""
        if not boxes:
            return
        gone = {id(b) for b in boxes}
        self.boxes = [b for b in self.boxes if id(b) not in gone]
        self.teu -= sum(b.teu for b in boxes)


def departure_times(spec: ServiceSpec, start_week_h: float, horizon_h: float) -> list[float]:
    """Simulation times (hours) of every timetabled departure within ``[0, horizon_h)``.

    Parameters
    ----------
    spec
        The service with its weekly timetable.
    start_week_h
        Hours from Monday 00:00 to simulation time 0 (e.g. 33.5 for Tuesday 09:30).
    horizon_h
        Run length, hours.
    """
    weekly = spec.weekly_departures_h
    out = []
    for week in itertools.count():
        base = 168.0 * week - start_week_h
        if base + weekly[0] >= horizon_h:
            break
        out.extend(t for h in weekly if 0.0 <= (t := base + h) < horizon_h)
    return out


class OriginLoading:
    """Loading of one train at its origin under its service's dispatch policy.

    Use :meth:`run` as a SimPy process; it returns when the train may leave, with every
    box it took on board.

    Parameters
    ----------
    env
        The SimPy environment.
    train
        A train standing at its origin (on a track if the origin is a hub).
    spec
        The service: capacity, timetable policy, minimum fill and maximum hold.
    queue
        Boxes waiting for this service at the origin.
    stackers
        The hub's reach stackers, or ``None`` where loading takes no modelled time.
    on_loaded
        Called with each box as it is set on the train.
    finish_waiting
        Under ``scheduled`` and ``hybrid``, load the boxes already waiting at the
        scheduled time before leaving (for a train that had to wait for a track).
    """

    def __init__(
        self,
        env: simpy.Environment,
        train: Train,
        spec: ServiceSpec,
        queue: ServiceQueue,
        stackers: ReachStackers | None,
        on_loaded: Callable[[Container], None],
        finish_waiting: bool = False,
    ) -> None:
        self.env = env
        self.finish_waiting = finish_waiting
        self.train = train
        self.spec = spec
        self.queue = queue
        self.stackers = stackers
        self.on_loaded = on_loaded
        self.reserved_teu = train.teu
        self.limit: int | None = None  # boxes still to take; None = no limit
        self.stop = env.event()
        self.full = env.event()
        self.filled = env.event()
        self._idle: simpy.Event | None = None
        self._moving: list[simpy.Event] = []
        if spec.policy != "hybrid" or spec.min_fill_teu <= train.teu:
            self.filled.succeed()

    @staticmethod
    def _fire(ev: simpy.Event) -> None:
        if not ev.triggered:
            ev.succeed()

    def _idle_event(self) -> simpy.Event:
        if self._idle is None or self._idle.triggered:
            self._idle = self.env.event()
        return self._idle

    def _signal_idle(self) -> None:
        if self._idle is not None:
            self._fire(self._idle)

    def run(self) -> Generator:
        """Load until the policy dispatches the train; wait for moves in progress."""
        loader = self.env.process(self._loader())
        yield self.env.process(self._decide())
        # the loader may start a move in the very instant the decision falls; let it
        # leave its loop, then wait for every move in flight
        yield loader
        if self._moving:
            yield self.env.all_of(self._moving)

    def _take(self, box: Container) -> None:
        self.train.add(box)
        self.on_loaded(box)

    def _move(self, box: Container) -> simpy.Event:
        """Start a move with a granted stacker; the box is on the train when the returned
        event fires."""
        done = self.env.timeout(self.stackers.move_h())

        def finish(_: simpy.Event) -> None:
            self.stackers.pool.release()
            self._take(box)

        done.callbacks.append(finish)
        return done

    def _loader(self) -> Generator:
        queue, cap = self.queue, self.train.capacity_teu
        while not self.stop.triggered:
            if self.limit == 0:
                self._signal_idle()
                yield self.stop
                return
            if not queue.boxes:
                self._signal_idle()
                yield queue.arrival() | self.stop
                continue
            box = queue.boxes[0]
            if self.reserved_teu + box.teu > cap:
                self._fire(self.full)
                yield self.stop
                return
            queue.pop()
            if self.limit is not None:
                self.limit -= 1
            self.reserved_teu += box.teu
            if self.reserved_teu >= self.spec.min_fill_teu:
                self._fire(self.filled)
            if self.reserved_teu >= cap:
                self._fire(self.full)
            if self.stackers is None:
                self._take(box)
                continue
            grant = self.stackers.pool.acquire(TRAIN_WORK)
            if grant is not None:
                res = yield grant | self.stop
                if grant not in res:
                    # dispatched while waiting for a stacker: the box stays in the yard
                    self.stackers.pool.cancel(grant)
                    queue.push_front(box)
                    self.reserved_teu -= box.teu
                    return
            self._moving.append(self._move(box))

    def _decide(self) -> Generator:
        env, spec, train = self.env, self.spec, self.train
        if spec.policy == "full":
            yield self.full
        else:
            if train.t_planned > env.now:
                yield env.timeout(train.t_planned - env.now)
            if not self.filled.triggered:
                yield self.filled | self.full | env.timeout(spec.max_hold_h)
            elif self.finish_waiting and not self.full.triggered and self.queue.boxes:
                # placed late: finish the boxes already waiting, then go
                self.limit = len(self.queue.boxes)
                yield self._idle_event() | self.full
        self._fire(self.stop)
