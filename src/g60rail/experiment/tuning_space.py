"""What a tuning study searches and scores, checked before its first trial.

The search space (integer or float ranges, lists of choices, of dotted scenario keys),
the unit costs and their currency (:data:`CURRENCY`), the objective (life-cycle cost, or
a KPI mean), the service KPIs set beside the cost (:class:`ServiceKpi`) and the
constraints: :func:`check_tune` checks them all, the KPI names against the names a short
run of the scenario reports (:class:`~g60rail.experiment.kpinames.KpiNames`).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from g60rail.errors import ScenarioError
from g60rail.experiment.kpinames import KpiNames
from g60rail.experiment.replications import KPIs
from g60rail.kpi import Constraint, parse_constraint
from g60rail.scenario.schema import Scenario

__all__ = [
    "CURRENCY",
    "DEFAULT_COSTS",
    "MAX_SEED",
    "STEADY_STATE",
    "Objective",
    "ServiceKpi",
    "Space",
    "check_tune",
    "configuration_cost",
    "grid_of",
    "grid_size",
    "objective_function",
    "scenario_costs",
    "space_spec",
    "study_name_of",
    "with_steady_state",
]

CURRENCY = "USD"
"""The currency of every cost: unit costs, the ``[costs]`` section, the cost objective."""

MAX_SEED = 2**32 - 1
"""The largest seed :func:`~g60rail.experiment.tuning.tune` takes (Optuna's samplers take
32-bit seeds)."""

STEADY_STATE = Constraint("freight.backlog_growing", "<=", 0.0)
"""The constraint a tuning study adds to the given ones unless told not to: in no
replication does the backlog keep growing (``freight.backlog_growing``, see
:func:`~g60rail.model.report.backlog_kpis`).  A configuration without a steady state has
means and percentiles that describe the run's length rather than the corridor, however
well they meet the other constraints: the preview rules out an offered load at or above
1, but a hub can grow a backlog below it (stackers serving first come first served let
trains leave boxes behind while the trucks are served quickly).  The flag judges at least
14 days after the warm-up (and after the corridor's first week): shorter runs report 0,
so a study that relies on it runs three weeks or more."""


def with_steady_state(constraints: Sequence[Constraint], steady_state: bool) -> list[Constraint]:
    """``constraints`` with :data:`STEADY_STATE` after them when ``steady_state`` is set
    and none of them is on ``freight.backlog_growing`` already."""
    out = list(constraints)
    if steady_state and all(c.kpi != STEADY_STATE.kpi for c in out):
        out.append(STEADY_STATE)
    return out


DEFAULT_COSTS: dict[str, float] = {
    "hub.reach_stackers": 450_000.0,
    "hub.loading_tracks": 2_000_000.0,
    "hub.gate_lanes": 250_000.0,
    "hub.yard_teu": 1_500.0,
}
"""Capital cost per unit of a capacity (USD, estimates): a reach stacker, a loading track
with its turnouts, a gate lane with its OCR portal, one TEU ground slot of yard."""

Space = dict[str, tuple[str, Any]]
"""A parsed search space: dotted key -> (``"int"``, [low, high]), (``"float"``, [low,
high]) or (``"categorical"``, [choices])."""

Objective = str | Callable[[dict[str, Any], KPIs], float]
"""``"cost"``, ``"min:<kpi>"``, ``"max:<kpi>"`` or ``(params, kpi_means) -> float``."""

_MIN_MAX = re.compile(r"(min|max):(\S+)")


def scenario_costs(scenario: Scenario) -> dict[str, float]:
    """Life-cycle cost per unit of each capacity: the scenario's ``[costs]`` section over
    :data:`DEFAULT_COSTS` (:data:`CURRENCY`)."""
    return {**DEFAULT_COSTS, **scenario.costs.per_unit()}


def configuration_cost(params: Mapping[str, Any], costs: Mapping[str, float]) -> float:
    """Life-cycle cost of a configuration, ``Σ costs[k] · value_k`` over its keys that have
    a unit cost (:data:`CURRENCY`)."""
    return float(sum(costs[k] * float(v) for k, v in params.items() if k in costs))


@dataclass(frozen=True)
class ServiceKpi:
    """A service KPI set beside the cost as an objective of the study.

    Attributes
    ----------
    kpi
        Its dotted name, e.g. ``"hub.truck_turnaround_h_p95"`` (its mean over the
        replications is the objective).
    minimize
        Whether smaller is better (waiting and turnaround times), else larger
        (throughput).
    """

    kpi: str
    minimize: bool = True

    @classmethod
    def parse(cls, text: str | ServiceKpi) -> ServiceKpi:
        """``"hub.truck_turnaround_h_p95"`` or ``"min:…"`` (minimised), ``"max:…"``
        (maximised).

        Raises
        ------
        ScenarioError
            With ``field="service"``: not a KPI name.
        """
        if isinstance(text, ServiceKpi):
            return text
        if not isinstance(text, str) or not re.fullmatch(r"((min|max):)?[^\s:<>=]+", text):
            raise ScenarioError(
                "a service KPI is a KPI name, optionally 'min:<kpi>' or 'max:<kpi>'",
                field="service",
                value=text,
            )
        m = _MIN_MAX.fullmatch(text)
        return cls(m.group(2), m.group(1) == "min") if m else cls(text, True)

    @property
    def direction(self) -> Literal["minimize", "maximize"]:
        """Optuna's name of the direction: ``"minimize"`` or ``"maximize"``."""
        return "minimize" if self.minimize else "maximize"

    def __str__(self) -> str:
        return f"{'min' if self.minimize else 'max'}:{self.kpi}"


def space_spec(scenario: Scenario, space: Mapping[str, Any]) -> Space:
    """Parse and check a search space: ``(low, high)`` of ints (an integer range), of
    floats (a float range) or a list of choices; every end must be a valid value of its
    key in ``scenario``.

    Raises
    ------
    ScenarioError
        Naming the key (or ``space`` when it is empty) and the range.
    """
    if not space:
        raise ScenarioError("the search space is empty", field="space")
    spec: Space = {}
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


def grid_of(spec: Space) -> dict[str, list[Any]] | None:
    """Every value of a space without float ranges (integer ranges in full), or None."""
    if any(kind == "float" for kind, _ in spec.values()):
        return None
    return {
        k: list(range(ends[0], ends[1] + 1)) if kind == "int" else list(ends)
        for k, (kind, ends) in spec.items()
    }


def grid_size(grid: dict[str, list[Any]] | None) -> int:
    """Configurations of a grid (0 for None)."""
    return math.prod(len(v) for v in grid.values()) if grid is not None else 0


def study_name_of(parts: Mapping[str, Any]) -> str:
    """A study name derived from every setting that shapes the study."""
    text = json.dumps(dict(parts), sort_keys=True, default=str)
    return f"g60rail-tune-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def objective_function(
    objective: Objective, costs: Mapping[str, float]
) -> Callable[[dict[str, Any], KPIs], float]:
    """The objective as a function ``(params, kpi_means) -> float`` to minimise.

    Raises
    ------
    ScenarioError
        With ``field="objective"``: not ``"cost"``, ``"min:<kpi>"``, ``"max:<kpi>"`` or a
        function.
    """
    if callable(objective):
        return objective
    if objective == "cost":
        return lambda params, kpis: configuration_cost(params, costs)
    m = _MIN_MAX.fullmatch(str(objective))
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


def check_tune(
    scenario: Scenario,
    space: Mapping[str, Any],
    *,
    objective: Objective = "cost",
    constraints: Sequence[str | Constraint] = (),
    costs: Mapping[str, float] | None = None,
    days: float = 90,
    seed: int = 0,
    service_kpis: Sequence[str | ServiceKpi] = (),
) -> Space:
    """Check the inputs of :func:`~g60rail.experiment.tuning.tune` without running a
    trial; the parsed space.

    The seed (an integer in ``[0, MAX_SEED]``), every key and end of the space (they must
    exist and be valid in the scenario), the unit costs of the cost objective, the
    objective's form, the service KPIs (only beside the cost objective, each once), and
    the KPI names of the constraints, the objective and the service KPIs (against the
    names a short run of the scenario reports).

    Raises
    ------
    ValueError
        The seed is not an integer in ``[0, MAX_SEED]``.
    ScenarioError
        Naming the field (a ``space`` key, ``constraint``, ``objective``, ``service``)
        and the value.
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
    spec = space_spec(scenario, space)
    cons = [parse_constraint(c) for c in constraints]
    services = [ServiceKpi.parse(s) for s in service_kpis]
    unit_costs = dict(costs if costs is not None else scenario_costs(scenario))
    if objective == "cost":
        missing = [k for k in spec if k not in unit_costs]
        if missing:
            raise ScenarioError(
                "no cost per unit for this capacity (give costs={key: cost})", field=missing[0]
            )
    objective_function(objective, unit_costs)
    if services and objective != "cost":
        raise ScenarioError(
            "service KPIs are objectives beside the life-cycle cost: use objective='cost'",
            field="service",
            value=str(services[0]),
        )
    names = [s.kpi for s in services]
    for s in services:
        if names.count(s.kpi) > 1:
            raise ScenarioError("a service KPI is given twice", field="service", value=s.kpi)
    _check_kpis(scenario, days, cons, objective, services)
    return spec


def _check_kpis(
    scenario: Scenario,
    days: float,
    constraints: Sequence[Constraint],
    objective: Objective,
    services: Sequence[ServiceKpi],
) -> None:
    """Refuse constraints, an objective and service KPIs on KPIs the runs do not report
    (before any trial; a short run of the scenario lists its KPI names)."""
    wanted = [("constraint", c.kpi, str(c)) for c in constraints]
    m = _MIN_MAX.fullmatch(objective) if isinstance(objective, str) else None
    if m is not None:
        wanted.append(("objective", m.group(2), str(objective)))
    wanted += [("service", s.kpi, s.kpi) for s in services]
    if not wanted:
        return
    names = KpiNames.of(scenario, days)
    for field, kpi, text in wanted:
        problem = names.problem(kpi)
        if problem is not None:
            raise ScenarioError(problem, field=field, value=text)
