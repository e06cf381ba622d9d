"""A terminal's truck gate: lanes shared by trucks coming in and going out, open daily.

Every truck passes the gate twice, in and out, on the same lanes, first come first served.
The gate is open daily in local hours: a truck that comes while it is closed, or whose
processing would not be done by closing, waits in its lane for the next opening.  A truck
coming in whose boxes do not fit in the yard waits before the gate, in the gate queue but
holding no lane, until they do: trucks collecting boxes, which free space, pass it.  A
truck needs no SimPy process of its own: each step of its pass is a callback of the event
it waits for.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from g60rail.model.daily import DailyWindow
from g60rail.model.engine import Wake
from g60rail.model.probes import BusyTime, LevelProbe, Tally
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
    warmup_h
        Waits count the trucks that come at or after this time, hours, and the lanes'
        busy time the processing after it.
    """

    def __init__(
        self,
        env: simpy.Environment,
        lanes: int,
        sampler: Sampler,
        horizon_h: float,
        hours: DailyWindow | None = None,
        out_sampler: Sampler | None = None,
        warmup_h: float = 0.0,
    ):
        self.env = env
        self.lanes = Servers(env, lanes)
        self.process_h = sampler
        self.out_process_h = out_sampler if out_sampler is not None else sampler
        self.hours = hours if hours is not None and not hours.always_open else None
        self.queue = LevelProbe(horizon_h)
        self.wait_h = Tally(warmup_h)
        """Wait of each truck at the in-gate, arrival to the start of its processing
        (trucks that came after the warm-up)."""
        self.out_wait_h = Tally(warmup_h)
        """Wait of each truck at the out-gate (trucks that came after the warm-up)."""
        self.busy_time = BusyTime(warmup_h)
        """Lane-hours of processing after the warm-up."""

    def enter(
        self, done: Callable[[float], None], admit: Callable[[], simpy.Event | None] | None = None
    ) -> None:
        """Pass one truck through the in-gate: wait for a lane and, holding it, for an
        opening long enough for the processing; then the processing time.  A truck given
        a lane asks ``admit`` for yard space: without it, it gives the lane back and waits
        before the gate until it has space, then for a lane again.  ``done(start)`` is
        called once the truck is through, with the start of its processing, hours.

        A truck that comes while the gate is closed, or whose processing would not be
        done by closing, waits in its lane for the next opening.  The gate queue level
        counts trucks from arrival until their processing starts (waiting for space, a
        lane or the opening); a truck served at once never shows in it.  Event-driven
        (no process): each step is a callback of the event it waits for.

        Parameters
        ----------
        done
            Called when the truck has passed.
        admit
            Called once, when the truck first holds a lane: ``None`` when it may go on,
            else an event that fires when its space is there.
        """
        _Pass(self, self.env.now, False, done, admit).to_lane()

    def leave(self, done: Callable[[float], None]) -> None:
        """Pass one truck through the out-gate, by the rules of :meth:`enter` (without
        yard admission); its wait is recorded apart."""
        _Pass(self, self.env.now, True, done, None).to_lane()


class _Pass:
    """One truck's pass through a gate, in or out: its steps, each a callback of the
    event it waits for.

    Parameters
    ----------
    gate
        The gate.
    t0
        Arrival at the gate, hours.
    out
        The out-gate pass (else the in-gate).
    done
        Called with the start of the processing, hours, once the truck is through.
    admit
        Yard admission, asked once (see :meth:`Gate.enter`), or ``None``.
    """

    __slots__ = ("admit", "d", "done", "gate", "out", "queued", "start", "t0")

    def __init__(
        self,
        gate: Gate,
        t0: float,
        out: bool,
        done: Callable[[float], None],
        admit: Callable[[], simpy.Event | None] | None,
    ) -> None:
        self.gate = gate
        self.t0 = t0
        self.out = out
        self.done = done
        self.admit = admit
        self.queued = False
        """Whether the truck shows in the gate queue (it had to wait)."""
        # d (processing time, hours) and start (of the processing) are set by open()

    def to_lane(self) -> None:
        """Take a lane, or wait for one in the gate queue."""
        gate = self.gate
        if gate.lanes.take():
            self.on_lane()
            return
        if not self.queued:
            self.queued = True
            gate.queue.add(gate.env.now, 1)
        gate.lanes.wait(self.on_lane)

    def on_lane(self) -> None:
        """The truck holds a lane: without yard space it gives the lane back and waits
        before the gate for its space."""
        admit, self.admit = self.admit, None
        wait = admit() if admit is not None else None
        if wait is None:
            self.open()
            return
        gate = self.gate
        gate.lanes.release()
        if not self.queued:
            self.queued = True
            gate.queue.add(gate.env.now, 1)
        wait.callbacks.append(self.on_space)

    def on_space(self, _e: simpy.Event) -> None:
        """The truck's yard space is there: back to the lanes."""
        self.to_lane()

    def open(self) -> None:
        """The truck holds a lane (a delivering one has its yard space): wait for an
        opening long enough for the processing, if need be; then the processing
        starts."""
        gate = self.gate
        env = gate.env
        now = env.now
        d = self.d = (gate.out_process_h if self.out else gate.process_h)()
        hours = gate.hours
        if hours is not None:
            start = hours.next_start_h(now, d)
            if start > now:
                if not self.queued:
                    self.queued = True
                    gate.queue.add(now, 1)
                Wake(env, start - now, self.on_open)
                return
        self.process(now)

    def on_open(self, _w: Wake) -> None:
        """The gate opens for the truck."""
        self.process(self.gate.env.now)

    def process(self, now: float) -> None:
        """The processing (``d`` hours) starts now (``now``, hours)."""
        gate = self.gate
        if self.queued:
            gate.queue.add(now, -1)
        (gate.out_wait_h if self.out else gate.wait_h).add_wait(self.t0, now)
        gate.busy_time.add(now, self.d)
        self.start = now
        Wake(gate.env, self.d, self.through)

    def through(self, _w: Wake) -> None:
        """The processing is done: the truck leaves its lane."""
        self.gate.lanes.release()
        self.done(self.start)
