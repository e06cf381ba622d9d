"""Boxes and trains an hour, from the demand and timetables of a scenario alone.

The flows :func:`g60rail.experiment.preview.preview` turns into offered loads: every box
booked by rail on the itinerary of its service and destination, and the empties sent
back (:func:`booked_flows`); the part of them held for inspection at a border port that
leaves it on the first train of any service with room for it (:func:`pickup`,
:func:`rerouted`, :func:`merged`); and what each service's trains take on, how many of
them run and how full they leave (:func:`services`).  All rates are per hour, averaged
over the days and months the preview covers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from g60rail.random import DistSpec
from g60rail.scenario.routes import Hop
from g60rail.scenario.schema import BorderSpec, Scenario, ServiceSpec

__all__ = [
    "Flow",
    "Pickup",
    "Service",
    "booked_flows",
    "held_share",
    "merged",
    "month_weights",
    "pickup",
    "port_calls",
    "rerouted",
    "services",
]


# -- box flows ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flow:
    """Boxes of one kind per hour: one service, destination and commodity class, or its
    empties, or the part of them held at a border port that left it on another train.

    Attributes
    ----------
    hops
        Itinerary of the boxes, first hop first.
    b20, b40
        20-foot and 40-foot boxes per hour.
    trucks
        Trucks per hour bringing them to their first terminal (0: they start elsewhere).
    commodity
        Commodity class, or ``"empty"``.
    lead
        Booking lead of the demand (None: Poisson trucks, or empties).
    """

    hops: tuple[Hop, ...]
    b20: float
    b40: float
    trucks: float
    commodity: str
    lead: DistSpec | None

    @property
    def boxes(self) -> float:
        """Boxes per hour, of either length."""
        return self.b20 + self.b40

    @property
    def teu(self) -> float:
        """TEU per hour."""
        return self.b20 + 2.0 * self.b40

    def scaled(self, q: float, hops: tuple[Hop, ...] | None = None) -> Flow:
        """The share ``q`` (0-1) of the flow, on the itinerary ``hops`` if given."""
        return replace(
            self, b20=q * self.b20, b40=q * self.b40, trucks=q * self.trucks, hops=hops or self.hops
        )


def month_weights(sc: Scenario, first_day: float, days: float) -> np.ndarray:
    """Share of the period's days in each calendar month (12 values summing to 1): the
    period of ``days`` days (at least one) from ``first_day`` days after the start."""
    start = sc.meta.start + dt.timedelta(days=first_day)
    counts = np.zeros(12)
    for k in range(max(1, round(days))):
        counts[(start + dt.timedelta(days=k)).month - 1] += 1
    return counts / counts.sum()


def booked_flows(sc: Scenario, months: np.ndarray, terminals: set[str]) -> list[Flow]:
    """Booked boxes and their empties, as :mod:`g60rail.model.demand` draws them.

    Parameters
    ----------
    sc
        The scenario.
    months
        Weight of each calendar month in the period (:func:`month_weights`).
    terminals
        Places with a container terminal (the hub and the terminals): boxes starting
        there come by truck through the gate; empties go back from those among them.

    Returns
    -------
    list of Flow
        One flow per service, destination and commodity class booked by rail, and one
        per class of its empties sent back; boxes per hour.
    """
    out = []
    road = sc.road.route
    for sid, s in sc.services.items():
        d = s.demand
        if d is None or d.teu_per_week <= 0:
            continue
        total = sum(d.commodities.values())
        own = {c: sc.commodities[c].share_40ft for c in d.commodities}
        p40 = {c: d.share_40ft if p is None else p for c, p in own.items()}
        twin = d.twin_20ft_share
        per_truck = sum(w * (1 + p40[c] + (1 - p40[c]) * twin) for c, w in d.commodities.items())
        trucks = d.teu_per_week * float(months @ d.seasonality) / 168.0 / (per_truck / total)
        dests = d.destinations or {s.route[-1]: 1.0}
        for dest, wd in dests.items():
            ok = s.route[0] in road and dest in road and road.index(s.route[0]) < road.index(dest)
            k = trucks * wd / sum(dests.values()) * (1.0 - (d.road_share if ok else 0.0))
            hops = sc.itinerary(sid, dest)
            back = None
            if s.empties is not None and dest in terminals and dest != s.route[0]:
                back = sc.itinerary_from(dest, s.route[0])
            for c, w in d.commodities.items():
                n = k * w / total  # trucks
                b20, b40 = n * (1 - p40[c]) * (1 + twin), n * p40[c]
                gate = n if hops[0].from_ in terminals else 0.0
                out.append(Flow(hops, b20, b40, gate, c, d.booking_lead_h))
                if back and s.empties is not None:
                    q = s.empties.share
                    out.append(Flow(back, q * b20, q * b40, q * (b20 + b40), "empty", None))
    return out


def held_share(sc: Scenario, port: BorderSpec, route: list[str], k: int, commodity: str) -> float:
    """Share (0-1) of a class's boxes held for inspection at the port ``route[k]``: the
    class's own exit or entry share if it sets one, else the port's."""
    out = k + 1 < len(route) and sc.places[route[k + 1]].country != sc.places[port.place].country
    cs = sc.commodities.get(commodity)
    own = None if cs is None else cs.inspect_share_exit if out else cs.inspect_share_entry
    return (port.inspect_share_exit if out else port.inspect_share_entry) if own is None else own


def port_calls(sc: Scenario, fl: Flow) -> Iterator[tuple[Hop, list[str], int, BorderSpec]]:
    """(hop, route of its service, index of the port in it, port) of every border port a
    flow's trains reach."""
    ports = {b.place: b for b in sc.borders.values()}
    for hop in fl.hops:
        if hop.kind == "rail":
            route = sc.services[hop.ref].route
            for k in range(route.index(hop.from_) + 1, route.index(hop.to) + 1):
                if route[k] in ports:
                    yield hop, route, k, ports[route[k]]


# -- trains ------------------------------------------------------------------------------------
@dataclass
class Service:
    """What a service's trains take on where they start, per hour, and how many run (held
    boxes they pick up at a border port take the room of its own boxes held there).

    Attributes
    ----------
    teu, boxes, b40
        TEU, boxes and 40-foot boxes per hour loaded where its trains start.
    ending
        Boxes per hour leaving its trains at each stop.
    trains
        Trains per hour.
    fill
        TEU a train leaves with (``full``: its capacity less the odd TEU).
    capacity
        TEU per hour its timetable can carry.
    gaps
        Hours from each weekly departure to the next.
    """

    teu: float = 0.0
    boxes: float = 0.0
    b40: float = 0.0
    ending: dict[str, float] = field(default_factory=dict)
    trains: float = 0.0
    fill: float = 0.0
    capacity: float = 0.0
    gaps: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _gaps(s: ServiceSpec) -> np.ndarray:
    """Hours from each weekly departure to the next."""
    t = np.asarray(s.weekly_departures_h)
    return np.diff(np.append(t, t[0] + 168.0))


def services(sc: Scenario, flows: list[Flow]) -> dict[str, Service]:
    """The trains of every service (by id) that carry ``flows``: a ``full`` train leaves
    when its next box does not fit, the others at every departure of their timetable."""
    out = {sid: Service() for sid in sc.services}
    for fl in flows:
        for hop in fl.hops:
            if hop.kind == "rail":
                v = out[hop.ref]
                if hop.from_ == sc.services[hop.ref].route[0]:  # loaded where trains start
                    v.teu, v.boxes, v.b40 = v.teu + fl.teu, v.boxes + fl.boxes, v.b40 + fl.b40
                v.ending[hop.to] = v.ending.get(hop.to, 0.0) + fl.boxes
    for sid, s in sc.services.items():
        v = out[sid]
        v.gaps = _gaps(s)
        slots = v.gaps.size / 168.0
        v.fill, v.trains = float(s.capacity_teu), slots
        if s.policy == "full":
            # a full train leaves when the next box does not fit: one TEU short when a
            # 40-foot box comes at capacity - 1, a level hit with chance 1 / (TEU a box)
            if v.boxes > 0:
                v.fill = max(1.0, s.capacity_teu - v.b40 / v.teu)
            v.trains = min(v.teu / v.fill, slots)
        v.capacity = v.fill * slots
    return out


# -- boxes held at border ports ----------------------------------------------------------------
@dataclass
class Pickup:
    """Where held boxes may board: each (service, border port)'s trains an hour with room
    there for a held box, and the itineraries planned on from terminals (memo)."""

    room: dict[tuple[str, str], float]
    plans: dict[tuple[str, str, str], tuple[Hop, ...] | None] = field(default_factory=dict)
    memo: dict[tuple[tuple[Hop, ...], int, str], list[tuple[tuple[Hop, ...], float]]] = field(
        default_factory=dict
    )

    def ways(
        self, sc: Scenario, hops: tuple[Hop, ...], i: int, port: str
    ) -> list[tuple[tuple[Hop, ...], float]]:
        """(itinerary, chance) of each way a box held at ``port`` on hop ``i`` goes on."""
        key = (hops, i, port)
        if key not in self.memo:
            self.memo[key] = _ways(sc, hops, i, port, self)
        return self.memo[key]

    def plan(self, sc: Scenario, place: str, dest: str, port: str) -> tuple[Hop, ...] | None:
        """The itinerary from ``place`` to ``dest`` that does not go back to ``port``."""
        key = (place, dest, port)
        if key not in self.plans:
            self.plans[key] = sc.itinerary_from(place, dest, (port,))
        return self.plans[key]


def _ways(
    sc: Scenario, hops: tuple[Hop, ...], i: int, port: str, pick: Pickup
) -> list[tuple[tuple[Hop, ...], float]]:
    """(itinerary, chance) of each way a box held at ``port`` on hop ``i`` may go on, as
    :meth:`g60rail.model.border.BorderPort.pick_up` rewrites it, in proportion to the
    trains with room for it."""
    hop, dest = hops[i], hops[-1].to
    ways: list[tuple[tuple[Hop, ...], float]] = []
    for sid, s in sc.services.items():
        if port not in s.route[:-1] or pick.room.get((sid, port), 0.0) <= 0:
            continue
        ahead = s.route[s.route.index(port) + 1 :]
        rest: tuple[Hop, ...] | None = None
        if hop.to in ahead:
            leave, rest = hop.to, hops[i + 1 :]
        else:
            for leave in ahead:
                rest = pick.plan(sc, leave, dest, port)
                if rest is not None:
                    break
        if rest is None:
            continue
        if sid == hop.ref and leave == hop.to:
            ways.append((hops, pick.room[sid, port]))
        else:
            cut = (Hop(hop.kind, hop.ref, hop.from_, port), Hop("rail", sid, port, leave))
            ways.append(((*hops[:i], *cut, *rest), pick.room[sid, port]))
    total = sum(w for _, w in ways)
    return [(h, w / total) for h, w in ways]


def pickup(sc: Scenario, flows: list[Flow]) -> Pickup:
    """Trains an hour of each service with room at each port for a held box (2 TEU): its
    spare TEU from the origin, and the TEU of its own boxes held there."""
    svc = services(sc, flows)
    held: dict[tuple[str, str], float] = defaultdict(float)
    for fl in flows:
        for hop, route, k, port in port_calls(sc, fl):
            held[hop.ref, port.place] += fl.teu * held_share(sc, port, route, k, fl.commodity)
    room: dict[tuple[str, str], float] = {}
    for sid, s in sc.services.items():
        v = svc[sid]
        for p in (p for p in s.route[1:-1] if p in {b.place for b in sc.borders.values()}):
            if v.trains > 0:
                spare = v.fill - v.teu / v.trains + held[sid, p] / v.trains
                room[sid, p] = v.trains * min(1.0, max(0.0, spare) / 2.0)
    return Pickup(room)


def rerouted(sc: Scenario, fl: Flow, pick: Pickup, i0: int = 0, k0: int = 0) -> list[Flow]:
    """The flow split at each port by the boxes held there and where they leave it, from
    hop ``i0`` (and, on it, from index ``k0`` of its service's route) on."""
    ports = {b.place: b for b in sc.borders.values()}
    for i in range(i0, len(fl.hops)):
        hop = fl.hops[i]
        if hop.kind != "rail":
            continue
        route = sc.services[hop.ref].route
        for k in range(
            max(k0 if i == i0 else 0, route.index(hop.from_) + 1), route.index(hop.to) + 1
        ):
            port = ports.get(route[k])
            share = 0.0 if port is None else held_share(sc, port, route, k, fl.commodity)
            ways = pick.ways(sc, fl.hops, i, route[k]) if share > 0 else []
            if ways:
                out = rerouted(sc, fl.scaled(1 - share), pick, i, k + 1)
                for hops, q in ways:
                    part = fl.scaled(share * q, hops)
                    if hops == fl.hops:
                        out += rerouted(sc, part, pick, i, k + 1)
                    else:  # on another train from the port on: its hop i + 1
                        out += rerouted(sc, part, pick, i + 1)
                return out
    return [fl]


def merged(parts: Iterable[Flow]) -> list[Flow]:
    """Flows of the same boxes (itinerary, class, booking, by truck or not) summed."""
    out: dict[tuple[object, ...], Flow] = {}
    for f in parts:
        key = (f.hops, f.commodity, f.lead, f.trucks > 0)
        was = out.get(key)
        out[key] = (
            f
            if was is None
            else Flow(
                f.hops, was.b20 + f.b20, was.b40 + f.b40, was.trucks + f.trucks, f.commodity, f.lead
            )
        )
    return list(out.values())
