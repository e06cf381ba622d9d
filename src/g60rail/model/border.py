"""Rail border ports (Mohan, China / Boten, Laos): declaration, scan, inspection.

When a train arrives its boxes' declarations are processed by customs officers (those
pre-declared are already done), the whole train passes the scanner, and technical handling
(locomotive, crew, documents) takes its time; the train is cleared when all three are
done.  Boxes selected for physical inspection are taken off the train when it is cleared,
inspected in an inspection bay and then wait at the port for a later train that goes
their way.

Customs work only inside the port's opening hours and outside closures (a closed port
does nothing; during a customs-system outage only declarations wait); work started before
closing is finished.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

from g60rail.model.disruptions import after_windows
from g60rail.model.probes import Tally
from g60rail.random import Sampler, Streams

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.model.rolling_stock import Train
    from g60rail.scenario.schema import BorderSpec

__all__ = ["BorderPort", "next_open_h"]


def next_open_h(t: float, open_h: float, close_h: float, day0_h: float) -> float:
    """Earliest time ``>= t`` (hours) at which a daily window ``[open_h, close_h)`` is open.

    Parameters
    ----------
    t
        Simulation time, hours.
    open_h, close_h
        Window in local hours of day; ``close_h <= open_h`` means it passes midnight,
        ``open_h == 0`` and ``close_h == 24`` means always open.
    day0_h
        Local hour of day at simulation time 0.
    closed, customs_down
        Windows ``(start_h, end_h)`` when the port is closed, and when only the customs
        system (declarations) is down.
    """
    if open_h == 0.0 and close_h >= 24.0:
        return t
    hod = (t + day0_h) % 24.0
    if close_h > open_h:
        if open_h <= hod < close_h:
            return t
        return t + ((open_h - hod) % 24.0)
    # window over midnight: open on [open_h, 24) and [0, close_h)
    if hod >= open_h or hod < close_h:
        return t
    return t + (open_h - hod)


class BorderPort:
    """Customs at one rail border station.

    Parameters
    ----------
    env
        The SimPy environment.
    spec
        Officers, scanners, inspection bays and their times.
    country
        ISO code of the port's country, to tell exit from entry.
    streams
        Random streams ``border.<place>.declaration|scan|technical|inspection``.
    day0_h
        Local hour of day at simulation time 0.
    closed, customs_down
        Windows ``(start_h, end_h)`` when the port is closed, and when only the customs
        system (declarations) is down.
    warmup_h
        Clearance times count trains that reach the port at or after this time, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: BorderSpec,
        country: str,
        streams: Streams,
        day0_h: float,
        closed: list[tuple[float, float]] | None = None,
        customs_down: list[tuple[float, float]] | None = None,
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.warmup_h = warmup_h
        self.closed = closed or []
        self.customs_down = sorted(self.closed + (customs_down or []))
        self.closure_delay_teu_h = 0.0
        self.spec = spec
        self.place = spec.place
        self.country = country
        self.day0_h = day0_h
        p = f"border.{spec.place}"
        self.officers = simpy.Resource(env, capacity=spec.officers)
        self.scanners = simpy.Resource(env, capacity=spec.scanners)
        self.bays = simpy.Resource(env, capacity=spec.inspection_bays)
        self.declaration_h: Sampler = streams.sampler(f"{p}.declaration", spec.declaration_h)
        self.scan_h: Sampler = streams.sampler(f"{p}.scan", spec.scan_h)
        self.technical_h: Sampler = streams.sampler(f"{p}.technical", spec.technical_h)
        self.inspection_h: Sampler = streams.sampler(f"{p}.inspection", spec.inspection_h)
        self._open = (spec.opening.open_h, spec.opening.close_h)
        self.held: list[Container] = []
        self.clearance_h = Tally()
        self.box_clearance_h = Tally()
        self.held_teu = 0
        self.officer_busy_h = 0.0
        self.log: list[tuple] = []

    def _next_working_h(self, t: float, windows: list[tuple[float, float]]) -> float:
        """Earliest time ``>= t`` inside opening hours and outside ``windows``."""
        while True:
            t1 = after_windows(next_open_h(t, *self._open, self.day0_h), 0.0, windows)
            if t1 == t:
                return t
            t = t1

    def _until_open(self, windows: list[tuple[float, float]]) -> Generator:
        t = self._next_working_h(self.env.now, windows)
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)

    def _serve(self, resource: simpy.Resource, duration: float, officer: bool = False) -> Generator:
        with resource.request() as req:
            yield req
            yield from self._until_open(self.customs_down if officer else self.closed)
            if officer:
                self.officer_busy_h += duration
            yield self.env.timeout(duration)

    def clear(self, train: Train, exit_: bool) -> Generator:
        """Clear ``train``; boxes selected for inspection are taken off and held.

        Parameters
        ----------
        train
            The arriving train; its box list is changed in place.
        exit_
            True when the train leaves the port's country (exit inspection share applies).
        """
        env, spec = self.env, self.spec
        t0 = env.now
        share = spec.inspect_share_exit if exit_ else spec.inspect_share_entry
        keep: list[Container] = []
        held: list[Container] = []
        work: list[simpy.Event] = [env.process(self._serve(self.scanners, self.scan_h()))]
        tech = self.technical_h()
        if tech > 0:
            work.append(env.timeout(tech))
        reopen = after_windows(t0, 0.0, self.customs_down)
        if reopen > t0:
            # arrived during a closure or outage: the train's TEU wait for it to end
            self.closure_delay_teu_h += train.teu * (reopen - t0)
            if after_windows(t0, 0.0, self.closed) > t0:
                work.append(env.timeout(after_windows(t0, 0.0, self.closed) - t0))
        for box in train.boxes:
            k = 0 if box.t_border_in != box.t_border_in else 2  # first or second crossing
            if k == 0:
                box.t_border_in = t0
            u_inspect, u_pre = box.border_u[k], box.border_u[k + 1]
            (held if u_inspect < share else keep).append(box)
            if u_pre >= spec.predeclared_share:
                work.append(env.process(self._serve(self.officers, self.declaration_h(), True)))
        train.remove(held)
        yield env.all_of(work)
        cleared = env.now - t0
        counted = t0 >= self.warmup_h
        if counted:
            self.clearance_h.add(cleared)
        for box in keep:
            box.t_border_out = env.now
            if counted:
                self.box_clearance_h.add(cleared)
        self.log.append(
            (train.tid, train.service, t0, env.now, train.teu, sum(b.teu for b in held))
        )
        for box in held:
            self.held_teu += box.teu
            env.process(self._inspect(box, t0))

    def _inspect(self, box: Container, t0: float) -> Generator:
        box.held = True
        yield from self._serve(self.bays, self.inspection_h())
        box.t_border_out = self.env.now
        if t0 >= self.warmup_h:
            self.box_clearance_h.add(self.env.now - t0)
        self.held.append(box)

    def pick_up(self, train: Train, ahead: set[str]) -> None:
        """Put held, inspected boxes on ``train`` if it goes their way and has room.

        Parameters
        ----------
        ahead
            The places the train still calls at.
        """
        if not self.held:
            return
        still = []
        for box in self.held:
            if box.current.to in ahead and train.teu + box.teu <= train.capacity_teu:
                train.add(box)
            else:
                still.append(box)
        self.held = still
