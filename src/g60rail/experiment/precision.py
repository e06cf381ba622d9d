"""Replications up to a relative precision: Law & Kelton's sequential procedure.

A KPI's mean over ``n`` replications has a t confidence interval of half-width
``h = t(1 - α/2, n - 1) · S(n) / √n`` (:mod:`g60rail.experiment.stats`).  A relative
precision ``γ`` (e.g. 0.05) asks for ``h <= γ' · |X̄(n)|`` with ``γ' = γ / (1 + γ)``, which
bounds the relative error ``|X̄ - μ| / |μ|`` by ``γ`` (Law & Kelton, *Simulation Modeling
and Analysis*, 5th ed., 2015, section 9.4.1).

:func:`replications_for_relative_precision` estimates how many replications reach it (the
look-ahead estimate ``n_r*(γ)`` of eq. 9.3), :func:`precision_status` applies the stopping
rule to a :func:`~g60rail.experiment.stats.summarize` table, and
:func:`replicate_until_precise` runs the sequential procedure in rounds;
:func:`g60rail.experiment.replicate` uses it with ``precision=``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from g60rail.experiment.stats import check_confidence, summarize, t_ppf

__all__ = [
    "PrecisionStatus",
    "SequentialOutcome",
    "adjusted_relative_precision",
    "precision_status",
    "relative_half_width",
    "replicate_until_precise",
    "replications_for_relative_precision",
]


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
    check_confidence(confidence)
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
        A :func:`~g60rail.experiment.stats.summarize` table (index ``kpi``); a KPI
        missing from it has not been observed and does not meet the precision.
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
    check_confidence(confidence)
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
