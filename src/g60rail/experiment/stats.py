"""Output analysis of replicated runs: confidence intervals, warm-up, Little's law.

Replications of a stochastic simulation are independent, identically distributed
observations of each KPI, so a KPI's mean over ``n`` replications has the Student-t
confidence interval ``mean ± t(1 - α/2, n - 1) · s / √n``.  Two configurations run with
common random numbers (replication ``i`` of both uses the same seed) are compared with a
*paired* interval on the per-replication differences, which is usually much narrower than
the interval of two independent samples.

The Student-t quantile is computed here (regularised incomplete beta function and a
safeguarded Newton iteration) so that the package needs no SciPy at run time; it agrees
with ``scipy.stats.t.ppf`` to about 1e-12.

Warm-up: a run starts from an empty corridor, so the first days under-state congestion.
:func:`mser5` suggests how many days to drop from a daily series; pass them to
``simulate(..., warmup_days=...)``, whose time statistics then leave them out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from g60rail.kpi import STAT_COLUMNS

__all__ = [
    "STAT_COLUMNS",
    "Interval",
    "independent_difference",
    "littles_law_gap",
    "mser5",
    "paired_difference",
    "suggest_warmup_days",
    "summarize",
    "t_interval",
    "t_ppf",
]


# -- Student t quantile ---------------------------------------------------------------
def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularised incomplete beta function ``I_x(a, b)``, given ``x`` and ``y = 1 - x``.

    Passing ``y`` computed directly keeps full relative precision when ``x`` is near 1.
    """
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, y) / b


def _t_sf(t: float, df: float) -> float:
    """Upper tail ``P(T > t)`` of Student's t for ``t >= 0``."""
    t2 = t * t
    return 0.5 * _betainc(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))


def _t_pdf(t: float, df: float) -> float:
    log_c = math.lgamma(0.5 * (df + 1)) - math.lgamma(0.5 * df) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - 0.5 * (df + 1) * math.log1p(t * t / df))


@lru_cache(maxsize=1024)
def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t distribution.

    Parameters
    ----------
    q
        Probability in (0, 1).
    df
        Degrees of freedom (> 0, need not be an integer).

    Returns
    -------
    float
        ``t`` with ``P(T <= t) = q``; agrees with ``scipy.stats.t.ppf(q, df)``.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    if not df > 0:
        raise ValueError(f"df must be positive, got {df!r}")
    if q == 0.5:
        return 0.0
    upper = min(q, 1.0 - q)  # the tail probability to match, on the positive side
    sign = 1.0 if q > 0.5 else -1.0
    lo, hi = 0.0, 1.0
    while _t_sf(hi, df) > upper:  # bracket the root
        lo, hi = hi, 2.0 * hi
    t = 0.5 * (lo + hi)
    for _ in range(200):
        f = _t_sf(t, df) - upper  # decreasing in t
        if f > 0:
            lo = t
        else:
            hi = t
        step = f / _t_pdf(t, df)  # Newton step for a decreasing function
        nxt = t + step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - t) <= 1e-15 * max(1.0, abs(t)):
            t = nxt
            break
        t = nxt
    return sign * t


# -- intervals --------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    """A t-based confidence interval of a mean.

    Attributes
    ----------
    mean, std
        Sample mean and standard deviation (``ddof=1``), in the KPI's unit.
    n
        Number of (non-NaN) observations.
    low, high, half_width
        Interval bounds and half its width, in the KPI's unit (NaN when ``n < 2``).
    confidence
        Confidence level, e.g. 0.95.
    """

    mean: float
    std: float
    n: int
    low: float
    high: float
    half_width: float
    confidence: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return bool(self.low <= value <= self.high)


def _half_width(std: float, n: int, confidence: float) -> float:
    if n < 2 or not math.isfinite(std):
        return math.nan
    return t_ppf(0.5 + 0.5 * confidence, n - 1) * std / math.sqrt(n)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Confidence interval of the mean of i.i.d. observations (NaNs are ignored).

    Agrees with ``scipy.stats.t.interval(confidence, n - 1, mean, sem)``.
    """
    _check_confidence(confidence)
    x = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    h = _half_width(std, n, confidence)
    return Interval(mean, std, n, mean - h, mean + h, h, confidence)


def paired_difference(
    a: Sequence[float] | np.ndarray | pd.Series,
    b: Sequence[float] | np.ndarray | pd.Series,
    confidence: float = 0.95,
) -> Interval:
    """Confidence interval of ``mean(a - b)`` for paired observations.

    Use it for two configurations run with common random numbers: ``a[i]`` and ``b[i]``
    come from replication ``i`` (the same seed).  Pairs with a NaN are dropped.
    """
    xa, xb = np.asarray(a, float), np.asarray(b, float)
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples need equal lengths, got {xa.size} and {xb.size}")
    return t_interval(xa - xb, confidence)


def independent_difference(
    a: Sequence[float] | np.ndarray | pd.Series,
    b: Sequence[float] | np.ndarray | pd.Series,
    confidence: float = 0.95,
) -> Interval:
    """Welch confidence interval of ``mean(a) - mean(b)`` for independent samples.

    ``std`` of the result is the standard error of the difference and ``n`` the smaller
    sample size; agrees with ``scipy.stats.ttest_ind(a, b, equal_var=False)``.
    """
    _check_confidence(confidence)
    ia, ib = t_interval(a, confidence), t_interval(b, confidence)
    diff = ia.mean - ib.mean
    if ia.n < 2 or ib.n < 2:
        return Interval(diff, math.nan, min(ia.n, ib.n), math.nan, math.nan, math.nan, confidence)
    va, vb = ia.std**2 / ia.n, ib.std**2 / ib.n
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Interval(diff, 0.0, min(ia.n, ib.n), diff, diff, 0.0, confidence)
    df = (va + vb) ** 2 / (va**2 / (ia.n - 1) + vb**2 / (ib.n - 1))
    h = t_ppf(0.5 + 0.5 * confidence, df) * se
    return Interval(diff, se, min(ia.n, ib.n), diff - h, diff + h, h, confidence)


def summarize(
    runs: pd.DataFrame,
    columns: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean, standard deviation and t-based confidence interval of each column.

    Parameters
    ----------
    runs
        One row per replication, one numeric column per KPI.
    columns
        The KPI columns; default: every numeric column.
    confidence
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Indexed by KPI name (index name ``kpi``) with :data:`STAT_COLUMNS`; NaN
        observations are ignored (``n`` counts the rest).
    """
    _check_confidence(confidence)
    if columns is None:
        columns = [c for c in runs.columns if pd.api.types.is_numeric_dtype(runs[c])]
    data = runs.loc[:, list(columns)].astype(float)
    n = data.count()
    out = pd.DataFrame(
        {"mean": data.mean(), "std": data.std(ddof=1), "n": n.astype(int)},
        index=pd.Index(list(columns), name="kpi"),
    )
    out["half_width"] = [
        _half_width(s, int(k), confidence) for s, k in zip(out["std"], out["n"], strict=True)
    ]
    out["ci_low"] = out["mean"] - out["half_width"]
    out["ci_high"] = out["mean"] + out["half_width"]
    return out.loc[:, list(STAT_COLUMNS)]


# -- warm-up ----------------------------------------------------------------------------
def mser5(
    series: Sequence[float] | np.ndarray | pd.Series, *, batch: int = 5, max_fraction: float = 0.5
) -> int:
    """MSER-5 truncation point of an output series (White, 1997).

    The series is averaged in batches of ``batch`` observations; for each candidate
    number ``d`` of leading batches to drop, the statistic
    ``Σ (Y_i - Ȳ_d)² / (k - d)²`` over the remaining ``k - d`` batch means is computed,
    and the ``d`` that minimises it (searched over the first ``max_fraction`` of the
    batches, keeping at least two) is returned in observations.

    Parameters
    ----------
    series
        Observations in time order, e.g. daily mean yard occupancy (TEU) per day.  NaNs
        are not allowed.
    batch
        Batch size (5 for MSER-5).
    max_fraction
        Largest share of the series that may be truncated.

    Returns
    -------
    int
        Number of leading observations to drop (a multiple of ``batch``; for a daily
        series: days).  0 when the series is shorter than two batches.
    """
    y = np.asarray(series, float)
    if np.isnan(y).any():
        raise ValueError("mser5 needs a series without NaN")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch!r}")
    k = y.size // batch
    if k < 2:
        return 0
    means = y[: k * batch].reshape(k, batch).mean(axis=1)
    # at least two batch means stay, so the statistic measures spread, not one point
    d_max = max(0, min(k - 2, math.floor(max_fraction * k)))
    stat = [
        float(np.sum((means[d:] - means[d:].mean()) ** 2)) / (k - d) ** 2 for d in range(d_max + 1)
    ]
    d = int(np.argmin(stat))
    return d * batch


def suggest_warmup_days(result: Any, column: str | None = None, *, batch: int = 5) -> int:
    """MSER-5 warm-up suggestion, in days, from a run's daily ``timeseries`` table.

    Parameters
    ----------
    result
        A :class:`~g60rail.result.Result` (or its ``tables`` dict).
    column
        A column of ``timeseries``; default the daily mean yard occupancy of the first
        hub (``yard_teu_mean.<place>``).
    batch
        MSER batch size.
    """
    tables = getattr(result, "tables", result)
    ts = tables["timeseries"]
    if column is None:
        cols = [c for c in ts.columns if c.startswith("yard_teu_mean.")]
        if not cols:
            raise ValueError("timeseries has no yard_teu_mean.* column; pass column=")
        column = cols[0]
    if column not in ts.columns:
        raise KeyError(f"timeseries has no column {column!r}")
    return mser5(ts[column].to_numpy(float), batch=batch)


# -- Little's law -----------------------------------------------------------------------
def littles_law_gap(mean_in_system: float, arrival_rate: float, mean_time: float) -> float:
    """Relative gap between a measured mean number in system and ``λ · W``.

    Parameters
    ----------
    mean_in_system
        Time-average number in the system ``L`` (e.g. yard TEU).
    arrival_rate
        Arrival rate ``λ`` in the same unit per hour (e.g. TEU per hour).
    mean_time
        Mean time in the system ``W``, hours.

    Returns
    -------
    float
        ``(L - λ W) / (λ W)``; near 0 in a long, stable run.
    """
    expected = arrival_rate * mean_time
    if expected == 0:
        return math.nan
    return (mean_in_system - expected) / expected
