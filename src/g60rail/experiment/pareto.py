"""The Pareto front: the configurations no other one beats on every objective.

Configuration ``a`` dominates ``b`` when ``a`` is at least as good as ``b`` on every
objective (life-cycle cost, service KPI means) and strictly better on one; the front is
the set of configurations that no other dominates (the first front of the non-dominated
sorting in Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE TEVC 6(2), 2002).  Among the feasible trials of a tuning study
it is the set Optuna's ``Study.best_trials`` returns; here it is computed from the
trials table, so a stored study and a table read back from CSV give the same front.

Configurations with equal objectives do not dominate each other: both stay on the front.
A missing value (NaN) counts as the worst value of its objective.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["dominated", "non_dominated", "pareto_front"]


def dominated(losses: np.ndarray) -> np.ndarray:
    """Which rows of ``losses`` another row dominates.

    Parameters
    ----------
    losses
        Shape ``(n, m)``: ``n`` configurations, ``m`` objectives, smaller is better in
        every column (NaN is worst).

    Returns
    -------
    numpy.ndarray
        Booleans of shape ``(n,)``.
    """
    x = np.asarray(losses, float)
    if x.ndim != 2:
        raise ValueError(f"losses must be a 2-d array (points, objectives), got shape {x.shape}")
    x = np.where(np.isnan(x), np.inf, x)
    # element [j, i]: row j is no worse than row i everywhere, better somewhere
    no_worse = np.all(x[:, None, :] <= x[None, :, :], axis=2)
    better = np.any(x[:, None, :] < x[None, :, :], axis=2)
    return np.asarray((no_worse & better).any(axis=0))


def non_dominated(values: np.ndarray, minimize: Sequence[bool]) -> np.ndarray:
    """Which rows of ``values`` are on the Pareto front.

    Parameters
    ----------
    values
        Shape ``(n, m)``: objective values of ``n`` configurations, in their own units.
    minimize
        For each of the ``m`` objectives, whether smaller is better (else larger).

    Returns
    -------
    numpy.ndarray
        Booleans of shape ``(n,)``: True where no other row dominates.
    """
    x = np.asarray(values, float)
    if x.ndim != 2 or x.shape[1] != len(minimize):
        raise ValueError(
            f"values must have shape (points, {len(minimize)}) for {len(minimize)} "
            f"objectives, got {x.shape}"
        )
    sign = np.where(np.asarray(minimize, bool), 1.0, -1.0)
    return ~dominated(x * sign)


def pareto_front(
    table: pd.DataFrame, objectives: Mapping[str, bool], *, feasible: str | None = "feasible"
) -> pd.DataFrame:
    """The rows of ``table`` on the Pareto front of ``objectives``, best first.

    Parameters
    ----------
    table
        One row per configuration (e.g. ``TuneResult.trials``).
    objectives
        Column -> whether smaller is better, e.g. ``{"cost": True,
        "hub.truck_turnaround_h_p95": True}``; rows are sorted by these columns in order.
    feasible
        A boolean column: only rows where it is True take part (None: every row).

    Returns
    -------
    pandas.DataFrame
        The non-dominated rows (every column of ``table``), a fresh index.
    """
    if not objectives:
        raise ValueError("the Pareto front needs at least one objective")
    missing = [c for c in [*objectives, *([feasible] if feasible else [])] if c not in table]
    if missing:
        raise KeyError(f"no column {missing[0]!r} in the table")
    rows = table[table[feasible].astype(bool)] if feasible else table
    cols = list(objectives)
    on_front = non_dominated(rows[cols].to_numpy(float), [objectives[c] for c in cols])
    front = rows[on_front]
    order = front.sort_values(cols, ascending=[objectives[c] for c in cols], kind="stable")
    return order.reset_index(drop=True)
