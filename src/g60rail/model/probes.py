"""Statistics recorded while a simulation runs.

Probes are small accumulators that model parts update at events.  They keep running
totals (streaming), so a long run needs memory proportional to its number of days, not to
its number of events.
"""

from __future__ import annotations

import math
from array import array
from typing import Final

import numpy as np

__all__ = ["EXACT_LIMIT", "RELATIVE_ACCURACY", "BusyTime", "DailyCounter", "LevelProbe", "Tally"]

EXACT_LIMIT: Final = 1 << 13
"""Observations a :class:`Tally` keeps exactly before it folds them into its histogram."""
RELATIVE_ACCURACY: Final = 1e-3
"""Relative error bound of a :class:`Tally`'s quantiles once it has folded."""
_GAMMA: Final = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)  # bucket ratio
_LOG_GAMMA: Final = math.log(_GAMMA)
_TINY: Final = 1e-9  # hours: observations of smaller magnitude count as zero
_FOLD_BLOCK: Final = 1 << 12  # observations folded at a time once a tally has folded


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


class BusyTime:
    """Server-hours a resource's servers were busy from a time on (the end of the
    warm-up), summed over its servers.

    Parameters
    ----------
    from_h
        Busy time before this is not counted, hours.
    """

    __slots__ = ("from_h", "h")

    def __init__(self, from_h: float = 0.0) -> None:
        self.from_h = from_h
        self.h = 0.0
        """Server-hours counted so far."""

    def add(self, start: float, hours: float) -> None:
        """One server was busy for ``hours`` from ``start`` (hours): the part from
        :attr:`from_h` on counts."""
        if start >= self.from_h:
            self.h += hours
        elif start + hours > self.from_h:
            self.h += start + hours - self.from_h

    def utilization(self, servers: float, horizon_h: float) -> float:
        """The busy share of ``servers`` servers from :attr:`from_h` to ``horizon_h``
        (hours); NaN without server-hours."""
        span = servers * (horizon_h - self.from_h)
        return self.h / span if span > 0 else math.nan


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
    """Observations of one quantity (dwell hours, clearance hours): count, mean, quantiles.

    The first :data:`EXACT_LIMIT` observations are kept as they are (8 bytes each,
    ``array('d')``), so quantiles are exact.  Past that, the observations are folded, a
    block at a time, into a histogram with logarithmic buckets (the mapping of DDSketch,
    Masson, Rim & Lee 2019, VLDB 12(12)): every quantile is then within a relative
    :data:`RELATIVE_ACCURACY` of the exact one, the mean stays exact up to rounding, and
    memory stops growing with the number of observations (a few thousand buckets cover
    seconds to years), which is what lets a run cover decades.

    Parameters
    ----------
    from_h
        :meth:`add_wait` records only waits that began at or after this time (the end of
        the warm-up), hours.
    """

    __slots__ = (
        "_block",
        "_buf",
        "_n_folded",
        "_nan",
        "_neg",
        "_neg_lo",
        "_pos",
        "_pos_lo",
        "_sum",
        "_zero",
        "from_h",
    )

    def __init__(self, from_h: float = 0.0) -> None:
        self.from_h = from_h
        self._buf = array("d")
        self._block = EXACT_LIMIT  # fold when the buffer holds this many
        self._n_folded = 0
        self._sum = 0.0  # of the folded observations
        self._zero = 0
        self._nan = 0  # folded NaNs: the quantiles are NaN then, as numpy's
        self._pos = np.zeros(0, dtype=np.int64)  # counts of buckets _pos_lo, _pos_lo + 1, ...
        self._pos_lo = 0
        self._neg = np.zeros(0, dtype=np.int64)  # the same for the magnitudes of negatives
        self._neg_lo = 0

    def add(self, value: float) -> None:
        """Record one observation."""
        buf = self._buf
        buf.append(value)
        if len(buf) >= self._block:
            self._fold(np.frombuffer(buf, dtype=np.float64))
            self._buf = array("d")

    def add_wait(self, start: float, end: float) -> None:
        """Record the wait ``end - start`` (hours) of one that began waiting at ``start``,
        if that was at or after :attr:`from_h`."""
        if start >= self.from_h:
            self.add(end - start)

    def __len__(self) -> int:
        return self._n_folded + len(self._buf)

    @property
    def nbytes(self) -> int:
        """Bytes held by the observations and the histogram's buckets."""
        return self._buf.itemsize * len(self._buf) + self._pos.nbytes + self._neg.nbytes

    @property
    def exact(self) -> bool:
        """Whether every observation is still held as it is (quantiles exact)."""
        return self._n_folded == 0

    def merged(self, other: Tally) -> Tally:
        """A new tally holding this one's observations followed by ``other``'s."""
        out = Tally()
        if self.exact and other.exact and len(self) + len(other) < out._block:
            out._buf = self._buf + other._buf
            return out
        for part in (self, other):
            out._absorb(part)
            out._fold(np.frombuffer(part._buf, dtype=np.float64))
        return out

    @property
    def values(self) -> np.ndarray:
        """A copy of the observations, in order of recording (only while :attr:`exact`)."""
        if not self.exact:
            raise ValueError(
                f"this tally has folded {self._n_folded} of its {len(self)} observations "
                "into its histogram; only its count, mean and quantiles remain"
            )
        return np.array(self._buf, dtype=np.float64)

    def mean(self) -> float:
        """Mean, NaN when empty."""
        if not len(self):
            return math.nan
        if self.exact:
            return float(np.mean(np.frombuffer(self._buf, dtype=np.float64)))
        rest = float(np.sum(np.frombuffer(self._buf, dtype=np.float64))) if self._buf else 0.0
        return (self._sum + rest) / len(self)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (linear interpolation between order statistics, as
        :func:`numpy.quantile`), NaN when empty."""
        n = len(self)
        if not n:
            return math.nan
        if self.exact:
            return float(np.quantile(np.frombuffer(self._buf, dtype=np.float64), q))
        if self._buf:  # fold the rest into a copy, so that this tally's blocks stay as they are
            full = Tally()
            full._absorb(self)
            full._fold(np.frombuffer(self._buf, dtype=np.float64))
            return full.quantile(q)
        if self._nan:
            return math.nan
        # the histogram as (representative value, count), in increasing order
        gamma = _GAMMA
        mid = 2.0 / (gamma + 1.0)
        reps = [
            -mid * gamma ** (self._neg_lo + np.arange(len(self._neg)))[::-1],
            np.zeros(1),
            mid * gamma ** (self._pos_lo + np.arange(len(self._pos))),
        ]
        counts = np.concatenate([self._neg[::-1], [self._zero], self._pos])
        rep = np.concatenate(reps)
        cum = np.cumsum(counts)
        rank = q * (n - 1)
        lo, hi = math.floor(rank), math.ceil(rank)
        at = np.searchsorted(cum, [lo + 1, hi + 1])  # the buckets of those order statistics
        a, b = float(rep[at[0]]), float(rep[at[1]])
        return a + (rank - lo) * (b - a)

    # -- the histogram ------------------------------------------------------------------
    def _absorb(self, other: Tally) -> None:
        """Add ``other``'s folded observations (not its buffer) to this tally's."""
        self._n_folded += other._n_folded
        self._sum += other._sum
        self._zero += other._zero
        self._nan += other._nan
        self._pos, self._pos_lo = _add_counts(self._pos, self._pos_lo, other._pos, other._pos_lo)
        self._neg, self._neg_lo = _add_counts(self._neg, self._neg_lo, other._neg, other._neg_lo)
        self._block = min(self._block, _FOLD_BLOCK)

    def _fold(self, block: np.ndarray) -> None:
        """Move the observations ``block`` into the histogram."""
        if not len(block):
            return
        self._n_folded += len(block)
        self._sum += float(np.sum(block))
        self._block = _FOLD_BLOCK
        mag = np.abs(block)
        small = mag < _TINY
        self._zero += int(np.count_nonzero(small))
        self._nan += int(np.count_nonzero(np.isnan(block)))
        for sign in (1, -1):
            sel = ~small & ((block > 0) if sign > 0 else (block < 0))
            if not sel.any():
                continue
            keys = np.ceil(np.log(mag[sel]) / _LOG_GAMMA).astype(np.int64)
            lo = int(keys.min())
            counts = np.bincount(keys - lo)
            if sign > 0:
                self._pos, self._pos_lo = _add_counts(self._pos, self._pos_lo, counts, lo)
            else:
                self._neg, self._neg_lo = _add_counts(self._neg, self._neg_lo, counts, lo)


def _add_counts(a: np.ndarray, a_lo: int, b: np.ndarray, b_lo: int) -> tuple[np.ndarray, int]:
    """The sum of two bucket-count arrays starting at buckets ``a_lo`` and ``b_lo``."""
    if not len(b):
        return a, a_lo
    if not len(a):
        return b.astype(np.int64, copy=True), b_lo
    lo = min(a_lo, b_lo)
    hi = max(a_lo + len(a), b_lo + len(b))
    out = np.zeros(hi - lo, dtype=np.int64)
    out[a_lo - lo : a_lo - lo + len(a)] += a
    out[b_lo - lo : b_lo - lo + len(b)] += b
    return out, lo
