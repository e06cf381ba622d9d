"""The scenario: every number a planner can tune, validated and immutable.

A :class:`Scenario` is built from a TOML file (see :mod:`g60rail.scenario.io`) out of the
sections of :mod:`g60rail.scenario.sections`, :mod:`~g60rail.scenario.line_spec`,
:mod:`~g60rail.scenario.station_spec` and :mod:`~g60rail.scenario.disruption_spec`; the
checks that span sections (references between them, routes) run when it is built.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from g60rail.errors import ScenarioError
from g60rail.scenario.base import FrozenModel
from g60rail.scenario.disruption_spec import DisruptionsSpec
from g60rail.scenario.footprint_spec import FootprintSpec
from g60rail.scenario.line_spec import LineSpec
from g60rail.scenario.overrides import override_data, validated
from g60rail.scenario.routes import Hop, plan_from, plan_itinerary
from g60rail.scenario.sections import (
    GENERAL,
    BorderSpec,
    CommoditySpec,
    CostSpec,
    DemandSpec,
    Drayage,
    HubSpec,
    Leg,
    Meta,
    OnwardSpec,
    OpeningHours,
    Place,
    RoadSpec,
    ServiceSpec,
    UnitCost,
    default_commodities,
    parse_weekly_time,
)
from g60rail.scenario.station_spec import StationSpec

__all__ = [
    "BorderSpec",
    "CommoditySpec",
    "CostSpec",
    "DemandSpec",
    "Drayage",
    "HubSpec",
    "Leg",
    "LineSpec",
    "Meta",
    "OnwardSpec",
    "OpeningHours",
    "Place",
    "RoadSpec",
    "Scenario",
    "ServiceSpec",
    "UnitCost",
    "parse_weekly_time",
]


class Scenario(FrozenModel):
    """A complete, validated, immutable description of one corridor configuration.

    A scenario read by :func:`~g60rail.scenario.io.load_scenario` remembers the files it
    was resolved from in :attr:`base_chain`; that record is not part of its content (it
    changes neither :attr:`hash` nor equality).
    """

    meta: Meta
    places: dict[str, Place] = Field(min_length=1)
    legs: list[Leg] = Field(default_factory=list)
    lines: dict[str, LineSpec] = Field(default_factory=dict)
    hub: HubSpec
    terminals: dict[str, HubSpec] = Field(default_factory=dict)
    services: dict[str, ServiceSpec] = Field(default_factory=dict)
    borders: dict[str, BorderSpec] = Field(default_factory=dict)
    onward: list[OnwardSpec] = Field(default_factory=list)
    road: RoadSpec = Field(default_factory=RoadSpec)
    drayage: Drayage = Field(default_factory=Drayage)
    station: StationSpec | None = None
    disruptions: DisruptionsSpec = Field(default_factory=DisruptionsSpec)
    costs: CostSpec = Field(default_factory=CostSpec)
    footprint: FootprintSpec | None = None
    commodities: dict[str, CommoditySpec] = Field(default_factory=default_commodities)

    # Set by g60rail.scenario.io once the scenario is built; kept by with_overrides.
    _base_chain: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("commodities")
    @classmethod
    def _with_general(cls, v: dict[str, CommoditySpec]) -> dict[str, CommoditySpec]:
        """Every scenario has the default class ``general`` (demand uses it unless told)."""
        return v if GENERAL in v else {**default_commodities(), **v}

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        problems = (
            _reference_problems(self)
            or _line_problems(self)
            or _pool_problems(self)
            or _route_problems(self)
            or _empties_problems(self)
        )
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise ScenarioError("invalid references", problems=problems)
        return self

    @property
    def base_chain(self) -> tuple[str, ...]:
        """Where this scenario was resolved from, itself first and the root base last.

        Each entry is the label that error messages use: ``"NAME (packaged)"`` for a
        packaged scenario, the file's path for a file (a base's path joined to the folder
        of the file that names it), e.g. ``("peak_season (packaged)", "baseline
        (packaged)")``.  A scenario with no base has one entry; one built from plain data
        (:func:`~g60rail.scenario.io.scenario_from_dict`) has none.
        """
        return self._base_chain

    def __eq__(self, other: object) -> bool:
        """Equal content, equal scenario: :attr:`base_chain` is provenance, not content."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    # -- conveniences -------------------------------------------------------------------
    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A new scenario with dotted-key overrides applied (this one is unchanged).

        Parameters
        ----------
        overrides
            e.g. ``{"hub.reach_stackers": 4, "services.g60.capacity_teu": 60}``.
        """
        data = override_data(self.model_dump(mode="json", by_alias=True), overrides)
        new = validated(Scenario, data)
        new._base_chain = self._base_chain
        return new

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data that validates back to an equal scenario."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON form (first 16 hex digits)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def terminal(self, place: str) -> HubSpec | None:
        """The terminal (the hub included) at ``place``, if there is one."""
        if self.hub.place == place:
            return self.hub
        return self.terminals.get(place)

    def line_between(self, a: str, b: str) -> str | None:
        """The id of a line on which ``a`` and ``b`` are both stations, if any."""
        for line_id, line in self.lines.items():
            ids = line.station_ids
            if a in ids and b in ids and a != b:
                return line_id
        return None

    def limited_stations(self, line_id: str) -> list[bool]:
        """For each station of a line, whether its tracks limit the trains standing there
        (an intermediate station without a terminal)."""
        stations = self.lines[line_id].stations
        last = len(stations) - 1
        return [0 < i < last and self.terminal(st.id) is None for i, st in enumerate(stations)]

    def pool_of(self, service: str) -> str:
        """The train-set pool of a service: its ``pool``, else its id without
        ``_return`` (a service and its return share their sets)."""
        return self.services[service].pool or service.removesuffix("_return")

    def train_sets(self) -> dict[str, int]:
        """Pools with a limited number of train sets: pool -> sets."""
        out: dict[str, int] = {}
        for sid, s in self.services.items():
            if s.train_sets is not None:
                out[self.pool_of(sid)] = s.train_sets
        return out

    def itinerary(self, service: str, destination: str) -> tuple[Hop, ...]:
        """The hops that take a box booked on ``service`` to ``destination``.

        Raises
        ------
        ScenarioError
            No service, onward leg or connection reaches the destination.
        """
        return plan_itinerary(
            {sid: s.route for sid, s in self.services.items()},
            [(o.from_, o.to) for o in self.onward],
            {self.hub.place, *(t.place for t in self.terminals.values())},
            service,
            destination,
        )

    def itinerary_from(
        self, place: str, destination: str, avoid: tuple[str, ...] = ()
    ) -> tuple[Hop, ...] | None:
        """The hops that take a box standing at the terminal ``place`` to ``destination``
        on trains that start there (see :func:`~g60rail.scenario.routes.plan_from`).

        Parameters
        ----------
        place, destination
            Place ids.
        avoid
            Places the box must not pass through again (a border port it has just left).

        Returns
        -------
        tuple of Hop or None
            The hops (empty at the destination itself), ``None`` when there is no route.
        """
        return plan_from(
            {sid: s.route for sid, s in self.services.items()},
            [(o.from_, o.to) for o in self.onward],
            {self.hub.place, *(t.place for t in self.terminals.values())},
            place,
            destination,
            avoid,
        )


def _reference_problems(sc: Scenario) -> list[ScenarioError]:
    """Cross-references that single fields cannot check (unknown places, missing legs)."""
    places = sc.places
    out: list[ScenarioError] = []

    def need(place: str, field: str) -> None:
        if place not in places:
            out.append(ScenarioError("unknown place id", field=field, value=place))

    leg_keys = set()
    for i, leg in enumerate(sc.legs):
        need(leg.from_, f"legs.{i}.from")
        need(leg.to, f"legs.{i}.to")
        leg_keys.add((leg.key, leg.mode in ("rail", "rail_metre")))
        on = sc.line_between(leg.from_, leg.to) if leg.mode != "road" else None
        if on is not None:  # the line would carry the trains and the leg be ignored
            out.append(
                ScenarioError(
                    f"both ends are stations of line {on!r}, which carries the trains "
                    "between them; remove the rail leg",
                    field=f"legs.{i}",
                    value=[leg.from_, leg.to],
                )
            )
    need(sc.hub.place, "hub.place")
    for tid, t in sc.terminals.items():
        need(t.place, f"terminals.{tid}.place")
        if t.place == sc.hub.place:
            out.append(
                ScenarioError(
                    "the hub's place has a terminal twice",
                    field=f"terminals.{tid}.place",
                    value=t.place,
                )
            )
    for bid, port in sc.borders.items():
        need(port.place, f"borders.{bid}.place")
    for sid, s in sc.services.items():
        for j, p in enumerate(s.route):
            need(p, f"services.{sid}.route.{j}")
        for a, z in zip(s.route, s.route[1:], strict=False):
            joined = sc.line_between(a, z) is not None or (frozenset((a, z)), True) in leg_keys
            if a in places and z in places and not joined:
                out.append(
                    ScenarioError(
                        f"no rail leg or line joins {a!r} and {z!r}",
                        field=f"services.{sid}.route",
                        value=s.route,
                    )
                )
        out.extend(_line_change_problems(sc, sid, s.route))
        for p in s.stop_h:
            if p not in s.route:
                out.append(
                    ScenarioError(
                        "not a stop of this service", field=f"services.{sid}.stop_h.{p}", value=p
                    )
                )
        if s.demand is not None:
            for p in s.demand.origins:
                need(p, f"services.{sid}.demand.origins.{p}")
            for p in s.demand.destinations:
                need(p, f"services.{sid}.demand.destinations.{p}")
            for name in s.demand.commodities:
                if name not in sc.commodities:
                    out.append(
                        ScenarioError(
                            f"unknown commodity class (known: {', '.join(sc.commodities)})",
                            field=f"services.{sid}.demand.commodities.{name}",
                            value=name,
                        )
                    )
    for i, o in enumerate(sc.onward):
        need(o.from_, f"onward.{i}.from")
        need(o.to, f"onward.{i}.to")
    for j, p in enumerate(sc.road.route):
        need(p, f"road.route.{j}")
    road_keys = {leg.key for leg in sc.legs if leg.mode == "road"}
    for j, (a, z) in enumerate(zip(sc.road.route, sc.road.route[1:], strict=False)):
        if a in places and z in places and frozenset((a, z)) not in road_keys:
            out.append(
                ScenarioError(
                    f"no road leg joins {a!r} and {z!r}", field=f"road.route.{j + 1}", value=z
                )
            )
    for i, bd in enumerate(sc.disruptions.breakdowns):
        if sc.terminal(bd.place) is None:
            out.append(
                ScenarioError(
                    "no hub or terminal at this place",
                    field=f"disruptions.breakdowns.{i}.place",
                    value=bd.place,
                )
            )
    data = sc.model_dump(by_alias=True)
    for key in sc.costs.units:
        node: Any = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, (int, float)) or isinstance(node, bool):
            out.append(
                ScenarioError(
                    "not a numeric capacity of this scenario", field=f"costs.units.{key}", value=key
                )
            )
    for i, c in enumerate(sc.disruptions.closures):
        for name in ("start", "end"):
            when = getattr(c, name)
            if when.tzinfo is not None:
                out.append(
                    ScenarioError(
                        "give local wall-clock time without a UTC offset, as meta.start",
                        field=f"disruptions.closures.{i}.{name}",
                        value=when.isoformat(),
                    )
                )
        stations = {st for line in sc.lines.values() for st in line.station_ids}
        for j, p in enumerate(c.where):
            if not (c.kind == "line" and p in stations):
                need(p, f"disruptions.closures.{i}.where.{j}")
        if c.kind == "line":
            known = all(p in places or p in stations for p in c.where)
            on_leg = any(leg.key == frozenset(c.where) for leg in sc.legs)
            if known and not on_leg and sc.line_between(*c.where) is None:
                out.append(
                    ScenarioError(
                        "not two stations of one line, nor the two places of a leg",
                        field=f"disruptions.closures.{i}.where",
                        value=c.where,
                    )
                )
        elif c.where[0] in places and c.where[0] not in {b.place for b in sc.borders.values()}:
            out.append(
                ScenarioError(
                    "no border port at this place",
                    field=f"disruptions.closures.{i}.where.0",
                    value=c.where[0],
                )
            )
    return out


def _empties_problems(sc: Scenario) -> list[ScenarioError]:
    """Every terminal where a service with empties delivers has trains back to its origin."""
    out: list[ScenarioError] = []
    terminals = {sc.hub.place, *(t.place for t in sc.terminals.values())}
    for sid, s in sc.services.items():
        if s.empties is None or s.demand is None:
            continue
        for dest in s.demand.destinations:
            if dest in terminals and sc.itinerary_from(dest, s.route[0]) is None:
                out.append(
                    ScenarioError(
                        f"no train takes an empty box from {dest!r} back to {s.route[0]!r}",
                        field=f"services.{sid}.empties",
                        value=dest,
                    )
                )
    return out


def _pool_problems(sc: Scenario) -> list[ScenarioError]:
    """A pool's services agree on its number of sets, and every set can come back: each
    origin of the pool is the last stop of another of its services."""
    out: list[ScenarioError] = []
    sizes: dict[str, tuple[str, int]] = {}
    for sid, s in sc.services.items():
        pool = sc.pool_of(sid)
        if s.train_sets is None:
            continue
        if pool in sizes and sizes[pool][1] != s.train_sets:
            out.append(
                ScenarioError(
                    f"pool {pool!r} has {sizes[pool][1]} sets in services.{sizes[pool][0]}",
                    field=f"services.{sid}.train_sets",
                    value=s.train_sets,
                )
            )
        sizes.setdefault(pool, (sid, s.train_sets))
    for pool in sizes:
        members = [sid for sid in sc.services if sc.pool_of(sid) == pool]
        ends = {sc.services[m].route[-1] for m in members}
        for m in members:
            if sc.services[m].route[0] not in ends:
                out.append(
                    ScenarioError(
                        f"the sets of pool {pool!r} never come back to "
                        f"{sc.services[m].route[0]!r}: no service of the pool ends there",
                        field=f"services.{m}.route.0",
                        value=sc.services[m].route[0],
                    )
                )
    return out


def _line_problems(sc: Scenario) -> list[ScenarioError]:
    """Stations that limit trains need tracks; section ids name one section each."""
    out: list[ScenarioError] = []
    seen: dict[str, str] = {}
    for line_id, line in sc.lines.items():
        for i, (st, limited) in enumerate(
            zip(line.stations, sc.limited_stations(line_id), strict=True)
        ):
            if limited and st.tracks is None:
                out.append(
                    ScenarioError(
                        "a station inside a line needs its number of tracks (2 or more), "
                        "unless a terminal stands there",
                        field=f"lines.{line_id}.stations.{i}.tracks",
                        value=None,
                    )
                )
        for sid in line.section_ids:
            if sid in seen:
                out.append(
                    ScenarioError(
                        f"section {sid!r} is on line {seen[sid]!r} too; section ids name "
                        "one section (rename a station)",
                        field=f"lines.{line_id}.stations",
                        value=sid,
                    )
                )
            seen[sid] = line_id
    return out


def _line_change_problems(sc: Scenario, sid: str, route: list[str]) -> list[ScenarioError]:
    """A train changes lines only where it holds no track of either line (a terminal or
    an end of both), so that the rule that keeps a line free of deadlock holds."""
    out = []
    for i in range(1, len(route) - 1):
        a, b, c = route[i - 1], route[i], route[i + 1]
        before, after = sc.line_between(a, b), sc.line_between(b, c)
        if before is None or after is None or before == after:
            continue
        for line_id in (before, after):
            ids = sc.lines[line_id].station_ids
            if sc.limited_stations(line_id)[ids.index(b)]:
                out.append(
                    ScenarioError(
                        f"the route changes from line {before!r} to {after!r} at {b!r}, "
                        f"a station inside line {line_id!r}; change lines at a terminal "
                        "or at an end of both lines",
                        field=f"services.{sid}.route.{i}",
                        value=b,
                    )
                )
                break
    return out


def _route_problems(sc: Scenario) -> list[ScenarioError]:
    """Every demand destination must be reachable from its service's origin."""
    out = []
    for sid, s in sc.services.items():
        if s.demand is None:
            continue
        for dest in s.demand.destinations or {s.route[-1]: 1.0}:
            try:
                sc.itinerary(sid, dest)
            except ScenarioError as err:
                out.append(err)
    return out
