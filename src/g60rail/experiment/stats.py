"""Output analysis of replicated runs: confidence intervals of means and of differences,
summaries, Little's law.

Replications of a stochastic simulation are independent, identically distributed
observations of each KPI, so a KPI's mean over ``n`` replications has the Student-t
confidence interval ``mean ± t(1 - α/2, n - 1) · s / √n``.  Two configurations run with
common random numbers (replication ``i`` of both uses the same seed) are compared with a
*paired* interval on the per-replication differences, which is usually much narrower than
the interval of two independent samples.  Quantiles and the Welch test come from
:mod:`scipy.stats`.

Relative precision (how many replications bring a half-width within ``γ · |mean|``) is in
:mod:`g60rail.experiment.precision`; warm-up (MSER-5) in :mod:`g60rail.experiment.warmup`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats as _scipy_stats

from g60rail.kpi import STAT_COLUMNS

__all__ = [
    "STAT_COLUMNS",
    "Interval",
    "check_confidence",
    "independent_difference",
    "littles_law_gap",
    "paired_difference",
    "summarize",
    "t_interval",
    "t_ppf",
]


# -- Student t quantile ---------------------------------------------------------------
@lru_cache(maxsize=1024)
def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t distribution (``scipy.stats.t.ppf``).

    Parameters
    ----------
    q
        Probability in (0, 1).
    df
        Degrees of freedom (> 0, need not be an integer).

    Returns
    -------
    float
        ``t`` with ``P(T <= t) = q``.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    if not df > 0:
        raise ValueError(f"df must be positive, got {df!r}")
    return float(_scipy_stats.t.ppf(q, df))


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


def _half_widths(std: np.ndarray, n: np.ndarray, confidence: float) -> np.ndarray:
    """``t(1 - α/2, n - 1) · std / √n`` element-wise; NaN where ``n < 2`` or ``std`` is NaN."""
    std, n = np.asarray(std, float), np.asarray(n, float)
    ok = (n >= 2) & np.isfinite(std)
    # the KPIs of one experiment share a few sample sizes: one quantile each
    dfs, which = np.unique(np.where(ok, n - 1.0, 1.0), return_inverse=True)
    t = np.array([t_ppf(0.5 + 0.5 * confidence, float(d)) for d in dfs])[which]
    return np.where(ok, t * std / np.sqrt(np.where(ok, n, 1.0)), np.nan)


def check_confidence(confidence: float) -> None:
    """Check a confidence level.

    Parameters
    ----------
    confidence
        Confidence level ``1 - α`` of an interval, e.g. 0.95.

    Raises
    ------
    ValueError
        ``confidence`` is not in (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _observed(values: Iterable[float] | np.ndarray | pd.Series) -> np.ndarray:
    """The values as a float array without NaNs."""
    x = np.asarray(list(values) if not isinstance(values, (np.ndarray, pd.Series)) else values)
    x = x.astype(float)
    return x[~np.isnan(x)]


def t_interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Confidence interval of the mean of i.i.d. observations (NaNs are ignored).

    The interval is ``scipy.stats.t.interval(confidence, n - 1, mean, sem)``; a sample
    without spread has a zero-width interval.
    """
    check_confidence(confidence)
    x = _observed(values)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    h = float(_half_widths(np.array(std), np.array(n), confidence))
    return Interval(mean, std, n, mean - h, mean + h, h, confidence)


def paired_difference(
    a: Sequence[float] | np.ndarray | pd.Series,
    b: Sequence[float] | np.ndarray | pd.Series,
    confidence: float = 0.95,
) -> Interval:
    """Confidence interval of ``mean(a - b)`` for paired observations.

    Use it for two configurations run with common random numbers: ``a[i]`` and ``b[i]``
    come from replication ``i`` (the same seed).  Pairs with a NaN are dropped.  The
    interval is that of ``scipy.stats.ttest_rel(a, b)``.
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
    sample size; the interval is that of ``scipy.stats.ttest_ind(a, b, equal_var=False)``
    (NaNs are dropped from each sample).
    """
    check_confidence(confidence)
    xa, xb = _observed(a), _observed(b)
    n = min(xa.size, xb.size)
    diff = float(xa.mean() - xb.mean()) if n else math.nan
    if n < 2:
        return Interval(diff, math.nan, n, math.nan, math.nan, math.nan, confidence)
    se = math.sqrt(xa.var(ddof=1) / xa.size + xb.var(ddof=1) / xb.size)
    if se == 0.0:
        return Interval(diff, 0.0, n, diff, diff, 0.0, confidence)
    welch = _scipy_stats.ttest_ind(xa, xb, equal_var=False)
    ci = welch.confidence_interval(confidence)
    low, high = float(ci.low), float(ci.high)
    return Interval(diff, se, n, low, high, 0.5 * (high - low), confidence)


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
    check_confidence(confidence)
    if columns is None:
        columns = [c for c in runs.columns if pd.api.types.is_numeric_dtype(runs[c])]
    names = list(columns)
    data = runs[names].to_numpy(dtype=float).reshape(len(runs), len(names))
    seen = ~np.isnan(data)
    n = seen.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(seen, data, 0.0).sum(axis=0) / n
        dev = np.where(seen, data - mean, 0.0)
        std = np.where(n > 1, np.sqrt((dev * dev).sum(axis=0) / (n - 1)), np.nan)
    half = _half_widths(std, n, confidence)
    values = {
        "mean": mean,
        "std": std,
        "n": n.astype(int),
        "ci_low": mean - half,
        "ci_high": mean + half,
        "half_width": half,
    }
    return pd.DataFrame({c: values[c] for c in STAT_COLUMNS}, index=pd.Index(names, name="kpi"))


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
