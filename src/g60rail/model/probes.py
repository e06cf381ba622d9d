"""Statistics recorded while a simulation runs.

Probes are small accumulators that model parts update at events.  They keep running
totals (streaming), so a long run needs memory proportional to its number of days, not to
its number of events.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable

import numpy as np

__all__ = ["DailyCounter", "LevelProbe", "Tally"]


class LevelProbe:
    """A piecewise-constant level (yard TEU, queue length) integrated over time.

    Keeps the overall time-weighted mean and maximum, and per simulated day the mean and
    the maximum.

    Parameters
    ----------
    horizon_h
        Length of the run, hours; values after it are ignored.
    """

    __slots__ = ("_area", "_day", "_day_end", "_day_max", "_horizon", "_t", "_v", "max")

    def __init__(self, horizon_h: float) -> None:
        days = max(1, math.ceil(horizon_h / 24.0))
        self._horizon = float(horizon_h)
        self._area = [0.0] * days
        self._day_max = [0.0] * days
        self._t = 0.0
        self._day = 0  # the day of _t
        self._day_end = 24.0  # its end, hours
        self._v = 0.0
        self.max = 0.0

    @property
    def value(self) -> float:
        """Current level."""
        return self._v

    def set(self, t: float, value: float) -> None:
        """The level becomes ``value`` at time ``t`` (hours, non-decreasing)."""
        if t < self._day_end and t <= self._horizon:
            # same day as the last change: the common case, kept cheap
            d = self._day
            self._area[d] += self._v * (t - self._t)
            self._t = t
        else:
            d = int(t // 24.0)
            self._advance(t)
        self._v = value
        if value > self.max:
            self.max = value
        day_max = self._day_max
        if d < len(day_max) and value > day_max[d]:
            day_max[d] = value

    def add(self, t: float, delta: float) -> None:
        """Change the level by ``delta`` at time ``t``."""
        self.set(t, self._v + delta)

    def _advance(self, t: float) -> None:
        t = min(t, self._horizon)
        t0, v = self._t, self._v
        if t <= t0:
            return
        area = self._area
        if v:
            d0, d1 = int(t0 // 24.0), int(t // 24.0)
            if d0 == d1 or (d1 >= len(area) and d0 == len(area) - 1):
                area[min(d0, len(area) - 1)] += v * (t - t0)
            else:
                area[d0] += v * (24.0 * (d0 + 1) - t0)
                whole = v * 24.0
                for d in range(d0 + 1, min(d1, len(area))):
                    area[d] += whole
                if d1 < len(area):
                    area[d1] += v * (t - 24.0 * d1)
        # a level carried into a new day is that day's running maximum too
        d0, d1 = int(t0 // 24.0), min(int(t // 24.0), len(self._day_max) - 1)
        if d1 > d0 and v > 0:
            day_max = self._day_max
            for d in range(d0 + 1, d1 + 1):
                if v > day_max[d]:
                    day_max[d] = v
        self._t = t
        self._day = int(t // 24.0)
        self._day_end = 24.0 * (self._day + 1)

    def finish(self, t: float) -> None:
        """Close the integral at the end of the run."""
        self._advance(t)

    def mean(self, t_end: float) -> float:
        """Time-weighted mean over ``[0, t_end]``."""
        return float(np.array(self._area, dtype=float).sum() / t_end) if t_end > 0 else 0.0

    def mean_from_day(self, day: int) -> float:
        """Time-weighted mean from the start of day ``day`` to the horizon."""
        if day <= 0:
            return self.mean(self._horizon)
        length = self._horizon - 24.0 * day
        return float(np.array(self._area[day:]).sum() / length) if length > 0 else math.nan

    def max_from_day(self, day: int) -> float:
        """Maximum from the start of day ``day`` to the horizon."""
        if day <= 0:
            return float(self.max)
        return float(max(self._day_max[day:])) if day < len(self._day_max) else math.nan

    def daily_mean(self) -> np.ndarray:
        """Time-weighted mean per day (the last day may be partial)."""
        lengths = np.full(len(self._area), 24.0)
        lengths[-1] = self._horizon - 24.0 * (len(self._area) - 1)
        return np.array(self._area, dtype=float) / lengths

    def daily_max(self) -> np.ndarray:
        """Maximum per day."""
        return np.array(self._day_max, dtype=float)


class DailyCounter:
    """Amounts per key and simulated day (TEU departed by service, ...)."""

    __slots__ = ("_counts", "_days")

    def __init__(self, horizon_h: float) -> None:
        self._days = max(1, math.ceil(horizon_h / 24.0))
        self._counts: dict[str, list[float]] = {}

    @property
    def counts(self) -> dict[str, np.ndarray]:
        """Amounts per key: one value per simulated day."""
        return {k: np.array(v, dtype=float) for k, v in self._counts.items()}

    def add(self, t: float, key: str, amount: float = 1.0) -> None:
        """Add ``amount`` to ``key`` on the day of time ``t`` (hours)."""
        d = int(t // 24.0)
        if d >= self._days:
            return
        arr = self._counts.get(key)
        if arr is None:
            arr = self._counts[key] = [0.0] * self._days
        arr[d] += amount


class Tally:
    """Observations of one quantity (dwell hours, clearance hours): mean, quantiles.

    Values are kept compactly (8 bytes each, ``array('d')``), enough for exact quantiles
    over decades of containers.
    """

    __slots__ = ("_buf", "add")

    def __init__(self) -> None:
        self._buf = array("d")
        self.add: Callable[[float], None] = self._buf.append
        """Record one observation."""

    def __len__(self) -> int:
        return len(self._buf)

    def merged(self, other: Tally) -> Tally:
        """A new tally holding this one's observations followed by ``other``'s."""
        out = Tally()
        out._buf = self._buf + other._buf
        out.add = out._buf.append
        return out

    @property
    def values(self) -> np.ndarray:
        """A copy of the observations, in order of recording."""
        return np.array(self._buf, dtype=np.float64)

    def mean(self) -> float:
        """Mean, NaN when empty."""
        return float(self.values.mean()) if len(self._buf) else math.nan

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (linear interpolation), NaN when empty."""
        return float(np.quantile(self.values, q)) if len(self._buf) else math.nan
