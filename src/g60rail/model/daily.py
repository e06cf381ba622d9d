"""Daily patterns in a place's local time: a gate's opening window and the hour-of-day
profile of truck arrivals.

Both read simulation time (hours from the run's start) through ``day0_h``, the local hour
of day at time 0 (:meth:`g60rail.scenario.clock.Clock.local_day0_h` of the place's zone).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DailyWindow", "HourProfile"]

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """A window ``[open_h, open_h + length_h)`` that opens every day at the same local hour.

    Attributes
    ----------
    open_h
        Local opening hour of day, in ``[0, 24)``.
    length_h
        Hours it stays open, in ``(0, 24]``; 24 means always open.
    day0_h
        Local hour of day at simulation time 0.
    """

    open_h: float
    length_h: float
    day0_h: float

    @classmethod
    def of(cls, open_h: float, close_h: float, day0_h: float) -> DailyWindow:
        """The window from local ``open_h`` to ``close_h`` (past midnight when ``close_h <=
        open_h``; ``00:00``-``24:00`` and ``00:00``-``00:00`` are always open)."""
        length = (close_h - open_h) % 24.0
        if length == 0.0:
            length = 24.0
        return cls(open_h % 24.0, length, day0_h)

    @property
    def always_open(self) -> bool:
        """Whether the window never closes."""
        return self.length_h >= 24.0

    def _since_open_h(self, t: float) -> float:
        """Hours since the window last opened (local), in ``[0, 24)``."""
        return (t + self.day0_h - self.open_h) % 24.0

    def is_open(self, t: float) -> bool:
        """Whether the window is open at simulation time ``t`` (hours)."""
        return self.always_open or self._since_open_h(t) < self.length_h - _EPS

    def next_start_h(self, t: float, duration_h: float) -> float:
        """Earliest time ``>= t`` (hours) at which work of ``duration_h`` hours can start and
        end inside one opening.

        Work longer than the window itself starts at the next opening.
        """
        length = self.length_h
        if length >= 24.0:  # always open
            return t
        since = (t + self.day0_h - self.open_h) % 24.0  # hours since it last opened
        if since < length - _EPS and (since + duration_h <= length + _EPS or duration_h >= length):
            return t
        return t + (24.0 - since)


class HourProfile:
    """Truck arrival intensity by local hour of day: 24 weights, piecewise constant.

    The weights are scaled to a mean of 1 over the day, so a profile shapes the arrivals
    within each day without changing their daily number.

    Parameters
    ----------
    weights
        24 non-negative weights, the first for 00:00-01:00 local time; not all zero.
    day0_h
        Local hour of day at simulation time 0.
    """

    __slots__ = ("_cdf", "day0_h", "rate")

    def __init__(self, weights: list[float], day0_h: float) -> None:
        if len(weights) != 24 or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"needs 24 non-negative weights, not all zero, got {weights!r}")
        total = float(sum(weights))
        self.rate = [24.0 * w / total for w in weights]
        """Relative intensity of each local hour, mean 1."""
        cdf = (np.cumsum(weights) / total).tolist()
        cdf[-1] = 1.0
        self._cdf: list[float] = cdf
        self.day0_h = day0_h

    @property
    def shares(self) -> list[float]:
        """Share of a day's arrivals in each local hour (sums to 1)."""
        return [r / 24.0 for r in self.rate]

    def advance(self, t: float, mass: float, end: float) -> float | None:
        """The time at which the profile's integral from ``t`` reaches ``mass``.

        Inversion of the cumulative intensity: with ``mass`` the arrival process's
        exponential gap (unit rate) divided by the daily mean rate, the result is the next
        arrival of the non-homogeneous Poisson process (exact).

        Parameters
        ----------
        t
            Start, simulation hours.
        mass
            Intensity to accumulate, in hours at the mean rate.
        end
            Give up at this time.

        Returns
        -------
        float or None
            The time, hours, or ``None`` if it is not before ``end``.
        """
        k = math.floor(t + self.day0_h)  # local hour index since day 0 (carried, not re-derived)
        while True:
            seg_end = (k + 1) - self.day0_h
            w = self.rate[k % 24]
            if w > 0.0:
                need = mass / w
                if t + need < seg_end:
                    t_next = t + need
                    return t_next if t_next < end else None
                mass -= w * (seg_end - t)
            if seg_end >= end:
                return None
            t = seg_end
            k += 1

    def hour_of_day(self, u: float) -> float:
        """A local hour of day (fraction included) drawn by inversion from a uniform ``u``
        in ``[0, 1)``: hours with the profile's shares, uniform within the hour."""
        h = min(bisect.bisect_right(self._cdf, u), 23)
        lo = self._cdf[h - 1] if h > 0 else 0.0
        width = self._cdf[h] - lo
        return h + ((u - lo) / width if width > 0 else 0.0)

    def arrival_before(self, t_nominal: float, latest: float, u: float) -> float:
        """An arrival on the local day of ``t_nominal``, at an hour drawn from the profile,
        moved back by whole days until it is not after ``latest`` (hours).

        The hour of day follows the profile exactly whatever ``t_nominal`` and ``latest``
        are; the day stays within one of the nominal one, earlier where it must.
        """
        t = self._on_day_of(t_nominal, u)
        if t > latest:
            t -= 24.0 * math.ceil((t - latest) / 24.0)
        return t

    def arrival_after(self, t_nominal: float, earliest: float, u: float) -> float:
        """As :meth:`arrival_before`, moved on by whole days until it is not before
        ``earliest`` (hours)."""
        t = self._on_day_of(t_nominal, u)
        if t < earliest:
            t += 24.0 * math.ceil((earliest - t) / 24.0)
        return t

    def _on_day_of(self, t_nominal: float, u: float) -> float:
        """The time on the local day of ``t_nominal`` at the hour of day drawn from ``u``."""
        day_start = 24.0 * math.floor((t_nominal + self.day0_h) / 24.0) - self.day0_h
        return day_start + self.hour_of_day(u)
