"""Figures of experiments: a KPI across a capacity sweep, and the cost of tuned capacities
against a service level.  Both read the tables that :func:`g60rail.sweep` and
:func:`g60rail.tune` return; neither runs a simulation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from g60rail.kpi import STAT_COLUMNS, parse_constraint
from g60rail.plot.axes import figure_and_axes

__all__ = ["sweep_chart", "tuning_chart"]

_TUNE_FIXED = ("trial", "objective", "cost", "feasible", "violation")


def _sweep_params(summary: pd.DataFrame) -> list[str]:
    return [c for c in summary.columns if c not in ("point", "kpi", *STAT_COLUMNS)]


def sweep_chart(summary_df: pd.DataFrame, kpi: str, param: str, ax: Axes | None = None) -> Figure:
    """A KPI's mean against one swept parameter, with its confidence band.

    One line per combination of the other swept parameters.

    Parameters
    ----------
    summary_df
        ``SweepResult.summary``: one row per (point, KPI) with the parameter columns and
        ``mean``, ``ci_low``, ``ci_high``, ``n``.
    kpi
        KPI to plot (unit as in its name, e.g. ``hub.dwell_h_mean`` in hours).
    param
        Swept parameter on the x axis (dotted key).
    ax
        Axes to draw on; a new figure when omitted.
    """
    params = _sweep_params(summary_df)
    if param not in params:
        raise KeyError(f"{param!r} is not a swept parameter (have: {', '.join(params)})")
    rows = summary_df[summary_df["kpi"] == kpi]
    if rows.empty:
        raise KeyError(f"no KPI {kpi!r} in the sweep summary")
    fig, ax = figure_and_axes(ax, (8, 4.8))
    others = [p for p in params if p != param and rows[p].nunique(dropna=False) > 1]
    x_numeric = pd.api.types.is_numeric_dtype(rows[param])
    categories = list(dict.fromkeys(rows[param])) if not x_numeric else []
    groups = rows.groupby(others, sort=True, dropna=False) if others else [((), rows)]
    for label, g in groups:
        g = g.sort_values(param) if x_numeric else g
        x = g[param].to_numpy(float) if x_numeric else [categories.index(v) for v in g[param]]
        key = label if isinstance(label, tuple) else (label,)
        name = ", ".join(f"{p}={v}" for p, v in zip(others, key, strict=True)) or kpi
        (line,) = ax.plot(x, g["mean"], marker="o", label=name)
        ax.fill_between(x, g["ci_low"], g["ci_high"], color=line.get_color(), alpha=0.2)
    if x_numeric and pd.api.types.is_integer_dtype(rows[param]):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not x_numeric:
        ax.set_xticks(range(len(categories)), [str(c) for c in categories])
    n = rows["n"]
    reps = f"n={int(n.min())}" if n.min() == n.max() else f"n={int(n.min())}-{int(n.max())}"
    ax.set_xlabel(param)
    ax.set_ylabel(kpi)
    ax.set_title(f"{kpi}: mean and confidence interval over replications ({reps})")
    ax.grid(True, alpha=0.3)
    if others:
        ax.legend(fontsize="small")
    return fig


def _constraint_bound(texts: Sequence[str], kpi: str) -> tuple[str, float] | None:
    for text in texts:
        c = parse_constraint(text)
        if c.kpi == kpi:
            return c.op, c.bound
    return None


def tuning_chart(
    trials_df: pd.DataFrame,
    ax: Axes | None = None,
    *,
    kpi: str | None = None,
    cost: str = "cost",
) -> Figure:
    """Cost of each tuning trial against a service-level KPI, feasible ones marked.

    Parameters
    ----------
    trials_df
        ``TuneResult.trials``: one row per trial with ``cost``, ``feasible`` and KPI means.
    ax
        Axes to draw on; a new figure when omitted.
    kpi
        Service-level KPI on the x axis; default the KPI of the first constraint
        (``trials_df.attrs["constraints"]``), else the first KPI column.
    cost
        Column on the y axis (capital cost).
    """
    constraints = list(trials_df.attrs.get("constraints", []))
    if kpi is None:
        if constraints:
            kpi = parse_constraint(constraints[0]).kpi
        else:
            params = set(trials_df.attrs.get("params", []))
            candidates = [c for c in trials_df.columns if c not in _TUNE_FIXED and c not in params]
            if not candidates:
                raise KeyError("trials have no KPI columns; pass kpi=")
            kpi = candidates[0]
    if kpi not in trials_df.columns:
        raise KeyError(f"no KPI {kpi!r} in the trials")
    fig, ax = figure_and_axes(ax, (8, 4.8))
    feasible = trials_df["feasible"].astype(bool).to_numpy()
    x = trials_df[kpi].to_numpy(float)
    y = trials_df[cost].to_numpy(float)
    ax.scatter(x[feasible], y[feasible], marker="o", color="tab:green", label="feasible")
    ax.scatter(x[~feasible], y[~feasible], marker="x", color="tab:red", label="infeasible")
    if feasible.any():
        i = int(np.flatnonzero(feasible)[np.argmin(y[feasible])])
        ax.scatter(
            [x[i]],
            [y[i]],
            marker="*",
            s=250,
            color="gold",
            edgecolor="black",
            zorder=3,
            label="cheapest feasible",
        )
    bound = _constraint_bound(constraints, kpi)
    if bound is not None:
        ax.axvline(bound[1], color="grey", linestyle="--", label=f"{kpi} {bound[0]} {bound[1]:g}")
    ax.set_xlabel(f"{kpi} (mean over replications)")
    ax.set_ylabel(cost)
    ax.set_title("Tuning trials: cost against service level")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig
