"""Rolling stock: a train on its run, with the boxes it carries, and the pools of train
sets that services run."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from g60rail.model.probes import Tally

if TYPE_CHECKING:
    from g60rail.model.cargo import Container

__all__ = ["Train", "TrainSetPool"]


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


class TrainSetPool:
    """The train sets of one pool (a service and its return), by where they stand.

    A departure takes a set standing at its origin, waiting first come first served when
    none is there; at the end of its run the set stands at the last stop again after its
    servicing time.  So a late inbound train delays the outbound one.

    Parameters
    ----------
    env
        The SimPy environment.
    pool
        Pool id.
    at
        Sets standing at each place at time 0.
    """

    def __init__(self, env: simpy.Environment, pool: str, at: dict[str, int]) -> None:
        self.env = env
        self.pool = pool
        self.free = dict(at)
        self.size = sum(at.values())
        self._waiting: dict[str, deque[simpy.Event]] = {}
        self.wait_h = Tally()

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
            self.wait_h.add(0.0)
            return None
        ev = self.env.event()
        t0 = self.env.now
        ev.callbacks.append(lambda _e: self.wait_h.add(self.env.now - t0))
        self._waiting.setdefault(place, deque()).append(ev)
        return ev

    def arrive(self, place: str) -> None:
        """A set becomes free at ``place`` (after its servicing)."""
        waiting = self._waiting.get(place)
        if waiting:
            waiting.popleft().succeed()
        else:
            self.free[place] = self.free.get(place, 0) + 1
