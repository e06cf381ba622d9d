"""Output analysis of replicated runs: confidence intervals, precision, warm-up, Little's law.

Replications of a stochastic simulation are independent, identically distributed
observations of each KPI, so a KPI's mean over ``n`` replications has the Student-t
confidence interval ``mean ± t(1 - α/2, n - 1) · s / √n``.  Two configurations run with
common random numbers (replication ``i`` of both uses the same seed) are compared with a
*paired* interval on the per-replication differences, which is usually much narrower than
the interval of two independent samples.  Quantiles and the Welch test come from
:mod:`scipy.stats`.

Relative precision: :func:`replications_for_relative_precision` estimates how many
replications bring a KPI's half-width within ``γ · |mean|`` (Law & Kelton's sequential
procedure with its look-ahead estimate); :func:`g60rail.experiment.replicate` uses it with
``precision=``.

Warm-up: a run starts from an empty corridor, so the first days under-state congestion.
:func:`mser5` suggests how many days to drop from a daily series; pass them to
``simulate(..., warmup_days=...)``, whose time statistics then leave them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _scipy_stats

from g60rail.kpi import STAT_COLUMNS

__all__ = [
    "STAT_COLUMNS",
    "Interval",
    "PrecisionStatus",
    "SequentialOutcome",
    "adjusted_relative_precision",
    "independent_difference",
    "littles_law_gap",
    "mser5",
    "paired_difference",
    "precision_status",
    "relative_half_width",
    "replicate_until_precise",
    "replications_for_relative_precision",
    "suggest_warmup_days",
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


def _check_confidence(confidence: float) -> None:
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
    _check_confidence(confidence)
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
    _check_confidence(confidence)
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
    _check_confidence(confidence)
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


# -- relative precision -----------------------------------------------------------------
def adjusted_relative_precision(precision: float) -> float:
    """The half-width target ``γ' = γ / (1 + γ)`` of a relative precision ``γ``.

    A confidence interval whose half-width is at most ``γ' · |mean|`` bounds the relative
    error ``|mean - μ| / |μ|`` by ``γ`` (not only ``|mean - μ| / |mean|``), with the
    interval's confidence (Law & Kelton, *Simulation Modeling and Analysis*, 5th ed.,
    section 9.4.1).
    """
    if not (math.isfinite(precision) and precision > 0):
        raise ValueError(f"precision must be a positive number, got {precision!r}")
    return precision / (1.0 + precision)


def relative_half_width(mean: float, half_width: float) -> float:
    """``half_width / |mean|``: 0 for an interval without width, inf for a zero mean
    with a positive half-width, NaN when the half-width is unknown."""
    if math.isnan(half_width) or math.isnan(mean):
        return math.nan
    if half_width == 0.0:
        return 0.0
    if mean == 0.0:
        return math.inf
    return half_width / abs(mean)


def replications_for_relative_precision(
    mean: float, std: float, n: int, precision: float, confidence: float = 0.95
) -> int | None:
    """Law & Kelton's estimate ``n_r*(γ)`` of the replications a relative precision needs.

    With the mean ``X̄(n)`` and standard deviation ``S(n)`` of ``n`` replications, it is
    the smallest ``i >= n`` with ``t(1 - α/2, i - 1) · S(n) / √i <= γ' · |X̄(n)|``, where
    ``γ' = γ / (1 + γ)`` (:func:`adjusted_relative_precision`); Law & Kelton,
    *Simulation Modeling and Analysis* (5th ed., 2015), section 9.4.1, eq. 9.3.  It
    equals ``n`` when the interval of the ``n`` replications is already precise enough.

    Parameters
    ----------
    mean, std
        Sample mean and standard deviation (``ddof=1``) of the KPI, in its unit.
    n
        Replications observed (>= 2).
    precision
        Relative precision ``γ`` (> 0), e.g. 0.05 for a half-width of 5 % of the mean.
    confidence
        Confidence level ``1 - α`` of the interval.

    Returns
    -------
    int or None
        The estimated number of replications (>= ``n``); None when no number of
        replications reaches the precision (a zero or undefined mean with spread, an
        undefined standard deviation) or the estimate exceeds 10**12.
    """
    target = adjusted_relative_precision(precision)
    _check_confidence(confidence)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n!r}")
    if not (math.isfinite(mean) and math.isfinite(std)):
        return None
    if std == 0.0:
        return n
    allowed = target * abs(mean) / std  # the largest t(i - 1) / √i that is precise enough
    if allowed == 0.0:
        return None
    q = 0.5 + 0.5 * confidence

    def precise(i: int) -> bool:
        return t_ppf(q, i - 1) / math.sqrt(i) <= allowed

    if precise(n):
        return n
    # t(i - 1) falls with i, so i >= (t(n - 1) / allowed)² is precise enough
    bound = (t_ppf(q, n - 1) / allowed) ** 2
    if bound > 1e12:
        return None
    lo, hi = n, max(n + 1, math.ceil(bound))  # precise(lo) is false, precise(hi) true
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if precise(mid):
            hi = mid
        else:
            lo = mid
    return hi


STOP_PRECISION, STOP_MAX = "precision", "max_replications"


@dataclass(frozen=True)
class PrecisionStatus:
    """Where a sequential relative-precision procedure stands after some replications.

    Attributes
    ----------
    met
        Whether every KPI's half-width is within ``γ' · |mean|``, ``γ' = γ / (1 + γ)``.
    needed
        Estimated replications for every KPI to meet it (the largest of Law & Kelton's
        ``n_r*(γ)`` over the KPIs); None when some KPI cannot meet it.
    half_widths, relative_half_widths
        Per KPI: the half-width (KPI unit) and ``half_width / |mean|``.
    """

    met: bool
    needed: int | None
    half_widths: dict[str, float]
    relative_half_widths: dict[str, float]


def precision_status(
    summary: pd.DataFrame, kpis: Sequence[str], precision: float, confidence: float = 0.95
) -> PrecisionStatus:
    """The stopping rule of the sequential relative-precision procedure, on a summary.

    Parameters
    ----------
    summary
        A :func:`summarize` table (index ``kpi``); a KPI missing from it has not been
        observed and does not meet the precision.
    kpis
        The KPIs that must reach the precision.
    precision
        Relative precision ``γ`` (> 0).
    confidence
        Confidence level of the summary's intervals.
    """
    target = adjusted_relative_precision(precision)
    half: dict[str, float] = {}
    rel: dict[str, float] = {}
    needed: int | None = 0
    rows = summary.index.get_indexer(pd.Index(list(kpis)))  # -1: missing from the summary
    table = np.full((len(rows), 4), np.nan)
    found = rows >= 0
    for j, col in enumerate(("mean", "std", "n", "half_width")):
        table[found, j] = summary[col].to_numpy(dtype=float)[rows[found]]
    for kpi, (mean, std, n, h) in zip(kpis, table, strict=True):
        half[kpi], rel[kpi] = float(h), relative_half_width(float(mean), float(h))
        want = (
            replications_for_relative_precision(mean, std, int(n), precision, confidence)
            if n >= 2
            else None
        )
        needed = None if want is None or needed is None else max(needed, want)
    met = all(r <= target for r in rel.values())  # NaN compares False: not met
    return PrecisionStatus(met, needed, half, rel)


@dataclass(frozen=True)
class SequentialOutcome:
    """How :func:`replicate_until_precise` ended.

    Attributes
    ----------
    replications
        Replications observed.
    stopped_because
        ``"precision"`` or ``"max_replications"``.
    status
        The stopping rule's last evaluation.
    batches
        Replications observed in each round.
    """

    replications: int
    stopped_because: str
    status: PrecisionStatus
    batches: list[int]


def replicate_until_precise(
    observe: Callable[[int, int], pd.DataFrame],
    kpis: Sequence[str],
    *,
    precision: float,
    initial: int,
    max_replications: int,
    confidence: float = 0.95,
) -> SequentialOutcome:
    """Law & Kelton's sequential procedure for a relative precision, with look-ahead.

    ``initial`` replications are observed; then, as long as some KPI's half-width
    exceeds ``γ' · |mean|`` (``γ' = γ / (1 + γ)``), the next round observes as many
    replications as the estimate ``n_r*(γ)`` (:func:`replications_for_relative_precision`,
    the largest over the KPIs) says are still missing, at least one and at most up to
    ``max_replications`` in all.  Law & Kelton, *Simulation Modeling and Analysis* (5th
    ed., 2015), section 9.4.1: their procedure adds one replication at a time and tests
    after each; here the rule is tested after each round, whose size the look-ahead
    estimate sets, so that a round's replications run in parallel.  The final interval
    covers the mean with about the stated confidence (asymptotically as ``γ → 0``, Chow
    & Robbins, 1965), and the relative error ``|X̄ - μ| / |μ|`` is then at most ``γ``.

    Parameters
    ----------
    observe
        ``observe(start, stop)`` returns the KPIs of replications ``start … stop-1``,
        one row each, one column per KPI.
    kpis
        KPI names that must reach the precision (columns of ``observe``'s frames).
    precision
        Relative precision ``γ`` (> 0).
    initial
        Replications of the first round (>= 2).
    max_replications
        Most replications in all (>= ``initial``).
    confidence
        Confidence level of the intervals.

    Returns
    -------
    SequentialOutcome
    """
    adjusted_relative_precision(precision)
    _check_confidence(confidence)
    if not kpis:
        raise ValueError("kpis must name at least one KPI")
    if initial < 2:
        raise ValueError(f"initial must be >= 2, got {initial!r}")
    if max_replications < initial:
        raise ValueError(
            f"max_replications must be >= initial ({initial}), got {max_replications!r}"
        )
    frames: list[pd.DataFrame] = []
    batches: list[int] = []
    n, target = 0, initial
    while True:
        frames.append(observe(n, target))
        batches.append(target - n)
        n = target
        observed = pd.concat(frames, ignore_index=True).reindex(columns=list(kpis))
        summary = summarize(observed, kpis, confidence)
        status = precision_status(summary, kpis, precision, confidence)
        if status.met:
            return SequentialOutcome(n, STOP_PRECISION, status, batches)
        if n >= max_replications:
            return SequentialOutcome(n, STOP_MAX, status, batches)
        target = min(max_replications, max(n + 1, status.needed or max_replications))


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
