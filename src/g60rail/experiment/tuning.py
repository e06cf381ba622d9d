"""Capacity tuning: the cheapest capacities that meet service levels, with Optuna.

Each trial sets capacities (integer or float ranges of dotted scenario keys), runs
replications with common random numbers
(:func:`g60rail.experiment.replications.replication_seeds`) on any executor, and scores
the configuration: by default its cost (units times the unit costs of the scenario's
``[costs]`` section, or :data:`DEFAULT_COSTS`), subject to constraints on mean KPIs such
as ``hub.dwell_h_p95 <= 72``.  Costs are in :data:`CURRENCY` (US dollars).  The study
lives in ``study.db`` (SQLite) in the output folder, so a tuning run resumes where it
stopped: a trial that an interruption cut short (Ctrl-C, or a process killed while a
trial ran) is evaluated again, not counted as done.

Every input (space, costs, constraints, objective, seed) is checked before the first
trial runs; the KPI names of constraints and objective against the names a short run of
the scenario reports (:class:`~g60rail.experiment.kpinames.KpiNames`).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from g60rail.errors import ScenarioError
from g60rail.experiment.executors import Executor, Task, resolve_executor
from g60rail.experiment.kpinames import KpiNames
from g60rail.experiment.replications import (
    KPIs,
    check_days,
    progress_bar,
    replication_seeds,
)
from g60rail.kpi import Constraint, parse_constraint
from g60rail.scenario.schema import Scenario

__all__ = [
    "CURRENCY",
    "DEFAULT_COSTS",
    "MAX_SEED",
    "Constraint",
    "TuneResult",
    "check_tune",
    "parse_constraint",
    "scenario_costs",
    "tune",
]


CURRENCY = "USD"
"""The currency of every cost: unit costs, the ``[costs]`` section, the cost objective."""

MAX_SEED = 2**32 - 1
"""The largest seed :func:`tune` takes (Optuna's samplers take 32-bit seeds)."""

DEFAULT_COSTS: dict[str, float] = {
    "hub.reach_stackers": 450_000.0,
    "hub.loading_tracks": 2_000_000.0,
    "hub.gate_lanes": 250_000.0,
    "hub.yard_teu": 1_500.0,
}
"""Capital cost per unit of a capacity (USD, estimates): a reach stacker, a loading track
with its turnouts, a gate lane with its OCR portal, one TEU ground slot of yard."""


def scenario_costs(scenario: Scenario) -> dict[str, float]:
    """Life-cycle cost per unit of each capacity: the scenario's ``[costs]`` section over
    :data:`DEFAULT_COSTS` (USD)."""
    return {**DEFAULT_COSTS, **scenario.costs.per_unit()}


@dataclass
class TuneResult:
    """Outcome of :func:`tune`.

    Attributes
    ----------
    best_params
        Capacities of the best feasible trial (None when no trial met the constraints).
    best_scenario
        The base scenario with ``best_params`` applied (or None).
    best_value
        Its objective (life-cycle cost in :data:`CURRENCY` by default).
    best_kpis
        Its KPI means over the replications.
    trials
        One row per completed trial: ``trial``, the parameters, ``objective``, ``cost``,
        ``feasible``, ``violation`` (largest constraint violation, <= 0 when feasible),
        then every KPI mean.
    """

    best_params: dict[str, Any] | None
    best_scenario: Scenario | None
    best_value: float
    best_kpis: KPIs
    trials: pd.DataFrame
    constraints: list[Constraint]
    study_name: str
    storage: str | None
    currency: str = CURRENCY


def _space_spec(scenario: Scenario, space: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    if not space:
        raise ScenarioError("the search space is empty", field="space")
    spec: dict[str, tuple[str, Any]] = {}
    for key, rng in space.items():
        if isinstance(rng, list):
            kind, ends = "categorical", list(rng)
            if not ends:
                raise ScenarioError("a categorical range needs values", field=key, value=rng)
        elif isinstance(rng, tuple) and len(rng) == 2:
            lo, hi = rng
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng):
                raise ScenarioError("a range needs two numbers (low, high)", field=key, value=rng)
            if lo > hi:
                raise ScenarioError("range low must be <= high", field=key, value=rng)
            both_int = isinstance(lo, int) and isinstance(hi, int)
            kind, ends = ("int" if both_int else "float"), [lo, hi]
        else:
            raise ScenarioError("a range must be (low, high) or a list", field=key, value=rng)
        for v in ends:
            scenario.with_overrides({key: v})  # the key exists and the value is valid
        spec[key] = (kind, ends)
    return spec


def _grid_of(spec: dict[str, tuple[str, Any]]) -> dict[str, list[Any]] | None:
    """Every value of a space without float ranges, or None."""
    if any(kind == "float" for kind, _ in spec.values()):
        return None
    return {
        k: list(range(ends[0], ends[1] + 1)) if kind == "int" else list(ends)
        for k, (kind, ends) in spec.items()
    }


def _grid_size(grid: dict[str, list[Any]] | None) -> int:
    return math.prod(len(v) for v in grid.values()) if grid is not None else 0


def _study_name(parts: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return f"g60rail-tune-{digest[:12]}"


def tune(
    scenario: Scenario,
    space: Mapping[str, Any],
    objective: str | Callable[[dict[str, Any], KPIs], float] = "cost",
    constraints: Sequence[str | Constraint] = (),
    n_trials: int = 30,
    replications: int = 3,
    days: float = 90,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    executor: Any = None,
    progress: bool | None = None,
    *,
    costs: Mapping[str, float] | None = None,
    out: str | os.PathLike[str] | None = None,
    warmup_days: float = 0,
) -> TuneResult:
    """Search capacities that meet service levels at least cost (Optuna, TPE).

    Every trial runs ``replications`` replications of one configuration, with the same
    seeds in every trial (common random numbers); constraints are checked on the KPI
    means.  Optuna's constrained TPE sampler (seeded with ``seed``) steers towards
    feasible configurations; an already evaluated configuration is not simulated again.
    When the space holds no more configurations than ``n_trials`` (integer ranges and
    lists only), each configuration is evaluated exactly once instead (grid search), so
    the answer is the true optimum over the space.

    Parameters
    ----------
    scenario
        The base scenario.
    space
        Dotted keys to ranges: ``(low, high)`` of ints (integer range), of floats (float
        range) or a list of choices, e.g. ``{"hub.reach_stackers": (1, 8)}``.
    objective
        ``"cost"`` (default: minimise the capital cost ``Σ costs[k] · value_k`` subject
        to the constraints), ``"min:<kpi>"`` / ``"max:<kpi>"`` (a KPI mean), or a
        function ``(params, kpi_means) -> float`` to minimise.
    constraints
        Service levels such as ``"hub.dwell_h_p95 <= 72"`` or
        ``"pax.security_wait_min_p95 <= 10"`` (see :func:`parse_constraint`).
    n_trials
        Total trials of the study; a resumed study runs only the missing ones.
    replications, days, seed, warmup_days
        As for :func:`replicate`.
    storage
        Optuna storage URL; default ``sqlite:///<out>/study.db`` when ``out`` is given,
        else in memory.
    study_name
        Default: derived from every setting above, so a changed setting starts a new
        study and an unchanged one resumes.
    executor, progress
        As for :func:`replicate`.
    costs
        Cost per unit of each capacity (:data:`CURRENCY`); default: the scenario's
        ``[costs]`` section (:func:`scenario_costs`).
    out
        Folder for the study database.

    Returns
    -------
    TuneResult
    """
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("tune() needs Optuna: pip install 'g60rail[tune]'") from exc

    check_days(days, warmup_days)
    cons = [parse_constraint(c) for c in constraints]
    unit_costs = dict(costs if costs is not None else scenario_costs(scenario))
    spec = check_tune(
        scenario,
        space,
        objective=objective,
        constraints=cons,
        costs=unit_costs,
        days=days,
        seed=seed,
    )
    objective_fn = _objective(objective, unit_costs)
    seeds = replication_seeds(seed, replications)
    base = scenario.to_dict()
    own_storage = storage is None and out is not None
    if own_storage:
        assert out is not None
        Path(out).mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(out).resolve() / 'study.db'}"
    name = study_name or _study_name(
        {
            "scenario": scenario.hash,
            "space": spec,
            "objective": getattr(objective, "__qualname__", str(objective)),
            "constraints": [str(c) for c in cons],
            "costs": unit_costs,
            "replications": replications,
            "days": days,
            "seed": seed,
            "warmup": warmup_days,
        }
    )
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial re-raises its error
    try:
        grid = _grid_of(spec)
        if grid is not None and _grid_size(grid) <= n_trials:
            # no more configurations than trials: evaluate each exactly once
            sampler: Any = optuna.samplers.GridSampler(grid, seed=seed)
        elif hasattr(optuna.trial.Trial, "set_constraint"):
            # Optuna >= 5 reads the constraints each trial sets on itself
            sampler = optuna.samplers.TPESampler(seed=seed)
        else:  # pragma: no cover - depends on the installed Optuna
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(
                    seed=seed, constraints_func=lambda t: t.user_attrs["constraints"]
                )
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            sampler=sampler,
            direction="minimize",
            load_if_exists=True,
        )
        on_grid = isinstance(sampler, optuna.samplers.GridSampler)
        _retry_unfinished(study, stale_running=own_storage, grid=on_grid)
        complete = optuna.trial.TrialState.COMPLETE
        finished = study.get_trials(deepcopy=False, states=(complete,))
        n_done = len(finished)
        ex, owned = resolve_executor(executor, replications)
        try:
            if owned:
                ex.__enter__()
            run = _TrialRunner(ex, base, days, seeds, warmup_days, spec, cons, objective_fn)
            remaining = max(0, n_trials - n_done)
            if isinstance(sampler, optuna.samplers.GridSampler):
                seen = {json.dumps(t.params, sort_keys=True) for t in finished}
                remaining = min(remaining, _grid_size(grid) - len(seen))
            with progress_bar(n_trials, min(n_done, n_trials), "tune", progress, "trial") as bar:
                study.optimize(run, n_trials=remaining, callbacks=[lambda s, t: bar.update(1)])
        finally:
            if owned:
                ex.__exit__(None, None, None)
    finally:
        optuna.logging.set_verbosity(level)
    return _tune_result(study, scenario, spec, cons, unit_costs, name, storage)


def check_tune(
    scenario: Scenario,
    space: Mapping[str, Any],
    *,
    objective: str | Callable[[dict[str, Any], KPIs], float] = "cost",
    constraints: Sequence[str | Constraint] = (),
    costs: Mapping[str, float] | None = None,
    days: float = 90,
    seed: int = 0,
) -> dict[str, tuple[str, Any]]:
    """Check the inputs of :func:`tune` without running a trial; the parsed space.

    The seed (an integer in ``[0, MAX_SEED]``), every key and end of the space (they must
    exist and be valid in the scenario), the unit costs of the cost objective, the
    objective's form, and the KPI names of the constraints and the objective (against the
    names a short run of the scenario reports).

    Raises
    ------
    ValueError
        The seed is not an integer in ``[0, MAX_SEED]``.
    ScenarioError
        Naming the field (a ``space`` key, ``constraint``, ``objective``) and the value.
    """
    if (
        isinstance(seed, bool)
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed <= MAX_SEED
    ):
        raise ValueError(
            f"seed must be an integer in [0, {MAX_SEED}] (Optuna's samplers take 32-bit "
            f"seeds), got {seed!r}"
        )
    spec = _space_spec(scenario, space)
    cons = [parse_constraint(c) for c in constraints]
    unit_costs = dict(costs if costs is not None else scenario_costs(scenario))
    if objective == "cost":
        missing = [k for k in spec if k not in unit_costs]
        if missing:
            raise ScenarioError(
                "no cost per unit for this capacity (give costs={key: cost})", field=missing[0]
            )
    _objective(objective, unit_costs)
    _check_kpis(scenario, days, cons, objective)
    return spec


def _check_kpis(
    scenario: Scenario,
    days: float,
    constraints: Sequence[Constraint],
    objective: str | Callable[[dict[str, Any], KPIs], float],
) -> None:
    """Refuse constraints and an objective on KPIs the runs do not report (before any
    trial; a short run of the scenario lists its KPI names)."""
    wanted = [("constraint", c.kpi, str(c)) for c in constraints]
    m = re.fullmatch(r"(min|max):(\S+)", objective) if isinstance(objective, str) else None
    if m is not None:
        wanted.append(("objective", m.group(2), str(objective)))
    if not wanted:
        return
    names = KpiNames.of(scenario, days)
    for field, kpi, text in wanted:
        problem = names.problem(kpi)
        if problem is not None:
            raise ScenarioError(problem, field=field, value=text)


def _retry_unfinished(study: Any, *, stale_running: bool, grid: bool) -> None:
    """Queue again every configuration whose trial did not finish and that no completed
    trial has evaluated.

    Optuna marks a trial that Ctrl-C interrupts as failed, and the grid sampler counts a
    failed trial's point as visited: without this, that point would never be evaluated.
    With ``stale_running`` (a study of our own, used by one process at a time), trials
    still marked running were left so by a process that died and are failed first.  Under
    grid search (``grid``) only trials of the grid are queued again (with their grid
    point); the grid sampler reaches every other point by itself.
    """
    import optuna

    state = optuna.trial.TrialState
    if stale_running:
        for t in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
            study.tell(t.number, state=state.FAIL)
    trials = study.get_trials(deepcopy=False)
    covered = {
        json.dumps(t.params, sort_keys=True)
        for t in trials
        if t.state in (state.COMPLETE, state.WAITING, state.RUNNING)
    }
    for t in trials:
        sig = json.dumps(t.params, sort_keys=True)
        on_grid = "grid_id" in t.system_attrs
        if t.state != state.FAIL or sig in covered or (grid and not on_grid):
            continue
        if not (grid or t.params):
            continue  # interrupted before it chose its point: nothing to evaluate again
        covered.add(sig)
        if not grid:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
            continue
        # the grid sampler picks a trial's point by its grid id: keep it
        study.add_trial(
            optuna.trial.create_trial(
                state=state.WAITING,
                params=t.params,
                distributions=t.distributions,
                system_attrs=dict(t.system_attrs),
                user_attrs={"retry_of": t.number},
            )
        )


def _objective(
    objective: str | Callable[[dict[str, Any], KPIs], float], costs: Mapping[str, float]
) -> Callable[[dict[str, Any], KPIs], float]:
    if callable(objective):
        return objective
    if objective == "cost":
        return lambda params, kpis: _cost(params, costs)
    m = re.fullmatch(r"(min|max):(\S+)", str(objective))
    if not m:
        raise ScenarioError(
            "objective must be 'cost', 'min:<kpi>' or 'max:<kpi>'",
            field="objective",
            value=objective,
        )
    sign = 1.0 if m.group(1) == "min" else -1.0
    kpi = m.group(2)

    def value(params: dict[str, Any], kpis: KPIs) -> float:
        if kpi not in kpis:
            raise ScenarioError("no KPI of that name", field="objective", value=objective)
        return sign * kpis[kpi]

    return value


def _cost(params: Mapping[str, Any], costs: Mapping[str, float]) -> float:
    return float(sum(costs[k] * float(v) for k, v in params.items() if k in costs))


class _TrialRunner:
    """The Optuna objective: simulate one configuration's replications."""

    def __init__(
        self,
        executor: Executor,
        base: dict[str, Any],
        days: float,
        seeds: list[int],
        warmup_days: float,
        spec: dict[str, tuple[str, Any]],
        constraints: list[Constraint],
        objective: Callable[[dict[str, Any], KPIs], float],
    ) -> None:
        self.executor = executor
        self.base = base
        self.days = float(days)
        self.seeds = seeds
        self.warmup_days = float(warmup_days)
        self.spec = spec
        self.constraints = constraints
        self.objective = objective

    def _suggest(self, trial: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, (kind, ends) in self.spec.items():
            if kind == "int":
                params[key] = trial.suggest_int(key, ends[0], ends[1])
            elif kind == "float":
                params[key] = trial.suggest_float(key, float(ends[0]), float(ends[1]))
            else:
                params[key] = trial.suggest_categorical(key, ends)
        return params

    def _kpi_means(self, params: dict[str, Any]) -> KPIs:
        tasks = [
            Task(f"r{i}", self.base, params, self.days, s, self.warmup_days)
            for i, s in enumerate(self.seeds)
        ]
        results: dict[str, KPIs] = {}
        for task, kpis in self.executor.run(tasks):
            results[task.key] = kpis
        frame = pd.DataFrame([results[t.key] for t in tasks])
        return {str(k): float(v) for k, v in frame.mean(numeric_only=True).items()}

    def __call__(self, trial: Any) -> float:
        import optuna

        params = self._suggest(trial)
        for old in trial.study.get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
        ):
            if old.params == params and "kpis" in old.user_attrs:
                means = old.user_attrs["kpis"]
                break
        else:
            means = self._kpi_means(params)
        for c in self.constraints:
            if c.kpi not in means:
                import difflib

                near = difflib.get_close_matches(c.kpi, list(means), n=3)
                hint = f" (did you mean {', '.join(near)}?)" if near else ""
                raise ScenarioError(f"no KPI of that name{hint}", field="constraint", value=str(c))
        violations = [c.violation(means[c.kpi]) for c in self.constraints]
        trial.set_user_attr("kpis", means)
        trial.set_user_attr("constraints", violations)
        if hasattr(trial, "set_constraint"):
            for c, v in zip(self.constraints, violations, strict=True):
                trial.set_constraint(str(c), v)
        trial.set_user_attr("feasible", all(v <= 0 for v in violations))
        value = float(self.objective(params, means))
        return value if math.isfinite(value) else 1e300


def _tune_result(
    study: Any,
    scenario: Scenario,
    spec: dict[str, tuple[str, Any]],
    cons: list[Constraint],
    costs: Mapping[str, float],
    name: str,
    storage: str | None,
) -> TuneResult:
    import optuna

    params = list(spec)
    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        viol = t.user_attrs.get("constraints", [])
        rows.append(
            {
                "trial": t.number,
                **{k: t.params.get(k) for k in params},
                "objective": t.value,
                "cost": _cost(t.params, costs),
                "feasible": bool(t.user_attrs.get("feasible", False)),
                "violation": max(viol) if viol else 0.0,
                **t.user_attrs.get("kpis", {}),
            }
        )
    trials = pd.DataFrame(rows)
    trials.attrs["constraints"] = [str(c) for c in cons]
    trials.attrs["params"] = params
    best_params: dict[str, Any] | None = None
    best_value, best_kpis = math.nan, {}
    if len(trials):
        feasible = trials[trials["feasible"]].sort_values(["objective", "trial"])
        if len(feasible):
            row = feasible.iloc[0]
            best = study.trials[int(row["trial"])]
            best_params, best_value = dict(best.params), float(best.value)
            best_kpis = dict(best.user_attrs["kpis"])
    best_sc = scenario.with_overrides(best_params) if best_params else None
    return TuneResult(best_params, best_sc, best_value, best_kpis, trials, cons, name, storage)
