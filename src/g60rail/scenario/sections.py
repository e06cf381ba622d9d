"""The sections of a scenario that a planner fills in: places, legs, hubs, border ports,
commodities, onward legs, the road, drayage and unit costs (the train services and their
demand are in :mod:`g60rail.scenario.service_spec`, exported here too).

All times are in hours unless a field name says otherwise (``_min`` minutes, ``_km``
kilometres, ``_kmh`` km/h, ``_teu`` twenty-foot equivalent units).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from g60rail.errors import FieldValueError
from g60rail.random import DistSpec, as_distribution
from g60rail.scenario.base import FrozenModel
from g60rail.scenario.fields import Count, NonNegFloat, PosFloat, Probability, YardTEU
from g60rail.scenario.service_spec import (
    GENERAL,
    DemandSpec,
    EmptiesSpec,
    ServiceSpec,
    parse_weekly_time,
)

__all__ = [
    "GENERAL",
    "BorderSpec",
    "CommoditySpec",
    "CostSpec",
    "DemandSpec",
    "Drayage",
    "EmptiesSpec",
    "HubSpec",
    "Leg",
    "Meta",
    "OnwardSpec",
    "OpeningHours",
    "Place",
    "RoadSpec",
    "ServiceSpec",
    "UnitCost",
    "parse_weekly_time",
]


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _clock_h(text: str) -> float:
    m = _CLOCK.match(text)
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day such as '08:30', got {text!r}")
    return int(m.group(1)) + int(m.group(2)) / 60.0


UtcOffset = Annotated[float, Field(ge=-12.0, le=14.0)]


class Meta(FrozenModel):
    """Name, description and calendar origin of a scenario.

    The model's clock reads hours from ``start`` in the zone ``utc_offset_h`` (China
    Standard Time, UTC+8, by default); timetables and opening hours elsewhere are written
    in their place's local time (:class:`Place`) and converted.
    """

    name: str = Field(min_length=1)
    description: str = ""
    start: dt.datetime = Field(description="wall-clock time of simulation hour 0 (local time)")
    utc_offset_h: UtcOffset = Field(
        8.0, description="time zone of the model's clock and of start, hours east of UTC"
    )

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
    utc_offset_h: UtcOffset | None = Field(
        None, description="local time zone, hours east of UTC (default: the model's clock)"
    )


class Leg(FrozenModel):
    """A link between two places, usable in both directions.

    Exactly one of ``speed_kmh`` (running time = ``km / speed_kmh``) or ``running_h`` (a
    distribution of the running time) is given.  A rail leg is a coarse block: one
    double-track section whose trains one way enter at least ``24 / paths_per_day`` hours
    apart.  Railway lines with stations, single track and meets are ``[lines]``
    (:class:`~g60rail.scenario.line_spec.LineSpec`); a service stop pair on a line needs
    no leg.
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
    """A rail container terminal: truck gate, yard, reach stackers and loading tracks.

    The truck side is the terminal's: its gate's opening hours, the hour-of-day profile of
    the trucks that come to it and the cut-off of its departures, all in the local time
    of its place.  The profile belongs to the terminal rather than to each service's
    demand because what shapes it is the terminal's landside (its gate hours, its
    customers' shifts, the local road traffic), and every service trucked in through one
    gate shares it; it is also what a terminal measures, from its own gate records (e.g.
    Kourounioti & Polydoropoulou, time-of-day models of truck arrivals from terminal
    operating system data, TU Delft repository 2018).  A service starting at a place
    without a terminal has trucks round the clock.
    """

    place: str
    gate_lanes: Count = Field(description="truck gate lanes, shared by trucks in and out")
    gate_time_h: DistSpec = Field(description="gate processing time per truck, hours")
    yard_teu: YardTEU = Field(description="yard capacity, TEU; trucks wait at the gate when full")
    reach_stackers: Count
    moves_per_h: PosFloat = Field(description="container moves per hour per reach stacker")
    move_time_cv: NonNegFloat = Field(
        0.0, le=3, description="coefficient of variation of a move's duration (0: constant)"
    )
    stacker_priority: Literal["trains_first", "fcfs"] = Field(
        "trains_first",
        description="order of the reach stackers' work: trains_first serves train loading "
        "and unloading before trucks (the rule of rail terminals that run to a timetable); "
        "fcfs serves every move in the order it was asked for, so trucks delay loading and "
        "a train may leave boxes behind",
    )
    loading_tracks: Count
    ad_tracks: Count | None = Field(
        None,
        description="arrival/departure tracks, where trains wait for their time, their "
        "fill or a loading track and hold a loading track only while worked; none: "
        "trains wait on the loading tracks",
    )
    shunt_h: DistSpec = Field(0.0, description="track time per train call before work starts")
    load_window_h: NonNegFloat = Field(
        4.0, description="a departing train is placed on a track this long before its time"
    )
    dwell_h: DistSpec = Field(description="time an arrived container waits for its consignee")
    gate_hours: OpeningHours = Field(
        default_factory=OpeningHours,
        description="daily opening of the truck gate, local time; trucks that come while it "
        "is closed wait (in and out), and a truck is processed only if it is done by closing",
    )
    truck_arrival_profile: list[NonNegFloat] | None = Field(
        None,
        description="24 weights of truck arrivals at the gate by local hour of day, 00:00 "
        "first (scaled to a mean of 1: the daily number is unchanged); none: round the clock",
    )
    cutoff_h: NonNegFloat = Field(
        0.0,
        le=168.0,
        description="a box whose truck passes the in-gate later than this before its train's "
        "timetabled departure waits for the next one (a held train takes boxes this long "
        "after their in-gate); 0: no cut-off",
    )

    @field_validator("truck_arrival_profile")
    @classmethod
    def _hours_of_day(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (len(v) != 24 or sum(v) <= 0):
            raise ValueError(f"needs 24 hourly weights, not all zero, got {len(v)}: {v!r}")
        return v


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


GENERAL_TONNES_PER_TEU = 12.0
"""Gross cargo tonnes per TEU of the default ``general`` class: estimate (corridor-facts
"Songjiang hub": about 2 Mt a year at about 12 t per TEU, E)."""


class CommoditySpec(FrozenModel):
    """A commodity class: what its boxes weigh and, optionally, its own inspection shares.

    ``inspect_share_exit`` / ``inspect_share_entry``, when given, replace every border
    port's shares for boxes of this class (e.g. fruit entering China: 100 % quarantine).
    ``share_40ft``, when given, replaces the demand's for trucks of this class (dense
    cargo such as ores travels in 20-foot boxes, whose payload limit it reaches first).
    """

    name: str = ""
    tonnes_per_teu: Annotated[float, Field(gt=0.0, le=40.0)] = Field(
        description="gross cargo tonnes per TEU (a 40-foot box weighs twice this)"
    )
    share_40ft: Probability | None = Field(
        None, description="share of this class's trucks with one 40-foot box; none: demand's"
    )
    inspect_share_exit: Probability | None = Field(
        None, description="share of this class's outbound boxes inspected; none: the port's"
    )
    inspect_share_entry: Probability | None = Field(
        None, description="share of this class's inbound boxes inspected; none: the port's"
    )


def default_commodities() -> dict[str, CommoditySpec]:
    """The commodity classes of a scenario that defines none: ``general`` only."""
    return {GENERAL: CommoditySpec(name="general cargo", tonnes_per_teu=GENERAL_TONNES_PER_TEU)}


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
