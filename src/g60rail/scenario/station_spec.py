"""Scenario section of the Songjiang HSR station: timetable, passengers, security, gates.

The station model (:mod:`g60rail.model.station`) reads one :class:`StationSpec`.  A
departing passenger belongs to one departure of the timetable, arrives at the station some
minutes before it (the *arrival lead time*), enters through one of the entrances, queues at
that entrance's security lanes, waits in the waiting hall and must be through the
ticket-gate group of its train between the gate's opening and closing minutes before
departure; whoever misses it is rebooked onto a later train to the same destination
(:class:`Rebooking`) or stranded.  Arriving passengers alight from the same trains and
leave through the exit gates (:class:`ExitGates`).  Every queue area has a floor area, from
which the model reports Fruin's level of service.

All times of day are wall-clock hours (``7.5`` is 07:30); durations carry their unit in
the field name (``_min``, ``_s``, ``_h``); rates are per minute or per hour.
"""

from __future__ import annotations

import datetime
import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from g60rail.random import DistSpec, LogNormal, Uniform
from g60rail.scenario.base import FrozenModel

__all__ = [
    "Entrance",
    "ExitGates",
    "GateGroups",
    "PeakPeriod",
    "Rebooking",
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
        description="Upper bound of the shares of seats boarding or alighting here on busy "
        "days, standing tickets included; also the seats a missed passenger can be rebooked "
        "onto [-].",
    )
    alighting_load_factor: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="Mean share of the seats of passengers alighting here on an ordinary day "
        "[-]; default: load_factor.  Used when the station has exit gates.",
    )
    dwell_min: float = Field(
        default=2.0,
        ge=0,
        le=120,
        description="The train stands at the platform this long before departure; its "
        "alighting passengers leave it at arrival [min].",
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
        if self.alighting_share > self.max_load_factor:
            raise ValueError(
                f"alighting_load_factor ({self.alighting_share}) must not exceed "
                f"max_load_factor ({self.max_load_factor})"
            )
        return self

    @property
    def alighting_share(self) -> float:
        """Mean share of the seats alighting here on an ordinary day [-]."""
        return (
            self.load_factor if self.alighting_load_factor is None else self.alighting_load_factor
        )

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
    queue_area_m2: float = Field(
        default=200.0,
        gt=0,
        le=100_000,
        description="Floor area of the queue in front of the security lanes [m²].",
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
    """Ticket-gate groups; each departure is assigned one group, in turn.

    A passenger boards only if through the gate by its closing time; whoever is still
    queuing then misses the train.
    """

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
    queue_area_m2: float = Field(
        default=80.0,
        gt=0,
        le=100_000,
        description="Floor area of the queue in front of one gate group [m²].",
    )

    @model_validator(mode="after")
    def _window(self) -> GateGroups:
        if self.open_min_before_departure <= self.close_min_before_departure:
            raise ValueError(
                f"open_min_before_departure ({self.open_min_before_departure}) must be "
                f"greater than close_min_before_departure ({self.close_min_before_departure})"
            )
        return self


class ExitGates(FrozenModel):
    """Exit ticket gates of the arriving passengers (one FIFO queue, identical gates).

    The alighting passengers of a train reach the exit gates ``walk_min`` after it stops,
    spread evenly over the next ``platform_clear_min`` (the platform empties through its
    doors and escalators at a steady rate).
    """

    gates: int = Field(ge=1, le=500, description="Exit gates [gates].")
    passengers_per_min: float = Field(
        gt=0, le=1000, description="Throughput of one exit gate [passengers/min]."
    )
    walk_min: float = Field(
        default=2.0, ge=0, le=120, description="Platform to the exit gates on foot [min]."
    )
    platform_clear_min: float = Field(
        default=4.0,
        ge=0,
        le=120,
        description="The train's alighting passengers reach the gates over this long [min].",
    )
    queue_area_m2: float = Field(
        default=300.0,
        gt=0,
        le=100_000,
        description="Floor area of the queue in front of the exit gates [m²].",
    )


class Rebooking(FrozenModel):
    """What a passenger who missed the train does: one free rebooking, the same day.

    The passenger is rebooked onto the next departure of the same calendar day to the same
    destination whose gates close after the passenger can be back at them and that has a
    seat left (``seats * max_load_factor`` minus the passengers already booked on it),
    waits in the hall and queues at its gate; whoever finds no such departure, or misses
    the rebooked train too, is stranded and leaves (the railway's rule: after departure a
    ticket may be changed once, free, to another train of that day).
    """

    delay_min: float = Field(
        default=5.0,
        ge=0,
        le=240,
        description="From the miss until the passenger can queue for the new train [min].",
    )


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
        description="Time between arrival at the station and departure of the passengers "
        "who plan their trip (all but the late share) [min].",
    )
    arrival_lead_max_min: float = Field(
        default=240.0,
        gt=0,
        le=1440,
        description="Planned lead times above this are drawn again [min].",
    )
    arrival_lead_floor_min: float = Field(
        default=0.0,
        ge=0,
        le=1440,
        description="Planned lead times below this are drawn again [min].",
    )
    late_arrival_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of the passengers who arrive at the last minute [-].",
    )
    late_arrival_lead_min: DistSpec = Field(
        default_factory=lambda: Uniform(dist="uniform", low=0.0, high=15.0),
        description="Arrival lead time of the late share [min].",
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
    hall_area_m2: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        description="Floor area of the waiting hall, gate queues included [m²]; default "
        "1.2 m² per passenger of hall_capacity_pax.",
    )
    gates: GateGroups = Field(description="Ticket-gate groups.")
    rebooking: Rebooking = Field(
        default_factory=Rebooking, description="Rebooking of passengers who miss the train."
    )
    exits: ExitGates | None = Field(
        default=None,
        description="Exit gates of the alighting passengers (none: arrivals not simulated).",
    )

    @field_validator("weekday_multipliers")
    @classmethod
    def _weekdays(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        bad = [m for m in v if not 0 <= m <= 5]
        if bad:
            raise ValueError(f"weekday multipliers must lie in [0, 5], got {bad}")
        return v

    @model_validator(mode="after")
    def _leads(self) -> StationSpec:
        if self.arrival_lead_floor_min >= self.arrival_lead_max_min:
            raise ValueError(
                f"arrival_lead_floor_min ({self.arrival_lead_floor_min}) must be below "
                f"arrival_lead_max_min ({self.arrival_lead_max_min})"
            )
        return self

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
    def hall_area(self) -> float:
        """Floor area of the waiting hall [m²] (given, or 1.2 m² per design passenger)."""
        return 1.2 * self.hall_capacity_pax if self.hall_area_m2 is None else self.hall_area_m2

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
            Entrance.model_validate(
                {**e.model_dump(), "security_lanes_per_hour": tuple(int(x) for x in lanes[e.name])}
            )
            if e.name in lanes
            else e
            for e in self.entrances
        )
        return self.model_copy(update={"entrances": entrances})
