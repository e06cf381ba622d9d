"""Warm-up: how many leading days of a run to leave out of its time statistics.

A run starts from an empty corridor, so the first days under-state congestion.
:func:`mser5` finds the truncation point of an output series that minimises the MSER
statistic (White, 1997); :func:`suggest_warmup_days` applies it to a run's daily
``timeseries`` table.  Pass the days to ``simulate(..., warmup_days=...)``, whose time
statistics then leave them out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["mser5", "suggest_warmup_days"]


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
