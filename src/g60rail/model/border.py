"""Rail border ports (Mohan, China / Boten, Laos): declaration, scan, inspection.

When a train arrives its boxes' declarations are processed by customs officers (those
pre-declared are already done), the whole train passes the scanner, and technical handling
(locomotive, crew, documents) takes its time; the train is cleared when all three are
done.  Boxes selected for physical inspection (the port's exit or entry share, or their
commodity class's own) are taken off the train when it is cleared, inspected in an
inspection bay and then wait at the port for the next train, of any service, that goes
their way (:meth:`BorderPort.pick_up`): one that calls where the box's hop ends, or one
that calls at a terminal from which its destination can be reached without coming back
through the port (the rest of the itinerary is planned again from there).  A box's
clearance runs from its train's arrival at the port until it leaves the port on a train:
for a held box, until it boards the later one.

Customs work only inside the port's opening hours and outside closures (a closed port
does nothing; during a customs-system outage only declarations wait); work started before
closing is finished.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING

import simpy

from g60rail.model.disruptions import after_windows
from g60rail.model.engine import Wake
from g60rail.model.probes import BusyTime, Tally
from g60rail.model.servers import Servers
from g60rail.random import Sampler, Streams
from g60rail.scenario.routes import Hop

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.model.rolling_stock import Train
    from g60rail.scenario.schema import BorderSpec, CommoditySpec

Planner = Callable[[str, str, tuple[str, ...]], "tuple[Hop, ...] | None"]
"""``(terminal place, destination, places to avoid) -> hops or None``, e.g.
:meth:`g60rail.Scenario.itinerary_from`."""

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
        Clearance times count trains that reach the port at or after this time, and the
        officers' utilisation their work from then on, hours.
    planner
        Plans a held box's way on from a terminal ahead of a train of another service;
        none: a held box boards only trains that call where its hop ends.
    commodities
        Commodity classes whose own inspection shares replace the port's.
    record
        Keep one record per cleared train (:attr:`log`, :attr:`boarded`).
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
        planner: Planner | None = None,
        commodities: Mapping[str, CommoditySpec] | None = None,
        record: bool = True,
    ) -> None:
        self.env = env
        self.record = record
        self.warmup_h = warmup_h
        self.closed = closed or []
        self.customs_down = sorted(self.closed + (customs_down or []))
        self.closure_delay_teu_h = 0.0
        self.spec = spec
        self.place = spec.place
        self.country = country
        self.day0_h = day0_h
        p = f"border.{spec.place}"
        self.officers = Servers(env, spec.officers)
        self.scanners = Servers(env, spec.scanners)
        self.bays = Servers(env, spec.inspection_bays)
        self.declaration_h: Sampler = streams.sampler(f"{p}.declaration", spec.declaration_h)
        self.scan_h: Sampler = streams.sampler(f"{p}.scan", spec.scan_h)
        self.technical_h: Sampler = streams.sampler(f"{p}.technical", spec.technical_h)
        self.inspection_h: Sampler = streams.sampler(f"{p}.inspection", spec.inspection_h)
        self._open = (spec.opening.open_h, spec.opening.close_h)
        self._always_open = spec.opening.open_h == 0.0 and spec.opening.close_h >= 24.0
        shares = _inspection_shares(spec, commodities or {})
        # the classes' own shares on exit and on entry
        self._side_shares = tuple({c: s[side] for c, s in shares.items()} for side in (0, 1))
        self.planner = planner
        self._plans: dict[tuple[str, str], tuple[Hop, ...] | None] = {}
        self.held: list[Container] = []
        """Held boxes whose inspection is done, waiting for a train, in release order."""
        # cid -> (arrival of its train at the port, end of its inspection), hours
        self._held_since: dict[int, tuple[float, float]] = {}
        self.clearance_h = Tally()
        self.box_clearance_h = Tally()
        self.held_wait_h = Tally()
        self.held_teu = 0
        self.teu_out = 0
        self.tonnes_out = 0.0
        self.boarded: dict[int, tuple[int, float]] = {}
        """Train id -> (TEU, tonnes) of held boxes that boarded it here."""
        self.officer_busy = BusyTime(warmup_h)
        """Officer-hours of customs work after the warm-up."""
        self.log: list[tuple] = []
        """Per cleared train, if kept: (tid, service, t_in, t_out, TEU cleared, TEU held,
        tonnes cleared, tonnes held)."""
        self.trains_cleared = 0

    def _next_working_h(self, t: float, windows: list[tuple[float, float]]) -> float:
        """Earliest time ``>= t`` inside opening hours and outside ``windows``."""
        if self._always_open and not windows:
            return t
        while True:
            t1 = after_windows(next_open_h(t, *self._open, self.day0_h), 0.0, windows)
            if t1 == t:
                return t
            t = t1

    def _serve(
        self,
        servers: Servers,
        duration: float,
        done: Callable[[], None],
        officer: bool = False,
    ) -> None:
        """One piece of work of ``duration`` hours: wait for a server (first come first
        served) and, holding it, for working hours outside the closures (for an officer:
        outside the customs outages too); ``done`` is called when it is finished."""
        work = _Work(self, servers, duration, done, officer)
        if servers.take():
            work.start()
        else:
            servers.wait(work.start)

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
        side = 0 if exit_ else 1
        port_share = spec.inspect_share_exit if exit_ else spec.inspect_share_entry
        shares = self._side_shares[side]
        keep: list[Container] = []
        held: list[Container] = []
        # the train is cleared when its last piece of work (scan, technical handling, the
        # end of a closure, declarations) is done
        cleared_ev = env.event()
        todo = [1]  # pieces of work not done, plus one until all are counted

        def one_done(_w: Wake | None = None) -> None:
            todo[0] -= 1
            if todo[0] == 0:
                cleared_ev.succeed()

        todo[0] += 1
        self._serve(self.scanners, self.scan_h(), one_done)
        tech = self.technical_h()
        if tech > 0:
            todo[0] += 1
            Wake(env, tech, one_done)
        reopen = after_windows(t0, 0.0, self.customs_down)
        if reopen > t0:
            # arrived during a closure or outage: the train's TEU wait for it to end
            self.closure_delay_teu_h += train.teu * (reopen - t0)
            if after_windows(t0, 0.0, self.closed) > t0:
                todo[0] += 1
                Wake(env, after_windows(t0, 0.0, self.closed) - t0, one_done)
        predeclared = spec.predeclared_share
        for box in train.boxes:
            k = 0 if box.t_border_in != box.t_border_in else 2  # first or second crossing
            if k == 0:
                box.t_border_in = t0
            u = box.border_u
            (held if u[k] < shares.get(box.commodity, port_share) else keep).append(box)
            if u[k + 1] >= predeclared:
                todo[0] += 1
                self._serve(self.officers, self.declaration_h(), one_done, officer=True)
        train.remove(held)
        one_done()
        yield cleared_ev
        cleared = env.now - t0
        counted = t0 >= self.warmup_h
        if counted:
            self.clearance_h.add(cleared)
        for box in keep:
            self._leave(box, t0)
        self.trains_cleared += 1
        if self.record:
            self.log.append(
                (
                    train.tid,
                    train.service,
                    t0,
                    env.now,
                    train.teu,
                    sum(b.teu for b in held),
                    sum(b.tonnes for b in keep),
                    sum(b.tonnes for b in held),
                )
            )
        for box in held:
            self.held_teu += box.teu
            box.held = True
            self._inspect(box, t0)

    def _leave(self, box: Container, t0: float) -> None:
        """``box``, which came on a train that reached the port at ``t0``, leaves it now."""
        now = self.env.now
        box.t_border_out = now
        if t0 >= self.warmup_h:
            self.box_clearance_h.add(now - t0)
        self.teu_out += box.teu
        self.tonnes_out += box.tonnes

    def _inspect(self, box: Container, t0: float) -> None:
        """Inspect a held box in a bay; then it waits for a train its way."""

        def inspected() -> None:
            self._held_since[box.cid] = (t0, self.env.now)
            self.held.append(box)

        self._serve(self.bays, self.inspection_h(), inspected)

    def pick_up(self, train: Train, ahead: Sequence[str]) -> None:
        """Put held, inspected boxes on ``train`` if it takes them their way and has room.

        The train takes a box its way if it calls where the box's hop ends (preferred),
        or else at a terminal from which the box's destination is reachable without
        passing this port again (the nearest such terminal; needs a planner).  A box on a
        train of another service than its hop's gets its itinerary rewritten: its hop
        ends here, the next one is this train's to where it leaves it, then the rest
        (the old one, or the one planned from that terminal).  The box's clearance ends
        now.

        Parameters
        ----------
        train
            A train cleared at the port, about to leave.
        ahead
            The places the train still calls at, in order.
        """
        if not self.held:
            return
        ahead = list(ahead)
        still = []
        teu, tonnes = 0, 0.0
        for box in self.held:
            way = None
            if train.teu + box.teu <= train.capacity_teu:
                way = self._way(box, train.service, ahead)
            if way is None:
                still.append(box)
                continue
            box.itinerary, box.hop = way
            train.add(box)
            t0, released = self._held_since.pop(box.cid)
            self._leave(box, t0)
            if t0 >= self.warmup_h:
                self.held_wait_h.add(self.env.now - released)
            teu += box.teu
            tonnes += box.tonnes
        self.held = still
        if teu and self.record:
            before = self.boarded.get(train.tid, (0, 0.0))
            self.boarded[train.tid] = (before[0] + teu, before[1] + tonnes)

    def _way(
        self, box: Container, service: str, ahead: list[str]
    ) -> tuple[tuple[Hop, ...], int] | None:
        """The itinerary and hop index ``box`` would have on a train of ``service`` that
        still calls at ``ahead``; ``None`` if that train does not take it its way."""
        hop = box.current
        if hop.to in ahead:
            if service == hop.ref:
                return box.itinerary, box.hop
            leave_at, rest = hop.to, box.itinerary[box.hop + 1 :]
        else:
            for place in ahead:
                plan = self._plan(place, box.destination)
                if plan is not None:
                    leave_at, rest = place, plan
                    break
            else:
                return None
        here = self.place
        new = (
            *box.itinerary[: box.hop],
            Hop(hop.kind, hop.ref, hop.from_, here),
            Hop("rail", service, here, leave_at),
            *rest,
        )
        return new, box.hop + 1

    def _plan(self, place: str, destination: str) -> tuple[Hop, ...] | None:
        """Hops from the terminal ``place`` to ``destination`` avoiding this port
        (memoised; ``None`` without a planner or a route)."""
        if self.planner is None:
            return None
        key = (place, destination)
        if key not in self._plans:
            self._plans[key] = self.planner(place, destination, (self.place,))
        return self._plans[key]


class _Work:
    """One piece of customs work (see :meth:`BorderPort._serve`): its steps, each a
    callback of the event it waits for."""

    __slots__ = ("done", "duration", "officer", "port", "servers")

    def __init__(
        self,
        port: BorderPort,
        servers: Servers,
        duration: float,
        done: Callable[[], None],
        officer: bool,
    ) -> None:
        self.port = port
        self.servers = servers
        self.duration = duration
        self.done = done
        self.officer = officer

    def start(self) -> None:
        """With a server: wait for working hours, then work."""
        port = self.port
        env = port.env
        now = env.now
        t = port._next_working_h(now, port.customs_down if self.officer else port.closed)
        if t > now:
            Wake(env, t - now, self.work)
        else:
            self.work()

    def work(self, _w: Wake | None = None) -> None:
        """Work for ``duration`` hours."""
        if self.officer:
            self.port.officer_busy.add(self.port.env.now, self.duration)
        Wake(self.port.env, self.duration, self.end)

    def end(self, _w: Wake) -> None:
        """The work is done: the server is free."""
        self.servers.release()
        self.done()


def _inspection_shares(
    spec: BorderSpec, commodities: Mapping[str, CommoditySpec]
) -> dict[str, tuple[float, float]]:
    """(exit, entry) inspection share of each commodity class with a share of its own;
    a share the class leaves out is the port's."""
    out = {}
    for name, c in commodities.items():
        if c.inspect_share_exit is None and c.inspect_share_entry is None:
            continue
        out[name] = (
            spec.inspect_share_exit if c.inspect_share_exit is None else c.inspect_share_exit,
            spec.inspect_share_entry if c.inspect_share_entry is None else c.inspect_share_entry,
        )
    return out
