"""The train services of a scenario: their routes and timetables, their demand, their
train sets and the empties they bring back.

All times are in hours unless a field name says otherwise (``_teu`` twenty-foot
equivalent units).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from g60rail.errors import FieldValueError
from g60rail.random import DistSpec
from g60rail.scenario.base import FrozenModel
from g60rail.scenario.fields import NonNegFloat, PosFloat, Probability, TrainTEU

__all__ = ["GENERAL", "DemandSpec", "EmptiesSpec", "ServiceSpec", "parse_weekly_time"]

GENERAL = "general"
"""The commodity class every scenario has (added when a scenario does not define it)."""

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_WEEKLY = re.compile(r"^\s*(?:(mon|tue|wed|thu|fri|sat|sun|daily)\s+)?(\d{1,2}):(\d{2})\s*$", re.I)


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


class DemandSpec(FrozenModel):
    """Container bookings for one service and direction.

    Trucks come at a rate of ``teu_per_week`` times the month's seasonality factor.  By
    default they arrive as a Poisson process; with ``booking_lead_h`` each departure gets a
    Poisson number of trucks (the rate times the time since the previous departure), each
    leaving its origin ``booking_lead_h`` before that departure.  A truck carries one
    40-foot box, or one or two 20-foot boxes, of one commodity class drawn by the
    ``commodities`` weights (classes are the scenario's ``[commodities]``).
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
    commodities: dict[str, PosFloat] = Field(
        default_factory=lambda: {GENERAL: 1.0},
        min_length=1,
        description="commodity class (a key of [commodities]) -> weight: each box draws its "
        "class at booking; default: all 'general'",
    )

    @field_validator("seasonality")
    @classmethod
    def _twelve(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"needs 12 monthly factors, got {len(v)}")
        return v


class EmptiesSpec(FrozenModel):
    """Empty boxes that a service's consignees send back by rail.

    A box of the service delivered at a terminal becomes, with probability ``share``, an
    empty box that a truck brings back to that terminal's gate ``back_h`` after the
    delivery (unpacking and the drive back); it travels by rail to the service's origin,
    on the first trains that go its way, and is collected there like any box.  An empty
    box carries no cargo tonnes.
    """

    share: Probability = Field(
        description="share of the service's boxes delivered at a terminal that return "
        "empty by rail to its origin"
    )
    back_h: DistSpec = Field(
        description="delivery to the empty box's arrival at the terminal's gate, hours"
    )


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
    train_sets: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None,
        description="train sets of this service's pool (shared with the services of the "
        "same pool); a departure needs a set standing at its origin; none: no limit",
    )
    pool: str | None = Field(
        None,
        description="train-set pool; default: the service id without '_return', so a "
        "service and its return share their sets",
    )
    set_turnaround_h: DistSpec = Field(
        0.0, description="servicing of a set at the end of a run before its next departure"
    )
    demand: DemandSpec | None = None
    empties: EmptiesSpec | None = Field(
        None, description="empty boxes repositioned by rail to the origin; none: no empties"
    )

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
