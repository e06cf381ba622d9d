"""A terminal's truck gate: lanes shared by trucks coming in and going out, open daily.

Every truck passes the gate twice, in and out, on the same lanes, first come first served.
The gate is open daily in local hours: a truck that comes while it is closed, or whose
processing would not be done by closing, waits in its lane for the next opening.  A truck
coming in also waits, holding its lane, until its boxes fit in the yard.  A truck needs no
SimPy process of its own: each step of its pass is a callback of the event it waits for.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import Timeout

from g60rail.model.daily import DailyWindow
from g60rail.model.probes import LevelProbe, Tally
from g60rail.model.servers import Servers
from g60rail.random import Sampler

__all__ = ["Gate"]


class Gate:
    """Truck gate lanes with a processing time per truck, open daily in local hours.

    Trucks coming in and trucks going out share the lanes, first come first served.

    Parameters
    ----------
    env
        The SimPy environment.
    lanes
        Number of lanes.
    sampler
        Processing time of a truck at the in-gate, hours.
    horizon_h
        Run length, hours (for the queue probe).
    hours
        The daily opening window; ``None``: always open.
    out_sampler
        Processing time at the out-gate, hours (default: ``sampler``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        lanes: int,
        sampler: Sampler,
        horizon_h: float,
        hours: DailyWindow | None = None,
        out_sampler: Sampler | None = None,
    ):
        self.env = env
        self.lanes = Servers(env, lanes)
        self.process_h = sampler
        self.out_process_h = out_sampler if out_sampler is not None else sampler
        self.hours = hours if hours is not None and not hours.always_open else None
        self.queue = LevelProbe(horizon_h)
        self.wait_h = Tally()
        """Wait of each truck at the in-gate, arrival to the start of its processing."""
        self.out_wait_h = Tally()
        """Wait of each truck at the out-gate."""
        self.busy_h = 0.0

    def enter(
        self, done: Callable[[float], None], admit: Callable[[], simpy.Event | None] | None = None
    ) -> None:
        """Pass one truck through the in-gate: wait for a lane and, holding it, for
        ``admit`` (yard space) and for an opening long enough for the processing; then
        the processing time.  ``done(start)`` is called once the truck is through, with
        the start of its processing, hours.

        A truck that comes while the gate is closed, or whose processing would not be
        done by closing, waits in its lane for the next opening.  The gate queue level
        counts trucks from arrival until their processing starts; a truck served at once
        never shows in it.  Event-driven (no process): each step is a callback of the
        event it waits for.

        Parameters
        ----------
        done
            Called when the truck has passed.
        admit
            Called once the truck holds a lane: ``None`` when it may go on, else an event
            to wait for.
        """
        self._pass(False, admit, done)

    def leave(self, done: Callable[[float], None]) -> None:
        """Pass one truck through the out-gate, by the rules of :meth:`enter` (without
        yard admission); its wait is recorded apart."""
        self._pass(True, None, done)

    def _pass(
        self,
        out: bool,
        admit: Callable[[], simpy.Event | None] | None,
        done: Callable[[float], None],
    ) -> None:
        t0 = self.env.now
        if self.lanes.take():
            self._admit(t0, out, admit, False, done)
        else:
            self.queue.add(t0, 1)
            self.lanes.wait(lambda: self._admit(t0, out, admit, True, done))

    def _admit(
        self,
        t0: float,
        out: bool,
        admit: Callable[[], simpy.Event | None] | None,
        queued: bool,
        done: Callable[[float], None],
    ) -> None:
        """The truck holds a lane: wait for yard space, if need be."""
        wait = admit() if admit is not None else None
        if wait is None:
            self._open(t0, out, queued, done)
            return
        if not queued:
            self.queue.add(t0, 1)
        wait.callbacks.append(lambda _e: self._open(t0, out, True, done))

    def _open(self, t0: float, out: bool, queued: bool, done: Callable[[float], None]) -> None:
        """Wait for an opening long enough for the processing, if need be."""
        env = self.env
        now = env.now
        d = (self.out_process_h if out else self.process_h)()
        hours = self.hours
        if hours is not None:
            start = hours.next_start_h(now, d)
            if start > now:
                if not queued:
                    self.queue.add(now, 1)
                Timeout(env, start - now).callbacks.append(
                    lambda _e: self._process(t0, env.now, d, out, True, done)
                )
                return
        self._process(t0, now, d, out, queued, done)

    def _process(
        self,
        t0: float,
        start: float,
        d: float,
        out: bool,
        queued: bool,
        done: Callable[[float], None],
    ) -> None:
        if queued:
            self.queue.add(start, -1)
        (self.out_wait_h if out else self.wait_h).add(start - t0)
        self.busy_h += d
        release = self.lanes.release

        def through(_e: simpy.Event) -> None:
            release()
            done(start)

        Timeout(self.env, d).callbacks.append(through)
