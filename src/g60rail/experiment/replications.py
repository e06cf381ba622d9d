"""Replications of one scenario: seeds, runs on an executor, and :func:`replicate`
(sweeps over capacity grids: :mod:`g60rail.experiment.sweeps`; tuning:
:mod:`g60rail.experiment.tuning`; selection of the best point:
:mod:`g60rail.experiment.selection`).

:func:`replicate` runs a fixed number of replications, or, with ``precision=``, adds
replications until the named KPIs' confidence intervals are within a relative precision
(:func:`g60rail.experiment.precision.replicate_until_precise`).

Common random numbers: replication ``i`` of every configuration runs with the same seed,
``SeedSequence(seed).spawn(R)[i]`` turned into an integer (:func:`replication_seeds`).
Inside a run each part of the model draws from its own named stream, so a capacity change
does not shift the random numbers of other parts, and the difference between two
configurations is measured with far less noise than with independent seeds.

Runs execute on any executor of :mod:`g60rail.experiment.executors` (serial, local processes, Dask);
the same seed gives the same numbers on each.  :func:`run_key` identifies a run by its
configuration, days, seed and warm-up, so finished runs can be recognised and skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from g60rail.experiment.checks import check_days, check_run, progress_bar, tqdm_class
from g60rail.experiment.executors import Executor, Task, resolve_executor
from g60rail.experiment.kpinames import KpiNames
from g60rail.experiment.precision import adjusted_relative_precision, replicate_until_precise
from g60rail.experiment.stats import Interval, summarize
from g60rail.scenario.schema import Scenario

__all__ = [
    "DEFAULT_MAX_REPLICATIONS",
    "META_COLUMNS",
    "ReplicationResult",
    "check_days",
    "check_run",
    "growing_backlog",
    "kpi_columns",
    "open_executor",
    "progress_bar",
    "replicate",
    "replication_seeds",
    "run_key",
    "run_tasks",
    "tqdm_class",
]

KPIs = dict[str, float]
META_COLUMNS = ("point", "replication", "seed")
"""Columns of a runs table that identify a run rather than measure it."""


# -- seeds and runs -------------------------------------------------------------------
def replication_seeds(seed: int, replications: int) -> list[int]:
    """Integer seeds of replications ``0 … replications-1`` derived from one seed.

    Seed ``i`` is ``SeedSequence(seed).spawn(R)[i].generate_state(1)[0]``; it does not
    depend on ``R``, so adding replications keeps the earlier ones.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications!r}")
    children = np.random.SeedSequence(int(seed)).spawn(int(replications))
    return [int(c.generate_state(1)[0]) for c in children]


@contextmanager
def open_executor(executor: Any, n_tasks: int | None = None) -> Iterator[Executor]:
    """The executor of ``executor`` (any form :func:`resolve_executor` accepts), started
    for a sequence of :func:`run_tasks` calls and closed afterwards if it was made here."""
    ex, owned = resolve_executor(executor, n_tasks)
    if not owned:
        yield ex
        return
    with ex:
        yield ex


def run_tasks(
    tasks: Sequence[Task],
    executor: Any,
    bar: Any,
    on_done: Callable[[Task, KPIs], None] | None = None,
) -> dict[str, KPIs]:
    """Run ``tasks`` on ``executor``; results by task key.

    ``bar`` (a tqdm bar) advances by one per finished run; ``on_done`` is called with
    each task and its KPIs as it finishes.
    """
    out: dict[str, KPIs] = {}
    if not tasks:
        return out
    ex, owned = resolve_executor(executor, len(tasks))
    try:
        if owned:
            ex.__enter__()
        for task, kpis in ex.run(tasks):
            out[task.key] = kpis
            if on_done is not None:
                on_done(task, kpis)
            bar.update(1)
    finally:
        if owned:
            ex.__exit__(None, None, None)
    return out


def run_key(scenario_hash: str, days: float, seed: int, warmup_days: float) -> str:
    """Identifier of one run: the configuration's hash, days, seed and warm-up."""
    text = json.dumps([scenario_hash, float(days), int(seed), float(warmup_days)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def kpi_columns(rows: Iterable[KPIs]) -> list[str]:
    """Every KPI name that occurs in ``rows`` (the KPI dicts of some runs), sorted."""
    names: set[str] = set()
    for r in rows:
        names.update(r)
    return sorted(names)


def growing_backlog(runs: pd.DataFrame) -> dict[int, float]:
    """Points run without a steady state, by point number: the share of their
    replications whose backlog kept growing (``freight.backlog_growing``).

    ``runs`` has one row per run with a ``point`` column (a sweep's or a selection's
    runs).  Such a point's means and percentiles describe the runs' length rather than
    the corridor; the preview does not rule it out when every offered load is below 1.
    """
    flag = "freight.backlog_growing"
    if flag not in runs or runs.empty:
        return {}
    share = runs.groupby("point")[flag].mean()
    return {int(i): float(v) for i, v in zip(share.index, share.to_numpy(), strict=True) if v > 0}


# -- replicate ------------------------------------------------------------------------
DEFAULT_MAX_REPLICATIONS = 100
"""Largest number of replications of ``replicate(..., precision=...)`` unless given."""


@dataclass
class ReplicationResult:
    """Replications of one scenario.

    Attributes
    ----------
    runs
        One row per replication: ``replication``, ``seed`` and every KPI.
    summary
        Per KPI (index ``kpi``): ``mean``, ``std``, ``n``, ``ci_low``, ``ci_high``,
        ``half_width`` (t-based, at ``confidence``).
    confidence, days, warmup_days
        Settings of the experiment (days in simulated days).
    precision
        The relative precision asked for, or None (a fixed number of replications).
    kpis
        The KPIs the precision applies to (empty without precision).
    stopped_because
        ``"replications"`` (the fixed number ran), ``"precision"`` (every KPI of
        ``kpis`` reached the precision) or ``"max_replications"`` (the limit came first).
    half_widths, relative_half_widths
        Per KPI of ``kpis``: the final half-width (KPI unit) and ``half_width / |mean|``.
    batches
        Replications run in each round (one round without precision).
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    confidence: float
    days: float
    warmup_days: float
    precision: float | None = None
    kpis: list[str] = field(default_factory=list)
    stopped_because: str = "replications"
    half_widths: dict[str, float] = field(default_factory=dict)
    relative_half_widths: dict[str, float] = field(default_factory=dict)
    batches: list[int] = field(default_factory=list)

    @property
    def replications(self) -> int:
        """Number of replications run."""
        return len(self.runs)

    def ci(self, kpi: str) -> Interval:
        """The confidence interval of one KPI's mean."""
        row = self.summary.loc[kpi]
        # the summary has one row per KPI, so a label selects a single row
        assert isinstance(row, pd.Series)
        return Interval(
            float(row["mean"]),
            float(row["std"]),
            int(row["n"]),
            float(row["ci_low"]),
            float(row["ci_high"]),
            float(row["half_width"]),
            self.confidence,
        )


def _check_precision_args(
    scenario: Scenario,
    days: float,
    replications: int,
    precision: float | None,
    kpis: Sequence[str] | None,
    max_replications: int | None,
) -> tuple[list[str], int]:
    """The KPI names and replication limit of a precision experiment, checked."""
    if precision is None:
        if kpis is not None:
            raise ValueError(f"kpis applies only with precision, got kpis={kpis!r}")
        if max_replications is not None:
            raise ValueError(
                f"max_replications applies only with precision, got {max_replications!r}"
            )
        return [], replications
    if isinstance(precision, bool) or not isinstance(precision, (int, float)):
        raise ValueError(f"precision must be a positive number, got {precision!r}")
    adjusted_relative_precision(precision)  # raises for precision <= 0 or not finite
    if replications < 2:
        raise ValueError(f"replications must be >= 2 with precision, got {replications!r}")
    limit = max(DEFAULT_MAX_REPLICATIONS, replications)
    if max_replications is not None:
        if max_replications < replications:
            raise ValueError(
                f"max_replications must be >= replications ({replications}), "
                f"got {max_replications!r}"
            )
        limit = int(max_replications)
    if isinstance(kpis, str) or not kpis:
        raise ValueError(f"precision needs kpis, a non-empty list of KPI names, got {kpis!r}")
    names = KpiNames.of(scenario, days)
    for kpi in kpis:
        problem = names.problem(kpi)
        if problem is not None:
            raise ValueError(f"kpis has {kpi!r}: {problem}")
    return list(dict.fromkeys(kpis)), limit


def _replication_tasks(
    base: dict[str, Any], seeds: Sequence[int], start: int, days: float, warmup_days: float
) -> list[Task]:
    return [
        Task(f"r{i}", base, {}, float(days), s, float(warmup_days))
        for i, s in enumerate(seeds[start:], start)
    ]


def _replication_table(results: Mapping[str, KPIs], seeds: Sequence[int]) -> pd.DataFrame:
    kpi_names = kpi_columns(results.values())
    rows = [{"replication": i, "seed": s, **results[f"r{i}"]} for i, s in enumerate(seeds)]
    return pd.DataFrame(rows, columns=["replication", "seed", *kpi_names])


def replicate(
    scenario: Scenario,
    replications: int = 10,
    days: float = 90,
    seed: int = 0,
    warmup_days: float = 0,
    executor: Any = None,
    progress: bool | None = None,
    *,
    confidence: float = 0.95,
    precision: float | None = None,
    kpis: Sequence[str] | None = None,
    max_replications: int | None = None,
) -> ReplicationResult:
    """Run independent replications of ``scenario``: a fixed number, or until a
    relative precision is reached.

    With ``precision=γ``, replications are added until every KPI of ``kpis`` has a
    confidence-interval half-width within ``γ' · |mean|``, ``γ' = γ / (1 + γ)``: the
    sequential procedure for a relative error ``γ`` of Law & Kelton, *Simulation Modeling
    and Analysis* (5th ed., 2015), section 9.4.1, with its look-ahead.  After each round
    the next round runs as many replications as the estimate ``n_r*(γ)`` of eq. 9.3 says
    are still missing (at least one; the largest estimate over the KPIs), all at once on
    the executor, until the precision is met or ``max_replications`` have run.
    Replication ``i`` has the same seed whatever the rounds, so a seed gives the same
    runs, rounds and result on every executor.

    Parameters
    ----------
    scenario
        The scenario to run.
    replications
        Number of replications (>= 2 for confidence intervals); with ``precision``, the
        replications of the first round (>= 2).
    days
        Simulated days per replication.
    seed
        Root seed; replication ``i`` uses ``replication_seeds(seed, R)[i]`` (the same
        for every ``R > i``).
    warmup_days
        Days left out of the time statistics (transit, door-to-door, road trips, yard
        dwell and occupancy, border clearance, waits and utilisations; see
        :func:`g60rail.simulate`); counts cover the whole run.
    executor
        ``None`` (all local cores), ``"serial"``, a number of processes, ``"dask"``, a
        scheduler address, a ``dask.distributed.Client`` or an executor object.
    progress
        Progress bar: ``True``, ``False`` or ``None`` (automatic).
    confidence
        Confidence level of the intervals.
    precision
        Relative precision ``γ`` (> 0), e.g. 0.05 for half-widths within about 5 % of
        the means; None runs exactly ``replications``.
    kpis
        With ``precision``: the KPI names that must reach it (required; a KPI with a
        mean of 0 and some spread never does).
    max_replications
        With ``precision``: the most replications to run (>= ``replications``); default
        ``max(DEFAULT_MAX_REPLICATIONS, replications)``.

    Returns
    -------
    ReplicationResult
        With ``stopped_because``, ``half_widths`` and ``relative_half_widths`` of
        ``kpis``, and the replications of each round in ``batches``.

    Raises
    ------
    ValueError
        Bad days or warm-up, ``precision <= 0``, ``replications < 2`` with precision,
        ``max_replications < replications``, no or unknown ``kpis``, or ``kpis`` /
        ``max_replications`` without ``precision``.
    """
    check_days(days, warmup_days)
    check_run(scenario, days)
    names, limit = _check_precision_args(
        scenario, days, replications, precision, kpis, max_replications
    )
    seeds = replication_seeds(seed, limit)
    base = scenario.to_dict()
    results: dict[str, KPIs] = {}
    with (
        open_executor(executor, replications) as ex,
        progress_bar(replications, 0, "replications", progress) as bar,
    ):

        def observe(start: int, stop: int) -> pd.DataFrame:
            """Run replications ``start … stop-1``; their KPIs, one row each."""
            bar.total = stop
            bar.refresh()
            tasks = _replication_tasks(base, seeds[:stop], start, days, warmup_days)
            results.update(run_tasks(tasks, ex, bar))
            return pd.DataFrame([results[t.key] for t in tasks])

        if precision is None:
            observe(0, replications)
            outcome = None
        else:
            outcome = replicate_until_precise(
                observe,
                names,
                precision=precision,
                initial=replications,
                max_replications=limit,
                confidence=confidence,
            )
    runs = _replication_table(results, seeds[: len(results)])
    summary = summarize(runs, [c for c in runs.columns if c not in META_COLUMNS], confidence)
    if outcome is None or precision is None:
        return ReplicationResult(
            runs, summary, confidence, float(days), float(warmup_days), batches=[replications]
        )
    return ReplicationResult(
        runs,
        summary,
        confidence,
        float(days),
        float(warmup_days),
        precision=float(precision),
        kpis=names,
        stopped_because=outcome.stopped_because,
        half_widths=outcome.status.half_widths,
        relative_half_widths=outcome.status.relative_half_widths,
        batches=outcome.batches,
    )
