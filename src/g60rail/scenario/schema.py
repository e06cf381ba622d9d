"""The scenario: every number a planner can tune, validated and immutable.

A :class:`Scenario` is built from a TOML file (see :mod:`g60rail.scenario.io`).  All times
are in hours unless a field name says otherwise (``_min`` minutes, ``_km`` kilometres,
``_kmh`` km/h, ``_teu`` twenty-foot equivalent units).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from g60rail.errors import FieldValueError, ScenarioError
from g60rail.random import DistSpec, as_distribution
from g60rail.scenario.base import FrozenModel
from g60rail.scenario.disruption_spec import DisruptionsSpec
from g60rail.scenario.overrides import override_data, validated
from g60rail.scenario.routes import Hop, plan_itinerary
from g60rail.scenario.station_spec import StationSpec

__all__ = [
    "BorderSpec",
    "CostSpec",
    "DemandSpec",
    "HubSpec",
    "Leg",
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

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PosInt = Annotated[int, Field(ge=1)]
# Upper bounds keep absurd inputs (a typo with extra zeros) from exhausting memory or time:
# every unit is a SimPy server (and a failure process when it can break down).
Count = Annotated[int, Field(ge=1, le=10_000)]
TrainTEU = Annotated[int, Field(ge=1, le=10_000)]
YardTEU = Annotated[int, Field(ge=1, le=10_000_000)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_WEEKLY = re.compile(r"^\s*(?:(mon|tue|wed|thu|fri|sat|sun|daily)\s+)?(\d{1,2}):(\d{2})\s*$", re.I)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_weekly_time(text: str) -> list[float]:
    """Hours after Monday 00:00 of a weekly departure such as ``"Wed 15:25"``.

    ``"daily 08:00"`` (or a bare ``"08:00"``) stands for the same time on all seven days.

    Returns
    -------
    list of float
        Hours in ``[0, 168)``, one per weekly occurrence.
    """
    m = _WEEKLY.match(text)
    if not m:
        raise ValueError(f"expected 'Wed 15:25' or 'daily 08:00', got {text!r}")
    day, hh, mm = m.group(1), int(m.group(2)), int(m.group(3))
    if hh > 23 or mm > 59:
        raise ValueError(f"no such time of day: {text!r}")
    hod = hh + mm / 60.0
    if day is None or day.lower() == "daily":
        return [24.0 * d + hod for d in range(7)]
    return [24.0 * _DAYS[day.lower()] + hod]


def _clock_h(text: str) -> float:
    m = _CLOCK.match(text)
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day such as '08:30', got {text!r}")
    return int(m.group(1)) + int(m.group(2)) / 60.0


class Meta(FrozenModel):
    """Name, description and calendar origin of a scenario."""

    name: str = Field(min_length=1)
    description: str = ""
    start: dt.datetime = Field(description="wall-clock time of simulation hour 0 (local time)")

    @field_validator("start")
    @classmethod
    def _naive(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is not None:
            raise ValueError(
                "give local wall-clock time without a UTC offset, e.g. 2025-01-06T00:00:00"
            )
        return v


class Place(FrozenModel):
    """A named location on the corridor (WGS84 degrees)."""

    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 alpha-2, e.g. CN")
    kind: Literal["hub", "terminal", "border", "city", "station", "exit"] = "city"


class Leg(FrozenModel):
    """A link between two places, usable in both directions.

    Exactly one of ``speed_kmh`` (running time = ``km / speed_kmh``) or ``running_h`` (a
    distribution of the running time) is given.  ``paths_per_day`` limits the trains that
    can enter the leg per day and direction (single-track sections); trains wait for the
    next path.
    """

    from_: str = Field(alias="from")
    to: str
    mode: Literal["rail", "rail_metre", "road"]
    km: PosFloat = Field(description="published route km (longer than the geodesic)")
    speed_kmh: PosFloat | None = None
    running_h: DistSpec | None = None
    paths_per_day: PosFloat | None = None
    name: str = ""

    @model_validator(mode="after")
    def _one_running_time(self) -> Leg:
        if (self.speed_kmh is None) == (self.running_h is None):
            raise FieldValueError(
                "give exactly one of speed_kmh and running_h",
                field="speed_kmh",
                value=self.speed_kmh,
            )
        if self.from_ == self.to:
            raise FieldValueError(
                f"a leg needs two different places, got {self.from_!r} twice",
                field="to",
                value=self.to,
            )
        return self

    @property
    def key(self) -> frozenset[str]:
        """The unordered pair of place ids this leg joins."""
        return frozenset((self.from_, self.to))

    @property
    def running_time(self) -> DistSpec:
        """The running time over the leg, hours: ``km / speed_kmh`` or ``running_h``."""
        if self.speed_kmh is not None:
            return self.km / self.speed_kmh
        assert self.running_h is not None  # one of the two, checked at validation
        return self.running_h

    @property
    def mean_running_h(self) -> float:
        """Mean running time over the leg, hours."""
        return float(as_distribution(self.running_time).mean)


class OpeningHours(FrozenModel):
    """Daily opening window ``[open, close)`` in local time; ``close`` may pass midnight."""

    open: str = "00:00"
    close: str = "24:00"

    @field_validator("open", "close")
    @classmethod
    def _clock(cls, v: str) -> str:
        _clock_h(v)
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> OpeningHours:
        if (
            _clock_h(self.open) % 24 == _clock_h(self.close) % 24
            and self.close != "24:00"
            and (self.open != "00:00")
        ):
            raise FieldValueError(
                f"empty opening window {self.open}-{self.close}", field="close", value=self.close
            )
        return self

    @property
    def open_h(self) -> float:
        """Opening hour of day."""
        return _clock_h(self.open)

    @property
    def close_h(self) -> float:
        """Closing hour of day (may be below ``open_h`` for a window over midnight)."""
        return _clock_h(self.close)


class HubSpec(FrozenModel):
    """A rail container terminal: truck gate, yard, reach stackers and loading tracks."""

    place: str
    gate_lanes: Count = Field(description="truck gate lanes, shared by trucks in and out")
    gate_time_h: DistSpec = Field(description="gate processing time per truck, hours")
    yard_teu: YardTEU = Field(description="yard capacity, TEU; trucks wait at the gate when full")
    reach_stackers: Count
    moves_per_h: PosFloat = Field(description="container moves per hour per reach stacker")
    move_time_cv: NonNegFloat = Field(
        0.0, le=3, description="coefficient of variation of a move's duration (0: constant)"
    )
    loading_tracks: Count
    shunt_h: DistSpec = Field(0.0, description="track time per train call before work starts")
    load_window_h: NonNegFloat = Field(
        4.0, description="a departing train is placed on a track this long before its time"
    )
    dwell_h: DistSpec = Field(description="time an arrived container waits for its consignee")


class DemandSpec(FrozenModel):
    """Container bookings for one service and direction.

    Trucks come at a rate of ``teu_per_week`` times the month's seasonality factor.  By
    default they arrive as a Poisson process; with ``booking_lead_h`` each departure gets a
    Poisson number of trucks (the rate times the time since the previous departure), each
    leaving its origin ``booking_lead_h`` before that departure.  A truck carries one
    40-foot box, or one or two 20-foot boxes.
    """

    teu_per_week: Annotated[float, Field(ge=0.0, le=100_000.0)] = Field(
        description="mean TEU booked per week (at most 100,000: about 2,000 trains a week)"
    )
    share_40ft: Probability = 0.5
    twin_20ft_share: Probability = Field(0.3, description="share of 20' trucks with two boxes")
    seasonality: list[NonNegFloat] = Field(
        default_factory=lambda: [1.0] * 12, description="multiplier per calendar month, Jan-Dec"
    )
    origins: dict[str, PosFloat] = Field(
        default_factory=dict, description="place -> weight; empty means the service's origin"
    )
    destinations: dict[str, PosFloat] = Field(
        default_factory=dict,
        description="place -> weight; a stop of the service, a place reached by an onward "
        "leg, or a place served by another service from one of its stops; empty means the "
        "service's last stop",
    )
    road_share: Probability = Field(0.0, description="share of bookings sent by road instead")
    booking_lead_h: DistSpec | None = Field(
        None,
        description="if given, every box is booked for a train: its truck leaves the origin "
        "this long before that departure (hours); if not, trucks arrive as a Poisson process",
    )

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"needs 12 monthly factors, got {len(v)}")
        return v


class ServiceSpec(FrozenModel):
    """A train service: its route, timetable, capacity, dispatch policy and demand.

    Dispatch policies at the origin:

    ``scheduled``
        leave at the timetabled time with whatever is loaded;
    ``full``
        leave as soon as the next waiting box does not fit (timetable = train placement);
    ``hybrid``
        leave on time if at least ``min_fill_teu`` is loaded, else keep loading until it is
        or until ``max_hold_h`` has passed.
    """

    name: str = ""
    route: list[str] = Field(min_length=2)
    departures: list[str] = Field(min_length=1, description="weekly times, e.g. 'Wed 15:25'")
    capacity_teu: TrainTEU
    policy: Literal["scheduled", "full", "hybrid"] = "scheduled"
    min_fill_teu: NonNegFloat = 0.0
    max_hold_h: NonNegFloat = 0.0
    stop_h: dict[str, NonNegFloat] = Field(
        default_factory=dict, description="dwell at intermediate stops (crew, locomotive)"
    )
    demand: DemandSpec | None = None

    @field_validator("departures")
    @classmethod
    def _times(cls, v: list[str]) -> list[str]:
        for t in v:
            parse_weekly_time(t)
        return v

    @model_validator(mode="after")
    def _policy(self) -> ServiceSpec:
        if len(set(self.route)) != len(self.route):
            raise FieldValueError("a route visits each place once", field="route", value=self.route)
        if self.policy == "hybrid" and self.min_fill_teu > self.capacity_teu:
            raise FieldValueError(
                f"min_fill_teu exceeds capacity_teu ({self.capacity_teu})",
                field="min_fill_teu",
                value=self.min_fill_teu,
            )
        return self

    @property
    def weekly_departures_h(self) -> list[float]:
        """Sorted hours after Monday 00:00 of every weekly departure."""
        return sorted(h for t in self.departures for h in parse_weekly_time(t))


class BorderSpec(FrozenModel):
    """A rail border port (customs, scan, inspection) at one place.

    For a train leaving the port's country the port acts as exit, for a train coming in as
    entry.  The train leaves when its declarations are processed and it has been scanned;
    containers selected for physical inspection are held and follow on a later train.
    """

    place: str
    officers: Count = Field(description="customs officers (declaration lanes) on duty")
    declaration_h: DistSpec = Field(description="processing time per container declaration")
    predeclared_share: Probability = Field(
        0.0, description="share of declarations already processed when the train arrives"
    )
    scanners: Count = 1
    scan_h: DistSpec = Field(description="time to scan a whole train")
    technical_h: DistSpec = Field(0.0, description="train handling at the port per train")
    inspection_bays: Count = 1
    inspection_h: DistSpec = Field(description="physical inspection per held container")
    inspect_share_exit: Probability = Field(description="share of outbound boxes inspected")
    inspect_share_entry: Probability = Field(description="share of inbound boxes inspected")
    opening: OpeningHours = Field(default_factory=OpeningHours)


class OnwardSpec(FrozenModel):
    """A leg beyond the rail network's last terminal (reload to metre gauge, trucks)."""

    from_: str = Field(alias="from")
    to: str
    mode: Literal["rail_metre", "road"]
    km: PosFloat
    speed_kmh: PosFloat
    transfer_h: DistSpec = Field(0.0, description="reload and wait before the onward leg")


class RoadSpec(FrozenModel):
    """The road alternative: trucks on the expressway, two drivers, border by road."""

    route: list[str] = Field(default_factory=list, description="places along the expressway")
    driving_h_per_day: Annotated[float, Field(gt=0, le=24)] = 20.0
    border_h: DistSpec = 0.0


class Drayage(FrozenModel):
    """Trucking from an origin city to the hub."""

    detour_factor: Annotated[float, Field(ge=1.0, le=3.0)] = 1.3
    speed_kmh: PosFloat = 55.0


class UnitCost(FrozenModel):
    """What one unit of a capacity costs (USD): to buy or build, and to run per year."""

    capital: NonNegFloat
    operating_per_year: NonNegFloat = 0.0


class CostSpec(FrozenModel):
    """Unit costs of capacities, by the dotted key a planner tunes.

    ```toml
    [costs]
    life_years = 10
    [costs.units."hub.reach_stackers"]
    capital = 450000
    operating_per_year = 60000
    ```
    """

    life_years: PosFloat = Field(10.0, description="years of operation counted in a unit's cost")
    units: dict[str, UnitCost] = Field(default_factory=dict)

    def per_unit(self) -> dict[str, float]:
        """Life-cycle cost of one unit of each capacity: capital plus operating over
        ``life_years``, USD."""
        return {
            k: u.capital + u.operating_per_year * self.life_years for k, u in self.units.items()
        }


class Scenario(FrozenModel):
    """A complete, validated, immutable description of one corridor configuration.

    A scenario read by :func:`~g60rail.scenario.io.load_scenario` remembers the files it
    was resolved from in :attr:`base_chain`; that record is not part of its content (it
    changes neither :attr:`hash` nor equality).
    """

    meta: Meta
    places: dict[str, Place] = Field(min_length=1)
    legs: list[Leg] = Field(default_factory=list)
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

    # Set by g60rail.scenario.io once the scenario is built; kept by with_overrides.
    _base_chain: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        problems = _reference_problems(self) or _route_problems(self)
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
    for bid, b in sc.borders.items():
        need(b.place, f"borders.{bid}.place")
    for sid, s in sc.services.items():
        for j, p in enumerate(s.route):
            need(p, f"services.{sid}.route.{j}")
        for a, b in zip(s.route, s.route[1:], strict=False):
            if a in places and b in places and (frozenset((a, b)), True) not in leg_keys:
                out.append(
                    ScenarioError(
                        f"no rail leg joins {a!r} and {b!r}",
                        field=f"services.{sid}.route",
                        value=s.route,
                    )
                )
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
    for i, o in enumerate(sc.onward):
        need(o.from_, f"onward.{i}.from")
        need(o.to, f"onward.{i}.to")
    for j, p in enumerate(sc.road.route):
        need(p, f"road.route.{j}")
    road_keys = {leg.key for leg in sc.legs if leg.mode == "road"}
    for j, (a, b) in enumerate(zip(sc.road.route, sc.road.route[1:], strict=False)):
        if a in places and b in places and frozenset((a, b)) not in road_keys:
            out.append(
                ScenarioError(
                    f"no road leg joins {a!r} and {b!r}", field=f"road.route.{j + 1}", value=b
                )
            )
    for i, b in enumerate(sc.disruptions.breakdowns):
        if sc.terminal(b.place) is None:
            out.append(
                ScenarioError(
                    "no hub or terminal at this place",
                    field=f"disruptions.breakdowns.{i}.place",
                    value=b.place,
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
        for j, p in enumerate(c.where):
            need(p, f"disruptions.closures.{i}.where.{j}")
        if c.kind == "line" and all(p in places for p in c.where):
            if not any(leg.key == frozenset(c.where) for leg in sc.legs):
                out.append(
                    ScenarioError(
                        "no leg joins these places",
                        field=f"disruptions.closures.{i}.where",
                        value=c.where,
                    )
                )
        elif (
            c.kind != "line"
            and c.where[0] in places
            and c.where[0] not in {b.place for b in sc.borders.values()}
        ):
            out.append(
                ScenarioError(
                    "no border port at this place",
                    field=f"disruptions.closures.{i}.where.0",
                    value=c.where[0],
                )
            )
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
