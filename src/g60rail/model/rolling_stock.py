"""Rolling stock: a train on its run, with the boxes it carries, and the pools of train
sets that services run."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import simpy

from g60rail.model.probes import LevelProbe, Tally

if TYPE_CHECKING:
    from g60rail.model.cargo import Container

__all__ = ["LIGHT_TID0", "LightRun", "LightTrain", "Train", "TrainSetPool"]

LIGHT_TID0 = 1_000_000
"""The first light run's ``tid``: light runs are numbered on their own from here (loaded
trains from 0, passenger trains from -1 down), so that they do not shift the ids of the
loaded trains."""

LightRun = Callable[[str, str], simpy.Event]
"""``(from, to) -> event``: send an empty train set now from one end of its pool's route
to the other; the event fires when it stands there."""


class Train:
    """One run of a freight service, with the boxes it carries.

    On a line it is a freight train (:class:`~g60rail.model.line.LineTrain`): it waits
    behind passenger trains and runs at its section's freight running time.
    """

    kind = "freight"
    priority = 1
    speed_kmh = None

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


class LightTrain:
    """A train set running empty to where a train of its pool waits for one.

    On a line it runs like a freight train (the section's freight running time, behind
    passenger trains) and carries no boxes.
    """

    __slots__ = ("service", "tid")
    kind = "light"
    priority = 1
    speed_kmh = None
    teu = 0

    def __init__(self, tid: int, service: str) -> None:
        self.tid = tid
        self.service = service
        """The service whose route it runs."""


class TrainSetPool:
    """The train sets of one pool (a service and its return), by where they stand.

    A departure takes a set standing at its origin, waiting first come first served when
    none is there; at the end of its run the set stands at the last stop again after its
    servicing time.  So a late inbound train delays the outbound one.

    When trains wait for a set at one end while sets stand idle at another (the loads
    are not balanced: more trains leave one end than come back to it), an idle set is
    sent back empty (a light run), keeping one set in reserve where it stands.  The light
    run is ``run_light``: on the rail network it is a train that takes line sections and
    station tracks like any other (:meth:`g60rail.model.trains.TrainRuns.light_run`), sent
    between the ends of a service of the pool (``paths``).

    Parameters
    ----------
    env
        The SimPy environment.
    pool
        Pool id.
    at
        Sets standing at each place at time 0.
    run_light
        Sends a light run now from one place to another.
    paths
        ``(origin, destination)`` of the pool's services: where ``run_light`` can send a
        set.
    horizon_h
        Length of the run, hours: :attr:`away` is recorded up to it.
    warmup_h
        :attr:`wait_h` counts departures asking for a set at or after this time, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        pool: str,
        at: dict[str, int],
        run_light: LightRun,
        paths: Collection[tuple[str, str]],
        horizon_h: float,
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.pool = pool
        self._run_light = run_light
        self._paths = frozenset(paths)
        self.free = dict(at)
        self.size = sum(at.values())
        self._waiting: dict[str, deque[simpy.Event]] = {}
        self._coming: dict[str, int] = {}
        self.wait_h = Tally(warmup_h)
        """Wait of each departure for a set, hours (those asking after the warm-up); one
        still waiting at the end counts its wait up to then (:meth:`finish`)."""
        self._asked: dict[simpy.Event, float] = {}
        """Departures waiting for a set: when they asked, hours."""
        self.light_runs = 0
        """Sets sent back empty."""
        self.away = LevelProbe(horizon_h)
        """Sets not standing free: from the placement of the train that took one until it
        is free again at the end of its run, light runs included."""

    @staticmethod
    def spread(sets: int, departures: dict[str, int]) -> dict[str, int]:
        """Sets at each origin at time 0, in proportion to its weekly departures (largest
        remainder; every origin with departures gets at least one while sets last)."""
        total = sum(departures.values())
        places = sorted(departures, key=lambda p: -departures[p])
        share = {p: sets * departures[p] / total for p in places}
        at = {p: int(share[p]) for p in places}
        for p in sorted(places, key=lambda p: at[p] - share[p]):
            if sum(at.values()) >= sets:
                break
            at[p] += 1
        for p in places:  # at least one set where trains start, taken from the largest
            if at[p] == 0 and max(at.values()) > 1:
                big = max(at, key=lambda q: at[q])
                at[big] -= 1
                at[p] = 1
        return at

    def take(self, place: str) -> simpy.Event | None:
        """A set at ``place``: ``None`` if one stands there now, else an event."""
        if self.free.get(place, 0) > 0 and not self._waiting.get(place):
            self.free[place] -= 1
            self._record_away()
            self.wait_h.add_wait(self.env.now, self.env.now)
            return None
        ev = self.env.event()
        self._asked[ev] = self.env.now
        ev.callbacks.append(self._got)
        self._waiting.setdefault(place, deque()).append(ev)
        self._send_light()
        return ev

    def arrive(self, place: str) -> None:
        """A set becomes free at ``place`` (after its servicing)."""
        waiting = self._waiting.get(place)
        if waiting:
            waiting.popleft().succeed()
        else:
            self.free[place] = self.free.get(place, 0) + 1
            self._record_away()
            self._send_light()

    def _send_light(self) -> None:
        """Send idle sets empty to where trains wait for one, beyond those on their way."""
        for there, waiting in self._waiting.items():
            short = len(waiting) - self._coming.get(there, 0)
            while short > 0:
                source = self._idle_source(there)
                if source is None:
                    break
                self.free[source] -= 1
                self._record_away()
                self._coming[there] = self._coming.get(there, 0) + 1
                self.light_runs += 1
                self._run_light(source, there).callbacks.append(
                    functools.partial(self._light_arrival, there)
                )
                short -= 1

    def _got(self, ev: simpy.Event) -> None:
        """A departure that waited has its set now."""
        self.wait_h.add_wait(self._asked.pop(ev), self.env.now)

    def finish(self, t: float) -> None:
        """Close the run at ``t`` (hours): the use of the sets up to it, and the waits of
        the departures still waiting (a lower bound of their wait: a pool whose sets are
        held, at a jammed border say, shows in :attr:`wait_h` although no set came)."""
        self.away.finish(t)
        for t0 in self._asked.values():
            self.wait_h.add_wait(t0, t)
        self._asked.clear()

    def _record_away(self) -> None:
        """The sets standing free have changed now: record those away."""
        self.away.set(self.env.now, self.size - sum(self.free.values()))

    def _idle_source(self, there: str) -> str | None:
        """A place other than ``there`` with more than one idle set, no train waiting and a
        path to ``there``; the one with most idle sets."""
        best = None
        for place, n in self.free.items():
            if (
                place != there
                and n > 1
                and not self._waiting.get(place)
                and (place, there) in self._paths
                and (best is None or n > self.free[best])
            ):
                best = place
        return best

    def _light_arrival(self, place: str, _e: simpy.Event) -> None:
        self._coming[place] -= 1
        self.arrive(place)
