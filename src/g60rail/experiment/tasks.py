"""A simulation run as plain data, and the function every executor runs it with.

A :class:`Task` holds a scenario as plain data, dotted overrides, the number of days, an
integer seed and a warm-up; :func:`run_task` rebuilds the scenario and calls
:func:`g60rail.simulate`.  A run depends only on its task, so the same task gives the same
KPIs wherever it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KPIs", "Task", "TaskFn", "run_task"]

KPIs = dict[str, float]
TaskFn = Callable[[dict[str, Any], dict[str, Any], float, int, float], KPIs]


@dataclass(frozen=True)
class Task:
    """One simulation run.

    Attributes
    ----------
    key
        Identifier of the run, unique within an experiment (used for checkpoints).
    scenario
        The base scenario as plain data (``Scenario.to_dict()``).
    overrides
        Dotted-key overrides applied to the base scenario.
    days
        Simulated days.
    seed
        Integer seed of the run.
    warmup_days
        Days left out of the time statistics (see :func:`g60rail.simulate`).
    """

    key: str
    scenario: dict[str, Any] = field(repr=False)
    overrides: dict[str, Any]
    days: float
    seed: int
    warmup_days: float = 0.0

    @property
    def args(self) -> tuple[dict[str, Any], dict[str, Any], float, int, float]:
        """Positional arguments of :func:`run_task`."""
        return (self.scenario, self.overrides, self.days, self.seed, self.warmup_days)


def run_task(
    scenario: dict[str, Any],
    overrides: dict[str, Any],
    days: float,
    seed: int,
    warmup_days: float = 0.0,
) -> KPIs:
    """Simulate one run and return its KPIs (the worker function of every executor).

    Parameters
    ----------
    scenario
        Scenario as plain data (``Scenario.to_dict()``).
    overrides
        Dotted-key overrides, e.g. ``{"hub.reach_stackers": 3}``.
    days
        Simulated days.
    seed
        Non-negative integer seed.
    warmup_days
        Days left out of the time statistics (see :func:`g60rail.simulate`).

    Returns
    -------
    dict
        Flat KPI names to floats.
    """
    from g60rail.model.run import simulate
    from g60rail.scenario.io import scenario_from_dict

    sc = scenario_from_dict(scenario)
    if overrides:
        sc = sc.with_overrides(overrides)
    result = simulate(
        sc,
        days=days,
        seed=int(seed),
        warmup_days=warmup_days,
        record_containers=False,
        record_trains=False,
    )
    return {k: float(v) for k, v in result.kpis.items()}
