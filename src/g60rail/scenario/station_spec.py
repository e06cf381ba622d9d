"""Scenario section of the Songjiang HSR station: timetable, passengers, security, gates.

The station model (:mod:`g60rail.model.station`) reads one :class:`StationSpec`.  A
passenger belongs to one departure of the timetable, arrives at the station some minutes
before it (the *arrival lead time*), enters through one of the entrances, queues at that
entrance's security lanes, waits in the waiting hall and passes the ticket-gate group of
its train between the gate's opening and closing minutes before departure.

All times of day are wall-clock hours (``7.5`` is 07:30); durations carry their unit in
the field name (``_min``, ``_s``, ``_h``); rates are per minute or per hour.
"""

from __future__ import annotations

import datetime
import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from g60rail.random import DistSpec, LogNormal
from g60rail.scenario.base import FrozenModel

__all__ = [
    "Entrance",
    "GateGroups",
    "PeakPeriod",
    "Security",
    "Service",
    "StationSpec",
    "TrainType",
]

TrainType = Literal["hsr", "conventional"]
"""Train type of a service: high-speed (``hsr``) or conventional."""

HOURS_PER_DAY = 24


class Service(FrozenModel):
    """A group of daily departures to one destination with one train type.

    Departures are either listed (``departure_times_h``) or spread evenly from
    ``first_departure_h`` to ``last_departure_h``.  The passengers boarding one departure
    at this station follow from ``seats``, ``load_factor`` and the day's multiplier.
    """

    destination: str = Field(min_length=1, description="Destination station or city.")
    train_type: TrainType = Field(description="'hsr' or 'conventional'.")
    departures_per_day: int = Field(ge=1, le=1000, description="Departures per day.")
    first_departure_h: float | None = Field(
        default=None, ge=0, lt=24, description="Time of day of the first departure [h]."
    )
    last_departure_h: float | None = Field(
        default=None, ge=0, lt=24, description="Time of day of the last departure [h]."
    )
    departure_times_h: tuple[float, ...] | None = Field(
        default=None,
        description="Explicit departure times of day [h], each in [0, 24); replaces first/last.",
    )
    seats: int = Field(gt=0, le=10_000, description="Seats (and berths) of one train [seats].")
    load_factor: float = Field(
        ge=0,
        le=1,
        description="Mean share of the seats sold to passengers boarding here on an "
        "ordinary day (multiplier 1) [-].",
    )
    max_load_factor: float = Field(
        default=1.0,
        gt=0,
        le=2,
        description="Upper bound of that share on busy days, standing tickets included [-].",
    )

    @field_validator("departure_times_h")
    @classmethod
    def _times_in_day(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None:
            bad = [t for t in v if not 0 <= t < HOURS_PER_DAY]
            if bad:
                raise ValueError(f"departure times must lie in [0, 24) hours, got {bad}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Service:
        if self.departure_times_h is not None:
            if len(self.departure_times_h) != self.departures_per_day:
                raise ValueError(
                    f"departure_times_h lists {len(self.departure_times_h)} times but "
                    f"departures_per_day is {self.departures_per_day}"
                )
        elif self.first_departure_h is None or self.last_departure_h is None:
            raise ValueError(
                "give either departure_times_h or both first_departure_h and last_departure_h"
            )
        elif self.last_departure_h < self.first_departure_h:
            raise ValueError(
                f"last_departure_h ({self.last_departure_h}) must be >= first_departure_h "
                f"({self.first_departure_h})"
            )
        if self.load_factor > self.max_load_factor:
            raise ValueError(
                f"load_factor ({self.load_factor}) must not exceed max_load_factor "
                f"({self.max_load_factor})"
            )
        return self

    def times_of_day_h(self) -> tuple[float, ...]:
        """Departure times of day [h], in the order given or evenly spaced."""
        if self.departure_times_h is not None:
            return self.departure_times_h
        first, last = float(self.first_departure_h), float(self.last_departure_h)  # type: ignore[arg-type]
        n = self.departures_per_day
        if n == 1:
            return (first,)
        step = (last - first) / (n - 1)
        return tuple(first + i * step for i in range(n))


class PeakPeriod(FrozenModel):
    """Days (inclusive) on which every departure carries more passengers."""

    name: str = Field(min_length=1, description="Label, e.g. 'Spring Festival 2025'.")
    first_day: datetime.date = Field(description="First day of the period.")
    last_day: datetime.date = Field(description="Last day of the period (inclusive).")
    passenger_multiplier: float = Field(
        gt=0, le=5, description="Factor on the ordinary-day passengers of each departure [-]."
    )

    @model_validator(mode="after")
    def _ordered(self) -> PeakPeriod:
        if self.last_day < self.first_day:
            raise ValueError(
                f"last_day ({self.last_day}) must not be before first_day ({self.first_day})"
            )
        return self


class Entrance(FrozenModel):
    """A station entrance with its own bank of security lanes (one FIFO queue)."""

    name: str = Field(min_length=1, description="Entrance name.")
    share: float = Field(
        ge=0, le=1, description="Probability that a passenger uses this entrance [-]."
    )
    security_lanes_per_hour: tuple[int, ...] = Field(
        min_length=24,
        max_length=24,
        description="Security lanes open in each hour of the day, 00:00 first [lanes].",
    )

    @field_validator("security_lanes_per_hour")
    @classmethod
    def _lanes(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        bad = [(h, n) for h, n in enumerate(v) if n < 0 or n > 500]
        if bad:
            raise ValueError(f"lanes per hour must lie in [0, 500], got (hour, lanes) {bad}")
        if max(v) == 0:
            raise ValueError("at least one hour of the day must have an open security lane")
        return v


class Security(FrozenModel):
    """Security screening common to all entrances."""

    service_time_s: DistSpec = Field(
        default_factory=lambda: LogNormal(dist="lognormal", mean=10.5, cv=0.5),
        description="Screening time of one passenger at one lane [s].",
    )


class GateGroups(FrozenModel):
    """Ticket-gate groups; each departure is assigned one group, in turn."""

    groups: int = Field(ge=1, le=500, description="Number of ticket-gate groups.")
    passengers_per_min: float = Field(
        gt=0, le=1000, description="Throughput of one gate group [passengers/min]."
    )
    open_min_before_departure: float = Field(
        gt=0, le=720, description="Gates open this long before departure [min]."
    )
    close_min_before_departure: float = Field(
        ge=0, le=720, description="Gates close this long before departure [min]."
    )

    @model_validator(mode="after")
    def _window(self) -> GateGroups:
        if self.open_min_before_departure <= self.close_min_before_departure:
            raise ValueError(
                f"open_min_before_departure ({self.open_min_before_departure}) must be "
                f"greater than close_min_before_departure ({self.close_min_before_departure})"
            )
        return self


class StationSpec(FrozenModel):
    """Songjiang HSR station passenger flow.

    Passengers per departure are Poisson with mean ``seats * load_factor * multiplier``,
    capped at ``seats * max_load_factor``; the day's multiplier is the weekday multiplier
    times the largest multiplier of the peak periods covering that day (1 outside them).
    """

    services: tuple[Service, ...] = Field(min_length=1, description="The daily timetable.")
    weekday_multipliers: tuple[float, ...] = Field(
        default=(1.0,) * 7,
        min_length=7,
        max_length=7,
        description="Passenger factor per weekday, Monday first [-].",
    )
    peak_periods: tuple[PeakPeriod, ...] = Field(
        default=(), description="Calendar of peak days (holidays) with their multipliers."
    )
    arrival_lead_min: DistSpec = Field(
        default_factory=lambda: LogNormal(dist="lognormal", mean=38.0, cv=0.78),
        description="Time between arrival at the station and departure [min].",
    )
    arrival_lead_max_min: float = Field(
        default=240.0,
        gt=0,
        le=1440,
        description="Longer arrival lead times are cut to this [min].",
    )
    entrances: tuple[Entrance, ...] = Field(
        min_length=1, description="Entrances, each with its own security lanes."
    )
    security: Security = Field(default_factory=Security, description="Screening.")
    walk_to_gate_min: float = Field(
        default=3.0,
        ge=0,
        le=120,
        description="Walk from security to the ticket gates [min].",
    )
    hall_capacity_pax: int = Field(
        gt=0, description="Design capacity of the waiting hall [passengers]."
    )
    gates: GateGroups = Field(description="Ticket-gate groups.")

    @field_validator("weekday_multipliers")
    @classmethod
    def _weekdays(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        bad = [m for m in v if not 0 <= m <= 5]
        if bad:
            raise ValueError(f"weekday multipliers must lie in [0, 5], got {bad}")
        return v

    @model_validator(mode="after")
    def _entrances(self) -> StationSpec:
        names = [e.name for e in self.entrances]
        if len(set(names)) != len(names):
            raise ValueError(f"entrance names must be unique, got {names}")
        total = math.fsum(e.share for e in self.entrances)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"entrance shares must sum to 1, got {total:.6g}")
        return self

    @property
    def departures_per_day(self) -> int:
        """Departures of one day of the timetable."""
        return sum(s.departures_per_day for s in self.services)

    def day_multiplier(self, day: datetime.date) -> float:
        """Passenger multiplier of ``day``: weekday factor times the largest peak factor."""
        peak = max(
            (p.passenger_multiplier for p in self.peak_periods if p.first_day <= day <= p.last_day),
            default=1.0,
        )
        return self.weekday_multipliers[day.weekday()] * peak

    def with_security_lanes(self, lanes: dict[str, tuple[int, ...]]) -> StationSpec:
        """A copy with the security lanes per hour of the named entrances replaced."""
        unknown = set(lanes) - {e.name for e in self.entrances}
        if unknown:
            raise ValueError(f"unknown entrances {sorted(unknown)}")
        entrances = tuple(
            Entrance(
                name=e.name,
                share=e.share,
                security_lanes_per_hour=tuple(int(x) for x in lanes[e.name]),
            )
            if e.name in lanes
            else e
            for e in self.entrances
        )
        return self.model_copy(update={"entrances": entrances})
