"""The Optuna side of a tuning study: its sampler, its objective, its trials table, and
how an interrupted study resumes.

Samplers (Optuna's documentation, "optuna.samplers"):

* a space with no more configurations than trials (integer ranges and lists only) is
  searched in full by the grid sampler, each configuration once: the answer is the true
  optimum over the space, whatever the number of objectives;
* otherwise one objective (the cost) is searched by TPE, several (the cost and service
  KPIs) by NSGA-II (Deb et al., 2002) with a population of :data:`NSGA_POPULATION`.

Constraints are honoured by both: every trial reports its constraint violations with
``Trial.set_constraint`` (Optuna >= 5; older releases read them through the samplers'
``constraints_func``), and the samplers rank trials by constrained domination — a
feasible trial before an infeasible one, two infeasible ones by their violation, two
feasible ones by their objectives (Optuna's NSGAIISampler documentation).  Integer ranges
are suggested with ``suggest_int``: NSGA-II's crossover and mutation keep them integers.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from g60rail.errors import ScenarioError
from g60rail.experiment.executors import Executor, Task
from g60rail.experiment.pareto import pareto_front
from g60rail.experiment.preview import overload
from g60rail.experiment.replications import KPIs
from g60rail.experiment.tuning_space import (
    CURRENCY,
    ServiceKpi,
    Space,
    configuration_cost,
    grid_of,
    grid_size,
)
from g60rail.kpi import Constraint
from g60rail.scenario.io import scenario_from_dict

__all__ = [
    "NSGA_POPULATION",
    "TrialRunner",
    "best_trial",
    "front_table",
    "make_sampler",
    "retry_unfinished",
    "trials_table",
]

NSGA_POPULATION = 20
"""Trials per NSGA-II generation (fixed, so a resumed study keeps its generations)."""

_WORST = 1e300  # what a trial whose objective is not a finite number scores


def make_sampler(
    spec: Space, n_trials: int, seed: int, n_objectives: int
) -> tuple[Any, dict[str, list[Any]] | None]:
    """The sampler of a study (seeded with ``seed``) and its grid (None unless the grid
    sampler searches the space in full)."""
    import optuna

    grid = grid_of(spec)
    if grid is not None and grid_size(grid) <= n_trials:
        return optuna.samplers.GridSampler(grid, seed=seed), grid
    kind = optuna.samplers.NSGAIISampler if n_objectives > 1 else optuna.samplers.TPESampler
    extra: dict[str, Any] = {"population_size": NSGA_POPULATION} if n_objectives > 1 else {}
    if hasattr(optuna.trial.Trial, "set_constraint"):  # Optuna >= 5: trials set them
        return kind(seed=seed, **extra), None
    return _reading_constraints(kind, seed, extra), None  # pragma: no cover - Optuna < 5


def _reading_constraints(kind: Any, seed: int, extra: dict[str, Any]) -> Any:  # pragma: no cover
    """A sampler of Optuna < 5, which reads the constraints through ``constraints_func``."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return kind(seed=seed, constraints_func=lambda t: t.user_attrs["constraints"], **extra)


def retry_unfinished(study: Any, *, stale_running: bool, grid: bool) -> None:
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


class TrialRunner:
    """The Optuna objective: simulate one configuration's replications and score it.

    It returns the objective (one objective), or the objective followed by the mean of
    every service KPI (several); a value that is not a finite number scores as the worst
    of its direction.  A configuration already evaluated by a completed trial is not
    simulated again.
    """

    def __init__(
        self,
        executor: Executor,
        base: dict[str, Any],
        days: float,
        seeds: list[int],
        warmup_days: float,
        spec: Space,
        constraints: list[Constraint],
        objective: Callable[[dict[str, Any], KPIs], float],
        services: Sequence[ServiceKpi] = (),
    ) -> None:
        self.executor = executor
        self.base = base
        self.days = float(days)
        self.seeds = seeds
        self.warmup_days = float(warmup_days)
        self.spec = spec
        self.constraints = constraints
        self.objective = objective
        self.services = list(services)
        self._scenario = scenario_from_dict(base)  # the base, validated once for the preview

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

    def _overload(self, params: dict[str, Any]) -> str | None:
        """The preview's verdict on a configuration (``None``: no resource overloaded)."""
        sc = self._scenario
        return overload(sc.with_overrides(params) if params else sc, self.days)

    def _skipped(self, trial: Any, reason: str) -> float | list[float]:
        """Score a configuration the preview proves overloaded as infeasible and worst,
        without simulating it; ``reason`` is kept with the trial."""
        trial.set_user_attr("skipped", reason)
        trial.set_user_attr("kpis", {})
        trial.set_user_attr("constraints", [math.inf] * len(self.constraints))
        trial.set_user_attr("feasible", False)
        if hasattr(trial, "set_constraint"):
            for c in self.constraints:
                trial.set_constraint(str(c), _WORST)
        if not self.services:
            return _WORST
        return [_WORST, *(_WORST if s.minimize else -_WORST for s in self.services)]

    def __call__(self, trial: Any) -> float | list[float]:
        import optuna

        params = self._suggest(trial)
        for old in trial.study.get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
        ):
            if old.params == params and "kpis" in old.user_attrs:
                means = old.user_attrs["kpis"]
                break
        else:
            reason = self._overload(params)
            if reason is not None:  # no steady state: not worth simulating
                return self._skipped(trial, reason)
            means = self._kpi_means(params)
        for c in self.constraints:
            if c.kpi not in means:
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
        value = value if math.isfinite(value) else _WORST
        if not self.services:
            return value
        values = [value]
        for s in self.services:
            v = float(means.get(s.kpi, math.nan))
            values.append(v if math.isfinite(v) else _WORST if s.minimize else -_WORST)
        return values


def trials_table(
    study: Any, spec: Space, constraints: Sequence[Constraint], costs: Mapping[str, float]
) -> pd.DataFrame:
    """One row per completed trial: ``trial``, the parameters, ``objective`` (the first
    objective), ``cost``, ``feasible``, ``violation`` (the largest constraint violation,
    <= 0 when feasible), ``skipped`` (why the preview ruled the configuration out without
    simulating it, empty when it was simulated), then every KPI mean.  ``attrs``:
    ``constraints``, ``params`` and ``currency`` (of ``cost``)."""
    import optuna

    params = list(spec)
    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        viol = t.user_attrs.get("constraints", [])
        rows.append(
            {
                "trial": t.number,
                **{k: t.params.get(k) for k in params},
                "objective": t.values[0],
                "cost": configuration_cost(t.params, costs),
                "feasible": bool(t.user_attrs.get("feasible", False)),
                "violation": max(viol) if viol else 0.0,
                "skipped": t.user_attrs.get("skipped", ""),
                **t.user_attrs.get("kpis", {}),
            }
        )
    trials = pd.DataFrame(rows)
    trials.attrs["constraints"] = [str(c) for c in constraints]
    trials.attrs["params"] = params
    trials.attrs["currency"] = CURRENCY
    return trials


def best_trial(trials: pd.DataFrame, services: Sequence[ServiceKpi]) -> int | None:
    """The number of the best feasible trial on the trials' means: the least objective;
    equally good ones by the first service KPI (if any), then by trial number."""
    if not len(trials):
        return None
    first = [s for s in services[:1] if s.kpi in trials]
    order = ["objective", *(s.kpi for s in first), "trial"]
    feasible = trials[trials["feasible"]].sort_values(
        order, ascending=[True, *(s.minimize for s in first), True]
    )
    return int(feasible.iloc[0]["trial"]) if len(feasible) else None


def front_table(
    trials: pd.DataFrame,
    params: Sequence[str],
    constraints: Sequence[Constraint],
    services: Sequence[ServiceKpi],
    objective_is_cost: bool,
) -> pd.DataFrame:
    """The Pareto front of the feasible trials (:func:`~g60rail.experiment.pareto.pareto_front`)
    on the cost and the service KPI means, or on the objective alone without service
    KPIs, cheapest first: ``trial``, the parameters, ``cost``, ``currency``,
    ``objective`` (unless it is the cost), then the service and constraint KPI means.
    ``attrs``: ``currency`` and ``objectives`` (column -> ``"minimize"``/``"maximize"``)."""
    if services:
        objectives = {"cost": True, **{s.kpi: s.minimize for s in services}}
    else:
        objectives = {"objective": True}
    kpis = list(dict.fromkeys([*(s.kpi for s in services), *(c.kpi for c in constraints)]))
    head = ["trial", *params, "cost", "currency", *([] if objective_is_cost else ["objective"])]
    if not len(trials) or any(c not in trials for c in objectives):
        front = pd.DataFrame(columns=[*head, *kpis])
    else:
        front = pareto_front(trials, objectives).assign(currency=CURRENCY)
        front = front[[*head, *(k for k in kpis if k in front)]]
    front.attrs["currency"] = CURRENCY
    front.attrs["objectives"] = {c: "minimize" if m else "maximize" for c, m in objectives.items()}
    return front
