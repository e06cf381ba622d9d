"""Boxes in a yard (or at a siding) waiting for the trains of one service.

A train of the service loads them first come first served, taking only those whose truck
passed the in-gate by the departure's cut-off (:meth:`ServiceQueue.first_ready`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:
    from g60rail.model.cargo import Container

__all__ = ["ServiceQueue"]


class ServiceQueue:
    """Boxes in a hub's yard waiting for trains of one service, first come first served."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.boxes: deque[Container] = deque()
        self.teu = 0
        self.missed_cutoff_teu = 0
        """TEU left in the yard by a departure because their truck, at the gate before
        the cut-off, passed the in-gate after it (see :meth:`count_missed`)."""
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

    # -- the cut-off: a box is ready for a train if its truck passed the in-gate in time;
    # boxes without an in-gate (off a train, at a siding: ``t_gate_pass`` NaN) always are
    def first_ready(self, latest_pass_h: float) -> Container | None:
        """The first box whose truck passed the in-gate at or before ``latest_pass_h``
        (hours), or ``None``."""
        for box in self.boxes:
            if not box.t_gate_pass > latest_pass_h:
                return box
        return None

    def ready_count(self, latest_pass_h: float) -> int:
        """Boxes ready for a train whose cut-off is ``latest_pass_h`` (hours)."""
        return sum(1 for b in self.boxes if not b.t_gate_pass > latest_pass_h)

    def first_late_pass_h(self, latest_pass_h: float) -> float:
        """The earliest in-gate pass (hours) of the boxes that are late for the cut-off
        ``latest_pass_h``; infinity if none is."""
        first = math.inf
        for box in self.boxes:
            t = box.t_gate_pass
            if t > latest_pass_h and t < first:
                first = t
        return first

    def take(self, box: Container) -> None:
        """Take ``box`` out of the queue, wherever it stands."""
        if self.boxes[0] is box:
            self.boxes.popleft()
        else:
            self.boxes.remove(box)
        self.teu -= box.teu

    def count_missed(self, latest_pass_h: float) -> None:
        """A train leaves: count the TEU waiting here whose truck came to the gate before
        its cut-off but passed the in-gate after it (held up at the gate: by the queue,
        the yard or the opening hours).  A truck that came after the cut-off was not
        coming for this train (booked boxes come before their train's cut-off)."""
        self.missed_cutoff_teu += sum(
            b.teu
            for b in self.boxes
            if b.t_gate_pass > latest_pass_h and b.t_gate_arrive <= latest_pass_h
        )

    def arrival(self) -> simpy.Event:
        """An event that fires at the next push."""
        if self._signal is None:
            self._signal = self.env.event()
        return self._signal
