"""The simulation's event loop: a SimPy environment whose run to a time is one loop.

:class:`Engine` is a :class:`simpy.Environment` and processes events exactly as SimPy
does, in the same order (time, then priority, then scheduling order), calling each
event's callbacks in turn and crashing on a failed event nobody defused.  Three things
differ in how, not in what:

* :meth:`Engine.run` with a numeric ``until`` steps through the queue in one loop
  instead of one method call per event;
* events due at the current time with normal priority (a triggered event, a zero
  delay) wait in a first-in first-out line beside the time-ordered queue: they come
  after every event already queued for now (scheduled earlier) and before any event
  scheduled later, which is where SimPy's queue puts them;
* the clock :attr:`Engine.now` is a plain attribute, set by every method that moves it
  (SimPy's private ``_now``, read only by the methods overridden here, keeps the initial
  time);
* the cyclic garbage collector is paused while :meth:`Engine.run` runs to a time (see
  :func:`collector_paused`).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import Any, NoReturn, cast

import simpy
from mypy_extensions import mypyc_attr
from simpy.core import NORMAL, URGENT, BoundClass, EmptySchedule, StopSimulation
from simpy.events import EventPriority

__all__ = ["Engine", "Wake", "collector_paused"]


# a Python class when the model is compiled (setup.py): SimPy's environment is one
@mypyc_attr(native_class=False)
class Engine(simpy.Environment):
    """A SimPy environment with a tight loop for runs to a given time.

    Parameters
    ----------
    initial_time
        Simulation time at the start, hours.
    """

    now: float = 0.0
    """The current simulation time, hours (a plain attribute, not SimPy's property)."""

    def __init__(self, initial_time: float = 0.0) -> None:
        super().__init__(initial_time)
        self.now = initial_time
        # events due now with normal priority, in scheduling order (see the module)
        self._due_now: deque[simpy.Event] = deque()
        # SimPy binds its event factories (``timeout``, ``event``, ``process`` ...) to the
        # instance for its own class only; bind those of the base class too
        for name, obj in vars(simpy.Environment).items():
            if type(obj) is BoundClass:
                setattr(self, name, getattr(self, name))

    def schedule(
        self, event: simpy.Event, priority: EventPriority = NORMAL, delay: float = 0
    ) -> None:
        """Schedule ``event`` with ``priority`` after ``delay`` hours, as SimPy does."""
        now = self.now
        at = now + delay
        if at == now and priority == NORMAL:
            self._due_now.append(event)
        else:
            heappush(self._queue, (at, priority, next(self._eid), event))

    def peek(self) -> float:
        """Time of the next event, hours (infinity if none is scheduled)."""
        if self._due_now:
            return self.now
        return self._queue[0][0] if self._queue else simpy.core.Infinity

    def _pop(self) -> simpy.Event:
        """Take the next event off the queue, advancing the clock to its time."""
        due, queue = self._due_now, self._queue
        if due:
            if queue:
                at, priority = queue[0][0], queue[0][1]
                if at < self.now or (at == self.now and priority <= NORMAL):
                    self.now, _, _, event = heappop(queue)
                    return event
            return due.popleft()
        if not queue:
            raise EmptySchedule
        self.now, _, _, event = heappop(queue)
        return event

    def step(self) -> None:
        """Process the next event, as :meth:`simpy.Environment.step`."""
        event = self._pop()
        callbacks = _take_callbacks(event)
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            # the rest of the callbacks run when the simulation resumes
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            _crash(event)

    def run(self, until: Any = None) -> Any:
        """Process events until time ``until`` (hours), as :meth:`simpy.Environment.run`.

        An event (or ``None``) for ``until`` is left to SimPy.  At ``until`` the clock
        stands at ``until``; events due then (other than the run's end) wait for the
        next run, as in SimPy.
        """
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)
        at = float(until)
        if at <= self.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        end = simpy.Event(self)
        end._ok = True
        end._value = None
        self.schedule(end, URGENT, at - self.now)
        with collector_paused():
            self._run_to(end)

    def _run_to(self, end: simpy.Event) -> None:
        """Process events until ``end`` is next (it is in the queue)."""
        queue, due = self._queue, self._due_now
        next_due = due.popleft
        now = self.now
        while True:
            # the run's end is in the queue, so the queue is not empty
            if due and (queue[0][0] > now or (queue[0][0] == now and queue[0][1] > NORMAL)):
                event = next_due()
            else:
                now, _, _, event = heappop(queue)
                self.now = now
                if event is end:
                    end.callbacks = None  # type: ignore[assignment]
                    return
            callbacks = _take_callbacks(event)
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                _crash(event)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, then restore it as it was.

    A run makes millions of short-lived objects (boxes, events, callbacks) and, in its
    event loop, no reference cycles: the collector finds nothing to free there, but its
    passes over the young objects and the long-lived model took about a tenth of a
    baseline year's wall time.  Reference counting still frees every object as soon as it
    is unused.  The collector is process-wide: it is switched back on only if it was on
    when the block began, so nested or concurrent runs leave it as they found it.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _take_callbacks(event: simpy.Event) -> Any:
    """The callbacks of ``event``, which is processed now (it keeps ``None``): a list for
    SimPy's events, a tuple for a :class:`Wake`, so read untyped (compiled code, see
    setup.py, would check for the list SimPy declares)."""
    callbacks = cast(Any, event).callbacks
    event.callbacks = None  # type: ignore[assignment]
    return callbacks


def _crash(event: simpy.Event) -> NoReturn:
    """Raise the exception of a failed event nobody defused, as SimPy does."""
    exc = type(event._value)(*event._value.args)
    exc.__cause__ = event._value
    raise exc


class Wake:
    """A callback due ``delay`` hours from now, queued in ``env``'s event queue.

    It is scheduled as a ``simpy.Timeout`` created at the same moment would be (same time,
    priority and place in the order), so simultaneous events keep SimPy's order; when it
    is due, ``callback`` is called with it.  It is an event to the event loop only (it has
    ``callbacks``, is always ``ok`` and carries ``value``), on an :class:`Engine` or any
    ``simpy.Environment``: nothing may wait for it or combine it with other events.  The
    timed steps of the callback-driven parts (gate passes, stacker lifts, trucks' drives,
    unloading moves, consignees' pickups, customs work) use it instead of a timeout, which
    costs more to make.

    Parameters
    ----------
    env
        The SimPy environment.
    delay
        Hours from now, non-negative.
    callback
        Called with the wake-up when it is due.
    value
        Carried to the callback as the wake-up's ``value``.
    """

    __slots__ = ("callbacks", "value")

    _ok = True

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        callback: Callable[[Wake], None],
        value: Any = None,
    ) -> None:
        self.callbacks: tuple[Callable[[Wake], None], ...] | None = (callback,)
        self.value = value
        # the event queue is typed for SimPy events: a wake-up stands in for one
        env.schedule(self, NORMAL, delay)  # type: ignore[arg-type]
