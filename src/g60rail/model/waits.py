"""Waiting for the first of several events.

:func:`first_of` is what ``a | b`` is in SimPy (an any-of condition), scheduled the same
way: it fires, at the same point of the event queue, once one of its events has been
processed, and fails if that one failed.  It carries no value: whoever waits on it asks
each event (``ev.processed``) what happened, which is what SimPy's condition value tells
(the events processed by the time the condition is).
"""

from __future__ import annotations

import simpy

__all__ = ["first_of"]


def first_of(a: simpy.Event, b: simpy.Event) -> simpy.Event:
    """An event that fires once ``a`` or ``b`` has been processed.

    Parameters
    ----------
    a, b
        Events of one environment; either may be a :func:`first_of` itself.

    Returns
    -------
    simpy.Event
        Triggered (scheduled for now) when the first of ``a`` and ``b`` is processed, or
        at once if one already was.
    """
    ev = simpy.Event(a.env)

    def check(e: simpy.Event) -> None:
        if not ev.triggered:
            if e.ok:
                ev.succeed()
            else:
                e.defused = True
                exc = e.value
                assert isinstance(exc, Exception)  # a failed event's value
                ev.fail(exc)

    for e in (a, b):
        if e.callbacks is None:
            check(e)
        else:
            e.callbacks.append(check)
    return ev
