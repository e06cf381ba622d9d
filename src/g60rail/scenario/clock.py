"""Local time and the model's clock.

Every place has a time zone (``utc_offset_h``, hours east of UTC; China UTC+8, Laos
UTC+7).  Timetables, opening hours, maintenance windows and the station's day are written
in the local time of where they happen.  The model runs on one clock: hours from
``meta.start``, read in the scenario's zone ``meta.utc_offset_h``; every table's times
and wall-clock timestamps are on that clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from g60rail.scenario.line_spec import LineSpec
    from g60rail.scenario.schema import Scenario

__all__ = ["Clock", "iter_weekly_times"]


@dataclass(frozen=True, slots=True)
class Clock:
    """The model's clock.

    Attributes
    ----------
    utc_offset_h
        The clock's zone, hours east of UTC.
    week0_h
        Hours from Monday 00:00 on the clock to simulation time 0.
    """

    utc_offset_h: float
    week0_h: float

    @classmethod
    def of(cls, scenario: Scenario) -> Clock:
        """The clock of a scenario (``meta.start`` in ``meta.utc_offset_h``)."""
        start = scenario.meta.start
        day0_h = start.hour + start.minute / 60.0 + start.second / 3600.0
        return cls(scenario.meta.utc_offset_h, 24.0 * start.weekday() + day0_h)

    def local_week0_h(self, utc_offset_h: float) -> float:
        """Hours from Monday 00:00 local time (zone ``utc_offset_h``) to time 0."""
        return self.week0_h + (utc_offset_h - self.utc_offset_h)

    def local_day0_h(self, utc_offset_h: float) -> float:
        """Local hour of day (zone ``utc_offset_h``) at time 0."""
        return self.local_week0_h(utc_offset_h) % 24.0

    def daily_windows(
        self, start_h: float, duration_h: float, utc_offset_h: float, horizon_h: float
    ) -> list[tuple[float, float]]:
        """A daily local window ``[start_h, start_h + duration_h)`` as windows in
        simulation hours covering ``[0, horizon_h]``."""
        first, n = self.daily_series(start_h, utc_offset_h, horizon_h)
        return [(first + 24.0 * k, first + 24.0 * k + duration_h) for k in range(n)]

    def daily_series(
        self, start_h: float, utc_offset_h: float, horizon_h: float
    ) -> tuple[float, int]:
        """The windows of :meth:`daily_windows` without listing them: the first one's start
        in simulation hours and their number."""
        first = start_h - self.local_day0_h(utc_offset_h) - 24.0
        return first, math.ceil((horizon_h - first) / 24.0) + 1

    def zone_of(self, scenario: Scenario, place: str) -> float:
        """The UTC offset of a place (the clock's where the place gives none)."""
        p = scenario.places.get(place)
        return p.utc_offset_h if p is not None and p.utc_offset_h is not None else self.utc_offset_h

    def station_zones(self, scenario: Scenario, line: LineSpec) -> list[float]:
        """The UTC offset of each station of a line: its place's where it is a place,
        else the previous station's (the first: the clock's)."""
        out: list[float] = []
        for st in line.stations:
            p = scenario.places.get(st.id)
            if p is not None and p.utc_offset_h is not None:
                out.append(p.utc_offset_h)
            else:
                out.append(out[-1] if out else self.utc_offset_h)
        return out


def iter_weekly_times(weekly_h: list[float], week0_h: float, horizon_h: float) -> Iterator[float]:
    """Simulation hours in ``[0, horizon_h)`` of weekly times, in increasing order, one week
    at a time (memory independent of the horizon).

    Parameters
    ----------
    weekly_h
        Sorted times in hours after Monday 00:00, in ``[0, 168)``.
    week0_h
        Hours from Monday 00:00 (in the zone of ``weekly_h``) to simulation time 0.
    horizon_h
        Run length, hours.
    """
    week = 0
    while 168.0 * week - week0_h + weekly_h[0] < horizon_h:
        base = 168.0 * week - week0_h
        for h in weekly_h:
            t = base + h
            if 0.0 <= t < horizon_h:
                yield t
        week += 1
