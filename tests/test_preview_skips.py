"""``tune`` and ``sweep`` skip the configurations the preview proves overloaded.

On the design case's Songjiang services one reach stacker is offered 1.31 times the work
it can do (three stackers are 44 % busy): no steady state, so no run is spent on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

import g60rail as g6
from g60rail.experiment.executors import KPIs, Serial, Task, TaskFn, run_task
from g60rail.experiment.preview import overload
from tests.conftest import songjiang_only


class CountingSerial(Serial):
    """The serial executor, keeping the runs it executes."""

    def __init__(self) -> None:
        self.ran: list[Task] = []

    def run(self, tasks: Sequence[Task], fn: TaskFn = run_task) -> Iterator[tuple[Task, KPIs]]:
        self.ran.extend(tasks)
        yield from super().run(tasks, fn)


@pytest.fixture(scope="module")
def design() -> g6.Scenario:
    return songjiang_only(g6.load_scenario("songjiang_design"))


def test_the_preview_names_the_overloaded_resource(design: g6.Scenario) -> None:
    reason = overload(design.with_overrides({"hub.reach_stackers": 1}), 20)
    assert reason is not None and "reach_stackers at songjiang" in reason
    assert overload(design, 20) is None


def test_tune_does_not_simulate_an_overloaded_configuration(design: g6.Scenario) -> None:
    pytest.importorskip("optuna")
    ex = CountingSerial()
    res = g6.tune(
        design,
        {"hub.reach_stackers": (1, 2)},
        constraints=["hub.reach_stacker_utilization <= 0.9"],
        n_trials=2,
        replications=1,
        days=8,
        seed=0,
        executor=ex,
        progress=False,
    )
    t = res.trials.set_index("hub.reach_stackers")
    assert "reach_stackers at songjiang" in t.loc[1, "skipped"]
    assert not bool(t.loc[1, "feasible"])
    assert t.loc[2, "skipped"] == "" and bool(t.loc[2, "feasible"])
    assert {task.overrides["hub.reach_stackers"] for task in ex.ran} == {2}  # one run only
    assert res.best_params == {"hub.reach_stackers": 2}


def test_sweep_skips_an_overloaded_point_and_says_so(design: g6.Scenario) -> None:
    ex = CountingSerial()
    with pytest.warns(UserWarning, match="point 0 .* not simulated: .*reach_stackers"):
        res = g6.sweep(
            design, {"hub.reach_stackers": [1, 3]}, 2, 8, seed=1, executor=ex, progress=False
        )
    assert set(res.skipped) == {0} and "songjiang" in res.skipped[0]
    assert set(res.runs["point"]) == {1}
    assert {task.overrides["hub.reach_stackers"] for task in ex.ran} == {3}
    every = g6.sweep(
        design,
        {"hub.reach_stackers": [1, 3]},
        1,
        8,
        seed=1,
        executor="serial",
        progress=False,
        skip_overloaded=False,
    )
    assert not every.skipped and set(every.runs["point"]) == {0, 1}
