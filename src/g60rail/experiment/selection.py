"""Selecting the best of a few configurations: the fully sequential procedure KN.

Among ``k`` configurations of a scenario (capacity variants, the points of a sweep),
:func:`select_best` finds the one with the smallest (or largest) mean of one KPI, with a
probability of correct selection of at least ``confidence`` whenever the best mean is
better than every other by at least the indifference zone ``δ`` (in the KPI's unit):
procedure KN of Kim & Nelson, "A fully sequential procedure for indifference-zone
selection in simulation", ACM TOMACS 11(3):251–273, 2001.

KN takes ``n0`` replications of every configuration, estimates the variance ``S²_il`` of
the difference of every pair from them, and then, one replication per configuration and
stage, eliminates configuration ``i`` as soon as some ``l`` is ahead of it by more than
the half-width ``W_il(r) = max(0, δ / (2r) · (h² S²_il / δ² - r))`` of a triangular
continuation region, where ``r`` is the replications so far, ``h² = 2η(n0 - 1)`` and
``η = ½[(2α / (k - 1))^(-2 / (n0 - 1)) - 1]``.  It stops when one configuration is left,
or at the region's apex ``r > max h² S²_il / δ²``, where the survivors' means are tied.
Working on pairwise differences, KN allows common random numbers: replication ``j`` of
every configuration runs with the same seed (:func:`replication_seeds`), which makes the
variances of the differences, and so the replications needed, smaller.

Screening after every ``stage_size`` replications instead of after every one keeps the
guarantee: a process observed at fewer times inside the same triangular region leaves
it through the wrong side no more often (Jennison, Johnstone & Turnbull, 1980, as used
by Kim & Nelson, 2006, "Selecting the best system", Handbooks in OR & MS 13, ch. 17).

:func:`kn_select` is the procedure itself, on any function that returns observations;
:func:`select_best` feeds it simulation runs.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from g60rail.experiment.checks import check_days, check_run, progress_bar
from g60rail.experiment.executors import Task
from g60rail.experiment.kpinames import KpiNames
from g60rail.experiment.replications import (
    KPIs,
    growing_backlog,
    open_executor,
    replication_seeds,
    run_key,
    run_tasks,
)
from g60rail.scenario.schema import Scenario

__all__ = [
    "DEFAULT_MAX_REPLICATIONS",
    "Sampler",
    "Selection",
    "kn_constants",
    "kn_select",
    "select_best",
]

Sampler = Callable[[Sequence[int], Sequence[int]], np.ndarray]
"""``sample(points, replications)``: observations of the KPI, an array of shape
``(len(points), len(replications))``; row ``a`` is point ``points[a]``, column ``b``
replication ``replications[b]`` (the same random numbers for every point)."""

DEFAULT_MAX_REPLICATIONS = 100
"""Most replications per point :func:`select_best` runs unless told otherwise."""

ELIMINATED, SAMPLE_SIZE, MAX_STAGES, SINGLE_POINT = (
    "eliminated",
    "sample_size",
    "max_stages",
    "single_point",
)
MAX_REPLICATIONS = "max_replications"


@dataclass
class Selection:
    """The outcome of procedure KN.

    Attributes
    ----------
    best
        Index of the selected point.
    means
        Sample mean of the KPI (its unit) of every point still in contention at the end,
        by point index.
    sample_means
        Every point's sample mean over its own replications (eliminated points: up to
        their elimination).
    replications
        Replications each point received.
    stages
        Screening stages run (the first after ``n0`` replications included).
    eliminated
        Stage at which each eliminated point left, by point index (stage 0 screens after
        ``n0`` replications, stage ``s`` after ``n0 + s · stage_size``).
    reason
        Why the procedure ended: ``"eliminated"`` (one point left), ``"sample_size"``
        (KN's largest sample reached: the survivors are tied, the first is selected),
        ``"single_point"`` (nothing to compare), or ``"max_stages"`` /
        ``"max_replications"`` (the budget ran out: the survivor with the best sample
        mean is selected, without KN's guarantee).
    eta, h2
        KN's constants ``η`` and ``h² = 2η(n0 - 1)``.
    indifference, confidence, minimize, n0
        The procedure's settings (indifference in the KPI's unit).
    kpi
        The KPI compared (:func:`select_best`).
    points
        The overrides of every point (:func:`select_best`).
    runs
        One row per run: ``point``, ``replication``, ``seed`` and every KPI
        (:func:`select_best`).
    """

    best: int
    means: dict[int, float]
    sample_means: list[float]
    replications: list[int]
    stages: int
    eliminated: dict[int, int]
    reason: str
    eta: float
    h2: float
    indifference: float
    confidence: float
    minimize: bool
    n0: int
    kpi: str | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    runs: pd.DataFrame | None = None

    @property
    def best_overrides(self) -> dict[str, Any]:
        """The overrides of the selected point (empty without points)."""
        return dict(self.points[self.best]) if self.points else {}

    @property
    def growing_backlog(self) -> dict[int, float]:
        """Points run without a steady state: the share of their replications whose
        backlog kept growing, by point index (see
        :func:`~g60rail.experiment.replications.growing_backlog`; empty without runs)."""
        return {} if self.runs is None else growing_backlog(self.runs)

    @property
    def survivors(self) -> list[int]:
        """The points still in contention at the end."""
        return sorted(self.means)


# -- the procedure ----------------------------------------------------------------------
def kn_constants(k: int, confidence: float, n0: int) -> tuple[float, float]:
    """KN's ``η = ½[(2α / (k - 1))^(-2 / (n0 - 1)) - 1]`` and ``h² = 2η(n0 - 1)``.

    Parameters
    ----------
    k
        Number of points (>= 2).
    confidence
        Probability of correct selection ``1 - α`` to guarantee, in ``(1/k, 1)``.
    n0
        First-stage replications per point (>= 2).
    """
    alpha = 1.0 - confidence
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


def _check_settings(
    k: int, indifference: float, confidence: float, n0: int, stage_size: int
) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k!r}")
    if not (isinstance(indifference, (int, float)) and math.isfinite(indifference)):
        raise ValueError(f"indifference must be a positive number, got {indifference!r}")
    if indifference <= 0:
        raise ValueError(f"indifference must be a positive number, got {indifference!r}")
    if not 1.0 / max(k, 2) < confidence < 1.0:
        raise ValueError(f"confidence must be in (1/k, 1) = (1/{k}, 1), got {confidence!r}")
    if isinstance(n0, bool) or not isinstance(n0, int) or n0 < 2:
        raise ValueError(f"n0 must be an integer >= 2, got {n0!r}")
    if isinstance(stage_size, bool) or not isinstance(stage_size, int) or stage_size < 1:
        raise ValueError(f"stage_size must be an integer >= 1, got {stage_size!r}")


def _observe(sample: Sampler, points: Sequence[int], reps: Sequence[int]) -> np.ndarray:
    x = np.asarray(sample(points, reps), float)
    if x.shape != (len(points), len(reps)):
        raise ValueError(
            f"sample returned an array of shape {x.shape}, "
            f"expected {(len(points), len(reps))} (points, replications)"
        )
    if not np.isfinite(x).all():
        a, b = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"sample returned {x[a, b]!r} for point {points[a]}, replication {reps[b]}: "
            "KN needs a finite observation from every run"
        )
    return x


def _pair_variances(x: np.ndarray) -> np.ndarray:
    """``S²_il``: variance (``ddof=1``) of ``x_i - x_l`` over the first-stage columns."""
    diff = x[:, None, :] - x[None, :, :]
    return np.asarray(diff.var(axis=2, ddof=1))


def _screen(means: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Which points stay: ``mean_i >= mean_l - W_il`` for every other ``l``."""
    return np.asarray(np.all(means[:, None] >= means[None, :] - w, axis=1))


def kn_select(
    sample: Sampler,
    k: int,
    *,
    indifference: float,
    confidence: float = 0.95,
    n0: int = 10,
    max_stages: int | None = None,
    minimize: bool = True,
    stage_size: int = 1,
) -> Selection:
    """Procedure KN (Kim & Nelson, 2001) on observations from ``sample``.

    Parameters
    ----------
    sample
        ``sample(points, replications)`` returns the observations of those points in
        those replications (see :data:`Sampler`); replication ``j`` should use the same
        random numbers for every point (common random numbers), or independent ones.
    k
        Number of points (>= 1), numbered ``0 … k-1``.
    indifference
        Indifference zone ``δ`` (> 0, the KPI's unit): the smallest difference of means
        worth detecting.
    confidence
        Probability of correct selection ``1 - α`` guaranteed when the best mean is
        ``δ`` better than every other, in ``(1/k, 1)``.
    n0
        First-stage replications per point (>= 2); the pair variances come from them.
    max_stages
        Most screening stages, the first included (>= 1); None: as many as KN needs (it
        ends by itself after at most ``max h² S²_il / δ² + 1`` replications).
    minimize
        Whether the smallest mean is best (else the largest).
    stage_size
        Replications per point between screenings (>= 1; KN proper takes 1).

    Returns
    -------
    Selection
    """
    _check_settings(k, indifference, confidence, n0, stage_size)
    if max_stages is not None and max_stages < 1:
        raise ValueError(f"max_stages must be >= 1, got {max_stages!r}")
    if k == 1:
        return Selection(
            best=0,
            means={},
            sample_means=[math.nan],
            replications=[0],
            stages=0,
            eliminated={},
            reason=SINGLE_POINT,
            eta=math.nan,
            h2=math.nan,
            indifference=float(indifference),
            confidence=confidence,
            minimize=minimize,
            n0=n0,
        )
    eta, h2 = kn_constants(k, confidence, n0)
    sign = -1.0 if minimize else 1.0  # the procedure maximises sign · KPI
    first = sign * _observe(sample, list(range(k)), list(range(n0)))
    s2 = _pair_variances(first)
    sums, counts = first.sum(axis=1), np.full(k, n0)
    alive, eliminated = np.arange(k), {}
    r, stage, delta = n0, 0, float(indifference)
    while True:
        sub = np.ix_(alive, alive)
        w = np.maximum(0.0, delta / (2.0 * r) * (h2 * s2[sub] / delta**2 - r))
        keep = _screen(sums[alive] / r, w)
        eliminated.update({int(i): stage for i in alive[~keep]})
        alive = alive[keep]
        if alive.size == 1:
            reason = ELIMINATED
            break
        if r > h2 * float(s2[np.ix_(alive, alive)].max()) / delta**2:
            reason = SAMPLE_SIZE  # every W_il is 0: the survivors' means are tied
            break
        if max_stages is not None and stage + 1 >= max_stages:
            reason = MAX_STAGES
            break
        reps = list(range(r, r + stage_size))
        sums[alive] += sign * _observe(sample, alive.tolist(), reps).sum(axis=1)
        counts[alive] += stage_size
        r, stage = r + stage_size, stage + 1
    means = sign * sums / counts
    best = int(alive[np.argmax(sums[alive])])  # the first of tied survivors
    return Selection(
        best=best,
        means={int(i): float(means[i]) for i in alive},
        sample_means=[float(m) for m in means],
        replications=[int(c) for c in counts],
        stages=stage + 1,
        eliminated=eliminated,
        reason=reason,
        eta=eta,
        h2=h2,
        indifference=delta,
        confidence=confidence,
        minimize=minimize,
        n0=n0,
    )


# -- on simulation runs -----------------------------------------------------------------
def _checked_points(scenario: Scenario, points: Sequence[Mapping[str, Any]]) -> list[str]:
    """The scenario hash of every point; each point's overrides are checked."""
    if isinstance(points, Mapping) or not isinstance(points, Sequence) or not points:
        raise ValueError(f"points must be a non-empty list of override dicts, got {points!r}")
    seen: dict[str, int] = {}
    for i, p in enumerate(points):
        if not isinstance(p, Mapping):
            raise ValueError(f"points[{i}] must be a dict of dotted overrides, got {p!r}")
        sig = json.dumps(dict(p), sort_keys=True, default=str)
        if sig in seen:
            raise ValueError(f"points[{i}] repeats points[{seen[sig]}]: {dict(p)!r}")
        seen[sig] = i
    return [scenario.with_overrides(dict(p)).hash if p else scenario.hash for p in points]


def select_best(
    scenario: Scenario,
    points: Sequence[Mapping[str, Any]],
    kpi: str,
    *,
    indifference: float,
    confidence: float = 0.95,
    minimize: bool = True,
    n0: int = 10,
    max_replications: int = DEFAULT_MAX_REPLICATIONS,
    days: float = 90,
    seed: int = 0,
    warmup_days: float | None = None,
    executor: Any = None,
    progress: bool | None = None,
    stage_size: int = 1,
) -> Selection:
    """Select the point with the best mean of ``kpi`` by procedure KN, with common random
    numbers.

    Every point runs replications ``0, 1, …`` with the seeds ``replication_seeds(seed,
    ·)``, the same for every point; each stage runs the next replication(s) of the
    points still in contention, all at once on the executor.

    Parameters
    ----------
    scenario
        The base scenario.
    points
        The configurations: dicts of dotted overrides, as the ``points`` of
        :func:`~g60rail.experiment.replications.sweep` (``{}`` is the base scenario),
        e.g. ``[{"hub.reach_stackers": 2}, {"hub.reach_stackers": 3}]``.
    kpi
        The KPI to compare, e.g. ``"hub.dwell_h_mean"``.
    indifference
        Indifference zone ``δ`` (> 0, the KPI's unit, e.g. hours): differences of means
        smaller than this are not worth telling apart.
    confidence
        Probability of correct selection guaranteed when the best is ``δ`` ahead of
        every other point, in ``(1/k, 1)``.
    minimize
        Whether the smallest mean is best (waiting times), else the largest
        (throughput).
    n0
        First-stage replications per point (>= 2; Kim & Nelson suggest at least 10).
    max_replications
        Most replications per point (>= ``n0``); if KN has not ended by then, the
        survivor with the best sample mean is selected, without the guarantee
        (``reason == "max_replications"``).
    days
        Simulated days per run.
    seed
        Root seed of the replications (see :func:`replication_seeds`).
    warmup_days
        Days left out of the time statistics (see :func:`g60rail.simulate`); None: 0.
    executor
        As for :func:`~g60rail.experiment.replications.replicate`.
    progress
        Progress bar: ``True``, ``False`` or ``None`` (automatic).
    stage_size
        Replications per point and stage (>= 1; 1 is KN proper, more suit a large
        cluster).

    Returns
    -------
    Selection
        With ``kpi``, ``points`` and the ``runs`` table.  A warning says so when the
        selected point's backlog kept growing in a replication
        (:attr:`Selection.growing_backlog`).

    Raises
    ------
    ValueError
        Bad days, settings, points or budget, or ``kpi`` is not a KPI of the scenario.
    ScenarioError
        A point's overrides are not valid for the scenario.
    """
    warm = 0.0 if warmup_days is None else float(warmup_days)
    check_days(days, warm)
    check_run(scenario, days)
    hashes = _checked_points(scenario, points)
    _check_settings(len(hashes), indifference, confidence, n0, stage_size)
    if isinstance(max_replications, bool) or not isinstance(max_replications, (int, np.integer)):
        raise ValueError(f"max_replications must be an integer, got {max_replications!r}")
    if max_replications < n0:
        raise ValueError(f"max_replications must be >= n0 ({n0}), got {max_replications!r}")
    problem = KpiNames.of(scenario, days).problem(kpi)
    if problem is not None:
        raise ValueError(f"kpi {kpi!r}: {problem}")
    pts = [dict(p) for p in points]
    seeds = replication_seeds(seed, max_replications)
    base = scenario.to_dict()
    done: dict[tuple[int, int], KPIs] = {}

    def key(i: int, j: int) -> str:
        return run_key(hashes[i], days, seeds[j], warm)

    with (
        open_executor(executor, len(pts) * n0) as ex,
        progress_bar(len(pts) * n0, 0, "select_best", progress) as bar,
    ):

        def sample(alive: Sequence[int], reps: Sequence[int]) -> np.ndarray:
            cells = [(i, j) for i in alive for j in reps]
            # points with the same configuration share their runs
            tasks = {
                key(i, j): Task(key(i, j), base, pts[i], float(days), seeds[j], warm)
                for i, j in cells
            }
            bar.total = bar.n + len(tasks)
            bar.refresh()
            out = run_tasks(list(tasks.values()), ex, bar)
            done.update({(i, j): out[key(i, j)] for i, j in cells})
            return np.array([[done[i, j].get(kpi, math.nan) for j in reps] for i in alive])

        chosen = kn_select(
            sample,
            len(pts),
            indifference=indifference,
            confidence=confidence,
            n0=n0,
            max_stages=1 + (max_replications - n0) // stage_size,
            minimize=minimize,
            stage_size=stage_size,
        )
    reason = MAX_REPLICATIONS if chosen.reason == MAX_STAGES else chosen.reason
    sel = replace(chosen, reason=reason, kpi=kpi, points=pts, runs=_runs_table(done, seeds))
    share = sel.growing_backlog.get(sel.best)
    if share is not None:
        warnings.warn(
            f"select_best: the selected point {pts[sel.best]} has no steady state: its "
            f"backlog kept growing in {share:.0%} of its replications "
            f"(freight.backlog_growing), so its {kpi} describes the runs' length",
            stacklevel=2,
        )
    return sel


def _runs_table(done: Mapping[tuple[int, int], KPIs], seeds: Sequence[int]) -> pd.DataFrame:
    names = sorted({name for kpis in done.values() for name in kpis})
    rows = [{"point": i, "replication": j, "seed": seeds[j], **done[i, j]} for i, j in sorted(done)]
    return pd.DataFrame(rows, columns=["point", "replication", "seed", *names])
