"""The last step of a study of cost against service: from the cheap end of the Pareto
front to one configuration, on more replications than the trials had.

A trial's KPI means come from a few replications, and so does the front.  Two of its
features can be artefacts of that noise: which of several equally cheap configurations
the front keeps (equally cheap trials are told apart by their service means alone), and
whether the cheapest feasible configuration is feasible at all.  :func:`choose` settles
both, in rounds:

1. The candidates are every feasible trial as cheap as the cheapest feasible one (costs
   equal to a relative ``1e-9``): the front's cheapest point and the equally cheap
   trials it dominates only through its service means.
2. Two or more candidates: :func:`~g60rail.experiment.selection.select_best` (procedure
   KN under common random numbers) picks the one with the best mean of the first service
   KPI, with probability at least ``confidence`` when it is better than every other by
   the indifference zone ``δ``.  One candidate: it runs ``n0`` replications.  Either way
   the replications have the trials' seeds, so the trials' runs are among them.
3. The pick's constraints are checked on its means over every run of the round (at
   least ``n0``).  If it meets them it is chosen; if not, it was feasible by chance: it
   leaves the pool, and the next round starts again from the remaining feasible trials
   (perhaps a costlier level).

The rounds stop at the first confirmed pick, or when no feasible trial is left (nothing
is chosen).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from g60rail.experiment.checks import progress_bar
from g60rail.experiment.executors import Task
from g60rail.experiment.replications import KPIs, replication_seeds, run_key, run_tasks
from g60rail.experiment.selection import DEFAULT_MAX_REPLICATIONS, Selection, select_best
from g60rail.experiment.tuning_space import ServiceKpi, Space
from g60rail.kpi import Constraint
from g60rail.scenario.schema import Scenario

__all__ = [
    "DEFAULT_RELATIVE_INDIFFERENCE",
    "Choice",
    "ConfirmSettings",
    "cheapest_feasible",
    "choose",
]

DEFAULT_RELATIVE_INDIFFERENCE = 0.05
"""Indifference zone of the final selection when none is given, as a share of the largest
trial mean of the service KPI among the candidates (5 %)."""

_COST_RTOL = 1e-9  # costs closer than this (relative) are equal
_META = ("point", "replication", "seed")


@dataclass(frozen=True)
class ConfirmSettings:
    """Settings of the final step (:func:`choose`).

    Attributes
    ----------
    indifference
        KN's indifference zone ``δ`` in the first service KPI's unit (e.g. hours); None:
        :data:`DEFAULT_RELATIVE_INDIFFERENCE` of the candidates' largest trial mean of it
        (1 in its unit when those are all 0).
    confidence
        KN's probability of correct selection, in ``(0.5, 1)`` (KN needs more than
        ``1/k`` for ``k`` candidates).
    n0
        KN's first-stage replications per candidate, and the replications that confirm a
        single candidate (>= 2); 0 skips the step (the front's cheapest point is chosen
        on the trials' means).
    max_replications
        Most replications per candidate in KN (>= ``n0``).
    """

    indifference: float | None = None
    confidence: float = 0.95
    n0: int = 10
    max_replications: int = DEFAULT_MAX_REPLICATIONS

    def check(self) -> None:
        """Raise ``ValueError`` on a setting out of its range (before any trial runs)."""
        d = self.indifference
        if d is not None and not (
            isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d) and d > 0
        ):
            raise ValueError(f"indifference must be a positive number (the KPI's unit), got {d!r}")
        c = self.confidence
        if isinstance(c, bool) or not (isinstance(c, float | int) and 0.5 < c < 1):
            raise ValueError(f"confidence must be in (0.5, 1), got {c!r}")
        n0 = self.n0
        if isinstance(n0, bool) or not isinstance(n0, int) or n0 < 0 or n0 == 1:
            raise ValueError(
                f"the confirming replications must be 0 or an integer >= 2, got {n0!r}"
            )
        m = self.max_replications
        if isinstance(m, bool) or not isinstance(m, int) or m < n0:
            raise ValueError(f"max_replications must be an integer >= {n0}, got {m!r}")


@dataclass
class Choice:
    """What :func:`choose` found.

    Attributes
    ----------
    chosen
        The chosen configuration (dotted key -> value, integers for integer ranges), or
        None when no feasible trial was confirmed.
    kpis
        Its KPI means over the runs of the round that confirmed it.
    selection
        KN's :class:`~g60rail.experiment.selection.Selection` of that round (None when
        the round had a single candidate).
    rounds
        One row per candidate of every round: ``round``, ``trial``, the parameters,
        ``cost``, ``currency``, ``replications``, the means of the service and constraint
        KPIs, ``feasible`` (on those means), ``picked`` (the round's pick) and ``chosen``.
    """

    chosen: dict[str, Any] | None
    kpis: KPIs
    selection: Selection | None
    rounds: pd.DataFrame = field(default_factory=pd.DataFrame)


def cheapest_feasible(trials: pd.DataFrame, cost: str = "cost") -> pd.DataFrame:
    """The feasible rows of ``trials`` as cheap as the cheapest of them (costs equal to a
    relative ``1e-9``)."""
    pool = trials[trials["feasible"].astype(bool)]
    if not len(pool):
        return pool
    low = float(pool[cost].min())
    return pool[pool[cost] <= low + _COST_RTOL * max(abs(low), 1.0)]


def _typed(row: pd.Series, spec: Space) -> dict[str, Any]:
    """A trial's configuration with the values its ranges give: ints, floats or the
    choices themselves (not numpy scalars)."""
    point: dict[str, Any] = {}
    for key, (kind, ends) in spec.items():
        v = row[key]
        if kind == "int":
            point[key] = int(v)
        elif kind == "float":
            point[key] = float(v)
        else:
            point[key] = next((c for c in ends if c == v), v)
    return point


def _default_indifference(means: Sequence[float]) -> float:
    finite = [abs(m) for m in means if math.isfinite(m)]
    delta = DEFAULT_RELATIVE_INDIFFERENCE * max(finite, default=0.0)
    return delta if delta > 0 else 1.0


def _confirming_runs(
    scenario: Scenario,
    point: dict[str, Any],
    n: int,
    *,
    days: float,
    seed: int,
    warmup_days: float,
    executor: Any,
    progress: bool | None,
) -> pd.DataFrame:
    """``n`` replications of one configuration (the seeds of every experiment): a runs
    table like ``Selection.runs`` with ``point`` 0."""
    seeds = replication_seeds(seed, n)
    config = scenario.with_overrides(point).hash
    base = scenario.to_dict()
    tasks = [
        Task(run_key(config, days, s, warmup_days), base, point, float(days), s, warmup_days)
        for s in seeds
    ]
    with progress_bar(len(tasks), 0, "confirm", progress) as bar:
        out = run_tasks(tasks, executor, bar)
    rows = [
        {"point": 0, "replication": j, "seed": t.seed, **out[t.key]} for j, t in enumerate(tasks)
    ]
    return pd.DataFrame(rows)


def _point_means(runs: pd.DataFrame, i: int) -> tuple[KPIs, int]:
    mine = runs[runs["point"] == i].drop(columns=list(_META))
    means = mine.mean(numeric_only=True)
    return {str(k): float(v) for k, v in means.items()}, len(mine)


def choose(
    scenario: Scenario,
    trials: pd.DataFrame,
    spec: Space,
    service: ServiceKpi,
    constraints: Sequence[Constraint],
    settings: ConfirmSettings,
    *,
    days: float,
    seed: int,
    warmup_days: float,
    executor: Any,
    progress: bool | None,
    currency: str,
) -> Choice:
    """Choose a configuration from the cheap end of a study's feasible trials (the rounds
    of the module's description).

    Parameters
    ----------
    scenario
        The base scenario of the study.
    trials
        ``TuneResult.trials`` (``feasible``, ``cost``, the parameters, KPI means).
    spec
        The parsed search space (its keys are the parameters).
    service
        The service KPI KN compares (the study's first).
    constraints
        The study's constraints, checked again on the confirming runs.
    settings
        Indifference zone, confidence and replications (``settings.n0 >= 2``).
    days, seed, warmup_days
        As the study's: the same seeds, so the trials' runs are among the rounds' runs.
    executor, progress
        Where the runs run (an executor object, already started), and progress bars.
    currency
        The currency of ``cost``.
    """
    pool = trials
    rows: list[dict[str, Any]] = []
    kpis_shown = list(dict.fromkeys([service.kpi, *(c.kpi for c in constraints)]))
    run_kw: dict[str, Any] = dict(
        days=days, seed=seed, warmup_days=warmup_days, executor=executor, progress=progress
    )
    round_no = 0
    while len(cands := _ranked(cheapest_feasible(pool), service)):
        round_no += 1
        points = [_typed(row, spec) for _, row in cands.iterrows()]
        selection: Selection | None = None
        if len(points) > 1:
            delta = settings.indifference
            if delta is None:
                delta = _default_indifference(list(cands.get(service.kpi, [])))
            selection = select_best(
                scenario,
                points,
                service.kpi,
                indifference=delta,
                confidence=settings.confidence,
                minimize=service.minimize,
                n0=settings.n0,
                max_replications=settings.max_replications,
                **run_kw,
            )
            assert selection.runs is not None
            runs, pick = selection.runs, selection.best
        else:
            runs, pick = _confirming_runs(scenario, points[0], settings.n0, **run_kw), 0
        chosen: tuple[dict[str, Any], KPIs] | None = None
        for i, (point, trial) in enumerate(zip(points, cands["trial"], strict=True)):
            means, n = _point_means(runs, i)
            ok = all(c.violation(means.get(c.kpi, math.nan)) <= 0 for c in constraints)
            if i == pick and ok:
                chosen = (point, means)
            rows.append(
                {
                    "round": round_no,
                    "trial": int(trial),
                    **point,
                    "cost": float(cands["cost"].iloc[i]),
                    "currency": currency,
                    "replications": n,
                    **{k: means.get(k, math.nan) for k in kpis_shown},
                    "feasible": ok,
                    "picked": i == pick,
                    "chosen": i == pick and ok,
                }
            )
        if chosen is not None:
            return Choice(chosen[0], chosen[1], selection, pd.DataFrame(rows))
        pool = pool.drop(index=cands.index[pick])  # feasible by chance: the next round
    return Choice(None, {}, None, pd.DataFrame(rows))


def _ranked(cands: pd.DataFrame, service: ServiceKpi) -> pd.DataFrame:
    """``cands`` best first on their trial means of the service KPI (missing ones last),
    then by trial number."""
    if service.kpi not in cands:
        return cands.sort_values("trial")
    means = cands[service.kpi].to_numpy(float)
    loss = np.where(np.isnan(means), np.inf, means if service.minimize else -means)
    return cands.iloc[np.lexsort((cands["trial"].to_numpy(), loss))]
