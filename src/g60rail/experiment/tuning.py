"""Capacity tuning with Optuna: the cheapest capacities that meet service levels, and the
Pareto front of life-cycle cost against service KPIs.

Each trial sets capacities (integer or float ranges, or lists, of dotted scenario keys),
runs replications with common random numbers
(:func:`g60rail.experiment.replications.replication_seeds`) on any executor, and scores
the configuration: by default its life-cycle cost (units times the unit costs of the
scenario's ``[costs]`` section, or :data:`DEFAULT_COSTS`, in :data:`CURRENCY`), subject
to constraints on mean KPIs such as ``hub.dwell_h_p95 <= 72``.  With ``service_kpis``
the study is multi-objective: the cost and the mean of each service KPI
(:class:`ServiceKpi`), and its answer is the Pareto front of the feasible trials
(:mod:`~g60rail.experiment.pareto`); a final step (:mod:`~g60rail.experiment.tuning_choice`)
picks one configuration from the front's cheap end on more replications, with procedure
KN's guarantee among equally cheap ones.

The study lives in ``study.db`` (SQLite) in the output folder, so a tuning run resumes
where it stopped: a trial that an interruption cut short (Ctrl-C, or a process killed
while a trial ran) is evaluated again, not counted as done.  Every input (space, costs,
constraints, objective, service KPIs, final-step settings, seed) is checked before the
first trial runs (:func:`check_tune`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from g60rail.experiment.checks import check_days, progress_bar
from g60rail.experiment.executors import resolve_executor
from g60rail.experiment.replications import KPIs, replication_seeds
from g60rail.experiment.selection import DEFAULT_MAX_REPLICATIONS, Selection
from g60rail.experiment.tuning_choice import Choice, ConfirmSettings, choose
from g60rail.experiment.tuning_space import (
    CURRENCY,
    DEFAULT_COSTS,
    MAX_SEED,
    STEADY_STATE,
    Objective,
    ServiceKpi,
    Space,
    check_tune,
    configuration_cost,
    grid_size,
    objective_function,
    scenario_costs,
    study_name_of,
    with_steady_state,
)
from g60rail.experiment.tuning_study import (
    TrialRunner,
    best_trial,
    front_table,
    make_sampler,
    retry_unfinished,
    trials_table,
)
from g60rail.kpi import Constraint, parse_constraint
from g60rail.scenario.schema import Scenario

__all__ = [
    "CURRENCY",
    "DEFAULT_COSTS",
    "MAX_SEED",
    "STEADY_STATE",
    "Constraint",
    "ServiceKpi",
    "TuneResult",
    "check_tune",
    "parse_constraint",
    "scenario_costs",
    "tune",
]


@dataclass
class TuneResult:
    """Outcome of :func:`tune`.  Costs are in ``currency`` (:data:`CURRENCY`).

    Attributes
    ----------
    best_params
        Capacities of the best feasible trial on the trials' means (None when no trial
        met the constraints): the least objective; with service KPIs, the cheapest
        (equally cheap ones by the first service KPI, then by trial number).
    best_scenario
        The base scenario with ``best_params`` applied (or None).
    best_value
        Its objective (life-cycle cost by default, and always with service KPIs).
    best_kpis
        Its KPI means over the trial's replications.
    trials
        One row per completed trial: ``trial``, the parameters, ``objective``, ``cost``,
        ``feasible``, ``violation`` (largest constraint violation, <= 0 when feasible),
        then every KPI mean; ``attrs``: ``constraints``, ``params``, ``currency``.
    constraints, study_name, storage
        The study's constraints, name and Optuna storage URL.
    currency
        The currency of every cost.
    pareto
        The feasible trials no other feasible trial dominates on (cost, service KPI
        means) — on the objective alone without service KPIs — cheapest first:
        ``trial``, the parameters, ``cost``, ``currency``, (``objective`` when it is not
        the cost), the service and constraint KPI means; ``attrs["objectives"]``: column
        -> ``"minimize"``/``"maximize"``.
    chosen
        The configuration finally picked: with service KPIs, the one the final step
        confirmed (:mod:`~g60rail.experiment.tuning_choice`; None when none was);
        otherwise ``best_params``.
    chosen_scenario
        The base scenario with ``chosen`` applied (or None).
    chosen_cost
        The life-cycle cost of ``chosen`` (``currency``; NaN without one).
    chosen_kpis
        Its KPI means, over the final step's runs when it ran.
    selection
        The final step's :class:`~g60rail.experiment.selection.Selection` among equally
        cheap candidates (None without service KPIs, or when the cheapest feasible
        configuration was unique in cost).
    confirmation
        The final step's rounds (:attr:`Choice.rounds
        <g60rail.experiment.tuning_choice.Choice.rounds>`), empty when it did not run.
    service_kpis
        The service KPIs set beside the cost.
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
    pareto: pd.DataFrame = field(default_factory=pd.DataFrame)
    chosen: dict[str, Any] | None = None
    chosen_scenario: Scenario | None = None
    chosen_cost: float = math.nan
    chosen_kpis: KPIs = field(default_factory=dict)
    selection: Selection | None = None
    confirmation: pd.DataFrame = field(default_factory=pd.DataFrame)
    service_kpis: list[ServiceKpi] = field(default_factory=list)


def tune(
    scenario: Scenario,
    space: Mapping[str, Any],
    objective: Objective = "cost",
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
    service_kpis: Sequence[str | ServiceKpi] = (),
    indifference: float | None = None,
    confidence: float = 0.95,
    confirm_replications: int = 10,
    confirm_max_replications: int = DEFAULT_MAX_REPLICATIONS,
    steady_state: bool = True,
) -> TuneResult:
    """Search capacities that meet service levels at least cost, or the Pareto front of
    life-cycle cost against service KPIs (Optuna).

    Every trial runs ``replications`` replications of one configuration, with the same
    seeds in every trial (common random numbers); constraints are checked on the KPI
    means.  Optuna's constrained samplers (seeded with ``seed``) steer towards feasible
    configurations: TPE for the cost alone, NSGA-II with service KPIs; an already
    evaluated configuration is not simulated again.  When the space holds no more
    configurations than ``n_trials`` (integer ranges and lists only), each configuration
    is evaluated exactly once instead (grid search), so the answer is the true optimum
    (or front) over the space.

    With service KPIs, a final step picks one configuration: among the feasible trials as
    cheap as the front's cheapest point, procedure KN (:func:`~g60rail.select_best`, on
    the first service KPI, within ``indifference``) picks the best when there are
    several; the pick's constraints are then checked on its KN runs, or on
    ``confirm_replications`` runs when it was the only candidate.  A pick that fails
    them leaves the pool and the step starts again from the next cheapest feasible
    trials (:mod:`~g60rail.experiment.tuning_choice`).

    Parameters
    ----------
    scenario
        The base scenario.
    space
        Dotted keys to ranges: ``(low, high)`` of ints (integer range: values stay
        integers), of floats (float range) or a list of choices, e.g.
        ``{"hub.reach_stackers": (1, 8)}``.
    objective
        ``"cost"`` (default: minimise the life-cycle cost ``Σ costs[k] · value_k`` in
        :data:`CURRENCY` subject to the constraints), ``"min:<kpi>"`` / ``"max:<kpi>"``
        (a KPI mean), or a function ``(params, kpi_means) -> float`` to minimise.
    constraints
        Service levels such as ``"hub.dwell_h_p95 <= 72"`` or
        ``"pax.security_wait_min_p95 <= 10"`` (see :func:`parse_constraint`).  Unless
        ``steady_state`` is false, :data:`STEADY_STATE` (``freight.backlog_growing <=
        0``) is added: a configuration whose backlog keeps growing in any replication is
        infeasible.
    n_trials
        Total trials of the study; a resumed study runs only the missing ones.
    replications, days, seed, warmup_days
        As for :func:`replicate`.
    storage
        Optuna storage URL; default ``sqlite:///<out>/study.db`` when ``out`` is given,
        else in memory.
    study_name
        Default: derived from every setting of the study, so a changed setting starts a
        new study and an unchanged one resumes (the final step's settings are not part
        of it: they change nothing in the trials).
    executor, progress
        As for :func:`replicate`.
    costs
        Cost per unit of each capacity (:data:`CURRENCY`); default: the scenario's
        ``[costs]`` section (:func:`scenario_costs`).
    out
        Folder for the study database.
    service_kpis
        KPIs to set beside the cost as objectives, e.g.
        ``["hub.truck_turnaround_h_p95"]`` (minimised; ``"max:<kpi>"`` to maximise).
        Needs ``objective="cost"``.
    indifference
        Final step: KN's indifference zone in the first service KPI's unit (e.g. hours);
        default 5 % of the candidates' largest trial mean of it.
    confidence
        Final step: KN's probability of correct selection, in ``(0.5, 1)``.
    confirm_replications
        Final step: KN's first-stage replications per candidate, and the replications
        confirming a single candidate (>= 2; 0 skips the step: the front's cheapest
        point is chosen on the trials' means).
    confirm_max_replications
        Final step: most replications per candidate in KN.
    steady_state
        Add :data:`STEADY_STATE` to the constraints (default).  False for a study of a
        transient, such as a peak that builds a backlog on purpose, where the other
        constraints alone say what is acceptable.

    Returns
    -------
    TuneResult
    """
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("tune() needs Optuna: pip install 'g60rail[tune]'") from exc

    check_days(days, warmup_days)
    cons = with_steady_state([parse_constraint(c) for c in constraints], steady_state)
    services = [ServiceKpi.parse(s) for s in service_kpis]
    unit_costs = dict(costs if costs is not None else scenario_costs(scenario))
    spec = check_tune(
        scenario,
        space,
        objective=objective,
        constraints=cons,
        costs=unit_costs,
        days=days,
        seed=seed,
        service_kpis=services,
    )
    confirm = ConfirmSettings(
        indifference, confidence, confirm_replications, confirm_max_replications
    )
    confirm.check()
    base = scenario.to_dict()
    own_storage = storage is None and out is not None
    if own_storage:
        assert out is not None
        Path(out).mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(out).resolve() / 'study.db'}"
    parts: dict[str, Any] = {
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
    if services:  # a single-objective study keeps the name it always had
        parts["service"] = [str(s) for s in services]
    name = study_name or study_name_of(parts)
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial re-raises its error
    try:
        sampler, grid = make_sampler(spec, n_trials, seed, 1 + len(services))
        directions: list[Literal["minimize", "maximize"]] = ["minimize"]
        directions += [s.direction for s in services]
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            sampler=sampler,
            directions=directions,
            load_if_exists=True,
        )
        retry_unfinished(study, stale_running=own_storage, grid=grid is not None)
        complete = optuna.trial.TrialState.COMPLETE
        finished = study.get_trials(deepcopy=False, states=(complete,))
        n_done = len(finished)
        ex, owned = resolve_executor(executor, replications)
        try:
            if owned:
                ex.__enter__()
            seeds = replication_seeds(seed, replications)
            run = TrialRunner(
                ex,
                base,
                days,
                seeds,
                warmup_days,
                spec,
                cons,
                objective_function(objective, unit_costs),
                services,
            )
            remaining = max(0, n_trials - n_done)
            if grid is not None:
                seen = {json.dumps(t.params, sort_keys=True) for t in finished}
                remaining = min(remaining, grid_size(grid) - len(seen))
            with progress_bar(n_trials, min(n_done, n_trials), "tune", progress, "trial") as bar:
                study.optimize(run, n_trials=remaining, callbacks=[lambda s, t: bar.update(1)])
            res = _tune_result(
                study, scenario, spec, cons, unit_costs, name, storage, services, objective
            )
            if services and confirm.n0 and res.best_params is not None:
                choice = choose(
                    scenario,
                    res.trials,
                    spec,
                    services[0],
                    cons,
                    confirm,
                    days=days,
                    seed=seed,
                    warmup_days=float(warmup_days),
                    executor=ex,
                    progress=progress,
                    currency=CURRENCY,
                )
                _take(res, choice, scenario, unit_costs)
        finally:
            if owned:
                ex.__exit__(None, None, None)
    finally:
        optuna.logging.set_verbosity(level)
    return res


def _take(res: TuneResult, choice: Choice, scenario: Scenario, costs: Mapping[str, float]) -> None:
    """Put the final step's choice into ``res``."""
    res.chosen = choice.chosen
    res.chosen_cost = configuration_cost(choice.chosen, costs) if choice.chosen else math.nan
    res.chosen_kpis = choice.kpis
    res.chosen_scenario = scenario.with_overrides(choice.chosen) if choice.chosen else None
    res.selection = choice.selection
    res.confirmation = choice.rounds


def _tune_result(
    study: Any,
    scenario: Scenario,
    spec: Space,
    cons: list[Constraint],
    costs: Mapping[str, float],
    name: str,
    storage: str | None,
    services: list[ServiceKpi],
    objective: Objective,
) -> TuneResult:
    trials = trials_table(study, spec, cons, costs)
    best_params: dict[str, Any] | None = None
    best_value, best_kpis = math.nan, {}
    number = best_trial(trials, services)
    if number is not None:
        best = study.trials[number]
        best_params, best_value = dict(best.params), float(best.values[0])
        best_kpis = dict(best.user_attrs["kpis"])
    best_sc = scenario.with_overrides(best_params) if best_params else None
    return TuneResult(
        best_params,
        best_sc,
        best_value,
        best_kpis,
        trials,
        cons,
        name,
        storage,
        pareto=front_table(trials, list(spec), cons, services, objective == "cost"),
        chosen=dict(best_params) if best_params is not None else None,
        chosen_scenario=best_sc,
        chosen_cost=configuration_cost(best_params, costs) if best_params else math.nan,
        chosen_kpis=dict(best_kpis),
        service_kpis=list(services),
    )
