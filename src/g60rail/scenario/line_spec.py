"""Railway lines as a planner describes them: stations with their tracks, the sections
between them (single or double track), daily maintenance windows and passenger paths.

```toml
[lines.china_laos]
name = "China-Laos Railway"
track = "single"                 # default of every section
speed_kmh = 60.0                 # freight running speed (or per section)
headway_min = 10.0               # double track: minimum time between two trains
station_interval_min = 4.0       # single track: a section is free this long after a train
maintenance = { start = "00:30", duration_min = 240 }   # daily, local time
stations = [
  { id = "kunming", km = 0 },                 # a place with a terminal: no track limit
  { id = "yuxi", km = 88, tracks = 6 },       # a station with passing loops
  { id = "mohan", km = 613, tracks = 10 },
]
[lines.china_laos.sections.kunming_yuxi]      # overrides for one section: "<from>_<to>"
track = "double"
```

Stations are listed in order of increasing route km; a section joins two consecutive
stations and is named ``<from>_<to>`` in that order.  Its running time is ``km /
speed_kmh`` (a gamma distribution with ``running_cv`` when that is positive) or a
``running_h`` distribution.  A station's ``tracks`` are split between the two directions
(see :mod:`g60rail.model.line`); a station that is a place with a terminal, or an end of
the line, has no track limit there (trains leave the line into the terminal).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from g60rail.errors import FieldValueError
from g60rail.random import DistSpec, Gamma, as_distribution
from g60rail.scenario.base import FrozenModel

__all__ = [
    "LineSpec",
    "LineStation",
    "MaintenanceWindow",
    "PassengerPath",
    "SectionSpec",
    "clock_hours",
]

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
Track = Literal["single", "double"]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]


def clock_hours(text: str) -> float:
    """Hour of day of a local clock time such as ``"08:30"`` (``"24:00"`` allowed)."""
    m = _CLOCK.match(text)
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day such as '08:30', got {text!r}")
    return int(m.group(1)) + int(m.group(2)) / 60.0


class MaintenanceWindow(FrozenModel):
    """A daily window (local time) during which a section admits no train."""

    start: str = Field(description="local time of day the window opens, e.g. '00:30'")
    duration_min: Annotated[float, Field(gt=0.0, lt=1440.0)]

    @field_validator("start")
    @classmethod
    def _clock(cls, v: str) -> str:
        clock_hours(v)
        return v

    @property
    def start_h(self) -> float:
        """Local hour of day the window opens."""
        return clock_hours(self.start)


class LineStation(FrozenModel):
    """A station of a line: a place id (a service stop) or a station of the line only."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    km: NonNegFloat = Field(description="route km from the line's first station")
    tracks: Annotated[int, Field(ge=2, le=100)] | None = Field(
        None,
        description="tracks where trains can stand (main line and passing loops), split "
        "between the two directions; none at a terminal place or an end of the line",
    )
    name: str = ""


class SectionSpec(FrozenModel):
    """What one section does differently from its line's defaults."""

    track: Track | None = None
    speed_kmh: PosFloat | None = None
    running_h: DistSpec | None = None
    headway_min: NonNegFloat | None = None
    maintenance: MaintenanceWindow | None = None

    @model_validator(mode="after")
    def _one_running_time(self) -> SectionSpec:
        if self.speed_kmh is not None and self.running_h is not None:
            raise FieldValueError(
                "give at most one of speed_kmh and running_h", field="running_h", value=None
            )
        return self


class PassengerPath(FrozenModel):
    """A passenger train that runs on the line every week at fixed times.

    Passenger trains carry no containers; they occupy sections and station tracks like
    freight trains and are served first wherever both wait for the same section.
    """

    name: str = ""
    from_: str = Field(alias="from", description="station the train starts from")
    to: str = Field(description="station it runs to (the direction follows)")
    departures: list[str] = Field(
        min_length=1, description="weekly local times at 'from', e.g. 'daily 08:10'"
    )
    speed_kmh: PosFloat = Field(description="running speed between stops, km/h")
    stops: dict[str, NonNegFloat] = Field(
        default_factory=dict, description="station -> minutes the train stands there"
    )


class LineSpec(FrozenModel):
    """A railway line: stations in route-km order and the sections between them."""

    name: str = ""
    mode: Literal["rail", "rail_metre"] = "rail"
    track: Track = "double"
    speed_kmh: PosFloat = Field(description="freight running speed on the line, km/h")
    running_cv: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="coefficient of variation of a section's running time (gamma)"
    )
    headway_min: NonNegFloat = Field(
        10.0, description="double track: minimum time between two trains one way, minutes"
    )
    station_interval_min: NonNegFloat = Field(
        4.0,
        description="single track: after a train clears a section, minutes before the next "
        "train may enter it",
    )
    maintenance: MaintenanceWindow | None = None
    stations: list[LineStation] = Field(min_length=2)
    sections: dict[str, SectionSpec] = Field(default_factory=dict)
    passenger_paths: list[PassengerPath] = Field(default_factory=list)

    @model_validator(mode="after")
    def _layout(self) -> LineSpec:
        ids = [s.id for s in self.stations]
        for i, (a, b) in enumerate(zip(self.stations, self.stations[1:], strict=False)):
            if b.km <= a.km:
                raise FieldValueError(
                    f"stations must be in increasing km ({a.id} at {a.km:g} km)",
                    field=f"stations.{i + 1}.km",
                    value=b.km,
                )
        if len(set(ids)) != len(ids):
            raise FieldValueError("a station is listed twice", field="stations", value=ids)
        names = set(self.section_ids)
        for key in self.sections:
            if key not in names:
                raise FieldValueError(
                    f"no such section (sections join consecutive stations: "
                    f"{', '.join(self.section_ids)})",
                    field=f"sections.{key}",
                    value=key,
                )
        for j, p in enumerate(self.passenger_paths):
            for field, sid in (("from", p.from_), ("to", p.to), *(("stops", s) for s in p.stops)):
                if sid not in ids:
                    raise FieldValueError(
                        "not a station of this line",
                        field=f"passenger_paths.{j}.{field}",
                        value=sid,
                    )
            if p.from_ == p.to:
                raise FieldValueError(
                    "a passenger path needs two different stations",
                    field=f"passenger_paths.{j}.to",
                    value=p.to,
                )
        return self

    @property
    def station_ids(self) -> list[str]:
        """Station ids in route-km order."""
        return [s.id for s in self.stations]

    @property
    def section_ids(self) -> list[str]:
        """Section ids ``<from>_<to>`` in route-km order."""
        return [f"{a.id}_{b.id}" for a, b in zip(self.stations, self.stations[1:], strict=False)]

    def section(self, i: int) -> SectionSpec:
        """The overrides of section ``i`` (between stations ``i`` and ``i + 1``)."""
        return self.sections.get(self.section_ids[i], _NO_OVERRIDES)

    def track_of(self, i: int) -> Track:
        """Single or double track, section ``i``."""
        return self.section(i).track or self.track

    def maintenance_of(self, i: int) -> MaintenanceWindow | None:
        """The daily maintenance window of section ``i``, if any."""
        return self.section(i).maintenance or self.maintenance

    def headway_min_of(self, i: int) -> float:
        """Minimum headway on section ``i`` (double track), minutes."""
        h = self.section(i).headway_min
        return self.headway_min if h is None else h

    def km_of(self, i: int) -> float:
        """Length of section ``i``, km."""
        return self.stations[i + 1].km - self.stations[i].km

    def running_time(self, i: int) -> DistSpec:
        """Freight running time over section ``i``, hours: a number or a distribution."""
        s = self.section(i)
        if s.running_h is not None:
            return s.running_h
        mean = self.km_of(i) / (s.speed_kmh or self.speed_kmh)
        if self.running_cv > 0:
            return Gamma(dist="gamma", mean=mean, cv=self.running_cv)
        return mean

    def capacity_pairs_per_day(self, i: int) -> float:
        """Standard capacity of single-track section ``i``, train pairs a day.

        ``(1440 - maintenance window [min]) / cycle``, the cycle being the up and down
        running times of the slowest trains (freight at its mean running time, or a
        slower passenger path) plus two station intervals.
        """
        freight_h = float(as_distribution(self.running_time(i)).mean)
        ids = self.station_ids
        slowest = {1: freight_h, -1: freight_h}
        for p in self.passenger_paths:
            a, b = ids.index(p.from_), ids.index(p.to)
            if min(a, b) <= i < max(a, b):
                d = 1 if b > a else -1
                slowest[d] = max(slowest[d], self.km_of(i) / p.speed_kmh)
        cycle_min = 60.0 * (slowest[1] + slowest[-1]) + 2.0 * self.station_interval_min
        window = self.maintenance_of(i)
        available_min = 1440.0 - (window.duration_min if window is not None else 0.0)
        return available_min / cycle_min


_NO_OVERRIDES = SectionSpec()
