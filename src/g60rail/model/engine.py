"""The simulation's event loop: a SimPy environment whose run to a time is one loop.

:class:`Engine` is a :class:`simpy.Environment` and processes events exactly as SimPy
does, in the same order (time, then priority, then scheduling order), calling each
event's callbacks in turn and crashing on a failed event nobody defused.  Only
:meth:`Engine.run` with a numeric ``until`` differs: it steps through the queue in one
loop instead of one method call per event.
"""

from __future__ import annotations

from heapq import heappop
from typing import Any

import simpy
from simpy.core import URGENT, BoundClass

__all__ = ["Engine"]


class Engine(simpy.Environment):
    """A SimPy environment with a tight loop for runs to a given time.

    Parameters
    ----------
    initial_time
        Simulation time at the start, hours.
    """

    def __init__(self, initial_time: float = 0.0) -> None:
        super().__init__(initial_time)
        # SimPy binds its event factories (``timeout``, ``event``, ``process`` ...) to the
        # instance for its own class only; bind those of the base class too
        for name, obj in vars(simpy.Environment).items():
            if type(obj) is BoundClass:
                setattr(self, name, getattr(self, name))

    def run(self, until: Any = None) -> Any:
        """Process events until time ``until`` (hours), as :meth:`simpy.Environment.run`.

        An event (or ``None``) for ``until`` is left to SimPy.  At ``until`` the clock
        stands at ``until``; events due then (other than the run's end) wait for the
        next run, as in SimPy.
        """
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        end = simpy.Event(self)
        end._ok = True
        end._value = None
        self.schedule(end, URGENT, at - self._now)
        queue = self._queue
        while True:
            self._now, _, _, event = heappop(queue)
            if event is end:
                end.callbacks = None  # type: ignore[assignment]
                return None
            callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
