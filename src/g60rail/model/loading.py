"""Loading a train at its origin under its service's dispatch policy.

``scheduled``
    it leaves at the timetabled time with what is loaded (a train that had to wait for a
    track first loads the boxes that were waiting at its time);
``full``
    it leaves as soon as the next waiting box does not fit;
``hybrid``
    on time if it holds at least ``min_fill_teu``, otherwise it keeps loading until it
    does or ``max_hold_h`` has passed.

Reach stackers move boxes from the yard onto the train; train work comes before truck
work.  A train that waits for boxes on an arrival/departure track gives its loading track
back and takes one again when a box comes.  Boxes whose truck passed the in-gate after
the departure's cut-off wait for the next train.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, cast

import simpy
from simpy.events import Timeout

from g60rail.model.hub import ReachStackers, TrackHold
from g60rail.model.rolling_stock import Train
from g60rail.model.service_queue import ServiceQueue
from g60rail.model.waits import first_of

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.scenario.schema import ServiceSpec

__all__ = ["OriginLoading"]


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
    track
        The train's hold on a loading track, where the origin has arrival/departure
        tracks apart: once the timetabled time has passed and the train still waits for
        its fill (``hybrid``, ``full``), it leaves the loading track whenever no box is
        waiting for it (and no move is in flight) and takes one again when a box comes;
        it waits on its arrival/departure track meanwhile.
    cutoff_h
        The departure's cut-off, hours before its timetabled time: a box whose truck
        passed the in-gate later (``t_gate_pass``) is not taken; it waits in the yard for
        the next train of the service and is counted
        (:attr:`~g60rail.model.service_queue.ServiceQueue.missed_cutoff_teu`).  A train
        still loading after its time (held for its fill) takes such a box ``cutoff_h``
        after its in-gate.  Boxes without an in-gate (off a train, at a siding) are always
        taken.  0: none.
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
        track: TrackHold | None = None,
        cutoff_h: float = 0.0,
    ) -> None:
        self.env = env
        self.cutoff_h = cutoff_h
        self.finish_waiting = finish_waiting
        self.track = track
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
        self._due: simpy.Event | None = None
        if track is not None and spec.policy in ("hybrid", "full"):
            self._due = env.timeout(max(0.0, train.t_planned - env.now))
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
        if self.cutoff_h > 0:
            self.queue.count_missed(self._latest_pass_h())

    # -- the cut-off ----------------------------------------------------------------------
    def _latest_pass_h(self) -> float:
        """The latest in-gate pass of a box this train may take now, hours (with a
        nanosecond-scale tolerance, so that a box woken for at its pass plus the cut-off
        is taken whatever the rounding)."""
        now, planned = self.env.now, self.train.t_planned
        return (now if now > planned else planned) - self.cutoff_h + 1e-9

    def _next_box(self) -> Container | None:
        """The first box waiting in the queue that this train may take now, or ``None``."""
        if self.cutoff_h <= 0:
            boxes = self.queue.boxes
            return boxes[0] if boxes else None
        return self.queue.first_ready(self._latest_pass_h())

    def _ready_count(self) -> int:
        """Boxes waiting that this train may take now."""
        if self.cutoff_h <= 0:
            return len(self.queue.boxes)
        return self.queue.ready_count(self._latest_pass_h())

    def _stop_or_ready(self) -> simpy.Event:
        """The train's stop, or the moment a box that was too late becomes one it may
        take (a train held past its time), whichever comes first."""
        if self.cutoff_h <= 0:
            return self.stop
        first = self.queue.first_late_pass_h(self._latest_pass_h())
        if math.isinf(first):
            return self.stop
        return first_of(self.stop, self.env.timeout(max(0.0, first + self.cutoff_h - self.env.now)))

    def _take(self, box: Container) -> None:
        self.train.add(box)
        self.on_loaded(box)

    def _move(self, box: Container, stackers: ReachStackers) -> simpy.Event:
        """Start a move with a granted stacker; the box is on the train when the returned
        event fires."""
        done = Timeout(self.env, stackers.move_h(), box)
        done.callbacks.append(self._moved)
        return done

    def _moved(self, ev: simpy.Event) -> None:
        """A move is done: the stacker is free, the box (``ev``'s value) on the train."""
        assert self.stackers is not None  # moves are made by stackers
        self.stackers.pool.release()
        self._take(cast("Container", ev.value))

    def _loader(self) -> Generator[simpy.Event, Any, None]:
        queue, cap, stackers = self.queue, self.train.capacity_teu, self.stackers
        min_fill = self.spec.min_fill_teu
        while not self.stop.triggered:
            if self.limit == 0:
                self._signal_idle()
                yield self.stop
                return
            box = self._next_box()
            if box is None:
                self._signal_idle()
                if self._parkable():
                    if self._moving:
                        yield self.env.all_of(self._moving)
                        self._moving.clear()
                    if self._next_box() is None and self.track is not None:
                        self.track.release()  # wait on the arrival/departure track
                    continue
                due = self._due
                if due is not None and not due.processed:  # a timeout is triggered at once
                    # wake at the timetabled time too: the train may leave its track then
                    yield first_of(first_of(queue.arrival(), self._stop_or_ready()), due)
                else:
                    yield first_of(queue.arrival(), self._stop_or_ready())
                continue
            track = self.track
            if track is not None and not track.held:
                # a box came for a train waiting off the loading track: back to work
                req = track.request()
                yield first_of(req, self.stop)
                if not req.processed:
                    track.cancel()  # dispatched from the arrival/departure track
                    return
                track.granted()
                continue  # another train of the service may have taken the box meanwhile
            if self.reserved_teu + box.teu > cap:
                self._fire(self.full)
                yield self.stop
                return
            queue.take(box)
            if self.limit is not None:
                self.limit -= 1
            reserved = self.reserved_teu = self.reserved_teu + box.teu
            if reserved >= min_fill:
                self._fire(self.filled)
            if reserved >= cap:
                self._fire(self.full)
            if stackers is None:
                self._take(box)
                continue
            grant = stackers.pool.acquire(stackers.train_work)
            if grant is not None:
                yield first_of(grant, self.stop)
                if not grant.processed:
                    # dispatched while waiting for a stacker: the box stays in the yard
                    stackers.pool.cancel(grant)
                    queue.push_front(box)
                    self.reserved_teu -= box.teu
                    return
            self._moving.append(self._move(box, stackers))

    def _parkable(self) -> bool:
        """Past its time and still waiting for its fill, on a loading track it could
        leave."""
        track = self.track
        return (
            track is not None
            and track.held
            and self.spec.policy in ("hybrid", "full")
            and self.env.now >= self.train.t_planned
        )

    def _decide(self) -> Generator:
        env, spec, train = self.env, self.spec, self.train
        if spec.policy == "full":
            yield self.full
        else:
            if train.t_planned > env.now:
                yield env.timeout(train.t_planned - env.now)
            if not self.filled.triggered:
                yield first_of(first_of(self.filled, self.full), env.timeout(spec.max_hold_h))
            elif self.finish_waiting and not self.full.triggered and self._ready_count():
                # placed late: finish the boxes already waiting, then go
                self.limit = self._ready_count()
                yield first_of(self._idle_event(), self.full)
        self._fire(self.stop)
