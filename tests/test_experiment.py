"""Replications, sweeps, tuning and executors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import g60rail as g6
from g60rail.errors import ScenarioError
from g60rail.experiment.executors import DaskExecutor, Processes, Serial, Task, resolve_executor
from g60rail.experiment.replications import replicate, replication_seeds
from g60rail.experiment.stats import independent_difference, paired_difference, t_interval
from g60rail.experiment.sweeps import SweepResult, expand_points, sweep
from g60rail.experiment.tuning import STEADY_STATE, parse_constraint, tune
from g60rail.experiment.tuning_space import with_steady_state
from tests.conftest import DESIGN_RUNS, songjiang_design_hub, songjiang_hub

DAYS = 20


@pytest.fixture(scope="module")
def baseline() -> g6.Scenario:
    """The baseline's Songjiang services: the hub KPIs these tests read, at a seventh of
    the events."""
    return songjiang_hub()


class CountingSerial(Serial):
    """The serial executor, counting the runs it executes."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def run(self, tasks, fn=None):  # type: ignore[no-untyped-def]
        for task, kpis in super().run(tasks) if fn is None else super().run(tasks, fn):
            self.keys.append(task.key)
            yield task, kpis


# -- seeds ----------------------------------------------------------------------------
def test_replication_seeds_come_from_one_seed_sequence() -> None:
    seeds = replication_seeds(7, 4)
    expected = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(7).spawn(4)]
    assert seeds == expected
    assert len(set(seeds)) == 4
    assert replication_seeds(7, 6)[:4] == seeds  # more replications keep the first ones
    assert replication_seeds(8, 4) != seeds
    with pytest.raises(ValueError, match="seed"):
        replication_seeds(-1, 3)
    with pytest.raises(ValueError, match="replications"):
        replication_seeds(0, 0)


# -- replicate ------------------------------------------------------------------------
def test_replicate_gives_tidy_runs_and_a_summary(baseline: g6.Scenario) -> None:
    res = replicate(baseline, 3, days=DAYS, seed=5, executor="serial", progress=False)
    assert list(res.runs["replication"]) == [0, 1, 2]
    assert list(res.runs["seed"]) == replication_seeds(5, 3)
    assert "hub.dwell_h_mean" in res.runs.columns
    first = g6.simulate(baseline, days=DAYS, seed=int(res.runs["seed"][0]))
    assert res.runs.loc[0, "hub.dwell_h_mean"] == first.kpis["hub.dwell_h_mean"]
    ci = res.ci("hub.dwell_h_mean")
    ref = t_interval(res.runs["hub.dwell_h_mean"])
    assert (ci.low, ci.high, ci.n) == pytest.approx((ref.low, ref.high, 3))
    assert res.summary.loc["freight.teu_created", "n"] == 3


def test_warmup_changes_only_the_recomputed_kpis(baseline: g6.Scenario) -> None:
    full = replicate(baseline, 2, days=DAYS, seed=1, executor="serial", progress=False)
    warm = replicate(
        baseline, 2, days=DAYS, seed=1, warmup_days=7, executor="serial", progress=False
    )
    a, b = full.runs.set_index("replication"), warm.runs.set_index("replication")
    assert (a["freight.teu_booked"] == b["freight.teu_booked"]).all()
    assert (a["hub.reach_stacker_moves"] == b["hub.reach_stacker_moves"]).all()
    # the stackers' busy time counts from the warm-up: the empty first week is left out
    assert not np.allclose(a["hub.reach_stacker_utilization"], b["hub.reach_stacker_utilization"])
    assert (a["door.songjiang_vientiane.n"] > b["door.songjiang_vientiane.n"]).all()
    assert not np.allclose(a["hub.dwell_h_mean"], b["hub.dwell_h_mean"])
    with pytest.raises(ValueError, match="warmup_days"):
        replicate(baseline, 2, days=5, warmup_days=5, executor="serial", progress=False)


def test_common_random_numbers_narrow_the_interval_of_a_difference(
    baseline: g6.Scenario,
) -> None:
    kpi, r = "hub.dwell_h_mean", 6
    res = sweep(
        baseline,
        {"hub.reach_stackers": [1, 2]},
        r,
        DAYS,
        seed=0,
        executor="serial",
        progress=False,
    )
    crn = res.difference(kpi, 0, 1)
    # the same comparison with independent seeds for the second configuration
    one = res.runs.loc[res.runs["point"] == 0, kpi].to_numpy()
    two_indep = (
        replicate(
            baseline.with_overrides({"hub.reach_stackers": 2}),
            r,
            DAYS,
            seed=99,
            executor="serial",
            progress=False,
        )
        .runs[kpi]
        .to_numpy()
    )
    indep = independent_difference(one, two_indep)
    assert crn.n == r
    assert crn.half_width < 0.5 * indep.half_width
    # pairing independent runs does not help: the gain comes from the common seeds
    assert paired_difference(one, two_indep).half_width > 2 * crn.half_width


# -- sweep ----------------------------------------------------------------------------
def test_expand_points_factorial_then_explicit() -> None:
    pts = expand_points(
        {"hub.reach_stackers": [2, 3], "hub.loading_tracks": [1, 2]},
        [{"hub.gate_lanes": 2}, {"hub.reach_stackers": 2, "hub.loading_tracks": 1}],
    )
    assert pts[:4] == [
        {"hub.reach_stackers": 2, "hub.loading_tracks": 1},
        {"hub.reach_stackers": 2, "hub.loading_tracks": 2},
        {"hub.reach_stackers": 3, "hub.loading_tracks": 1},
        {"hub.reach_stackers": 3, "hub.loading_tracks": 2},
    ]
    assert pts[4:] == [{"hub.gate_lanes": 2}]  # the duplicate point is dropped
    assert expand_points(None, None) == [{}]
    with pytest.raises(ScenarioError, match="at least one"):
        expand_points({"hub.reach_stackers": []}, None)


def test_sweep_tidy_frame_summary_and_resume(baseline: g6.Scenario, tmp_path: Path) -> None:
    ex = CountingSerial()
    res = sweep(
        baseline,
        {"hub.reach_stackers": [2, 3]},
        replications=2,
        days=DAYS,
        seed=3,
        executor=ex,
        out=tmp_path,
        points=[{"hub.loading_tracks": 2}],
        progress=False,
    )
    runs = res.runs
    assert len(runs) == 3 * 2
    assert not runs.duplicated(["point", "replication"]).any()
    assert res.params == ["hub.reach_stackers", "hub.loading_tracks"]
    # a key a point does not set takes the base scenario's value
    assert list(runs["hub.loading_tracks"]) == [4, 4, 4, 4, 2, 2]
    assert list(runs["hub.reach_stackers"]) == [2, 2, 3, 3, 4, 4]
    # common random numbers: replication i has the same seed at every point
    assert runs.groupby("replication")["seed"].nunique().eq(1).all()
    assert len(res.summary) == 3 * (len(runs.columns) - 5)
    s = res.summary.set_index(["point", "kpi"]).loc[(1, "hub.dwell_h_mean")]
    assert s["mean"] == pytest.approx(runs.loc[runs.point == 1, "hub.dwell_h_mean"].mean())
    for name in ("runs.csv", "runs.parquet", "summary.csv", "summary.parquet", "sweep.json"):
        assert (tmp_path / name).exists(), name
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 6 and len(ex.keys) == 6
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "runs.parquet"), runs)

    # a torn last line (a crash while writing) is cut off and that run is redone
    with open(tmp_path / "runs.jsonl", "a") as fh:
        fh.write('{"key": "partial')
    lines_before = (tmp_path / "runs.jsonl").read_text().splitlines()[:-1]
    (tmp_path / "runs.jsonl").write_text("\n".join(lines_before[:-1]) + "\n" + '{"key": "x')
    ex2 = CountingSerial()
    again = sweep(
        baseline,
        {"hub.reach_stackers": [2, 3]},
        2,
        DAYS,
        3,
        executor=ex2,
        out=tmp_path,
        points=[{"hub.loading_tracks": 2}],
        progress=False,
    )
    assert len(ex2.keys) == 1  # only the lost run ran again
    pd.testing.assert_frame_equal(again.runs, runs)
    records = [json.loads(x) for x in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert len(records) == 6 and len({r["key"] for r in records}) == 6


def test_a_sweep_names_its_points_without_a_steady_state() -> None:
    runs = pd.DataFrame(
        {
            "point": [0, 0, 1, 1, 2, 2],
            "replication": [0, 1] * 3,
            "freight.backlog_growing": [0.0, 0.0, 1.0, 0.0, 1.0, 1.0],
        }
    )
    res = SweepResult(runs, pd.DataFrame(), [], [{}, {}, {}])
    assert res.growing_backlog == {1: 0.5, 2: 1.0}
    station_only = SweepResult(runs.drop(columns="freight.backlog_growing"), pd.DataFrame(), [], [])
    assert station_only.growing_backlog == {}


def test_sweep_rejects_a_bad_key_before_running(baseline: g6.Scenario, tmp_path: Path) -> None:
    ex = CountingSerial()
    with pytest.raises(ScenarioError, match=r"hub\.reach_stakers"):
        sweep(baseline, {"hub.reach_stakers": [1]}, 2, DAYS, executor=ex, out=tmp_path)
    with pytest.raises(ScenarioError, match="greater than or equal to 1"):
        sweep(baseline, {"hub.reach_stackers": [0, 1]}, 2, DAYS, executor=ex, out=tmp_path)
    assert ex.keys == []
    assert not (tmp_path / "runs.jsonl").exists()


# -- executors ------------------------------------------------------------------------
def crash_once(
    scenario: dict[str, Any], overrides: dict[str, Any], days: float, seed: int, warmup: float
) -> dict[str, float]:
    """A stand-in run whose worker process dies the first time seed 1 is run."""
    marker = Path(scenario["marker"])
    if seed == 1 and not marker.exists():
        marker.write_text("died once")
        os._exit(1)
    return {"value": float(seed) * days}


def always_crash(
    scenario: dict[str, Any], overrides: dict[str, Any], days: float, seed: int, warmup: float
) -> dict[str, float]:
    os._exit(1)


def test_processes_resubmit_runs_of_a_dead_worker(tmp_path: Path) -> None:
    data = {"marker": str(tmp_path / "died")}
    tasks = [Task(f"t{i}", data, {}, 2.0, i) for i in range(4)]
    with Processes(2, retries=2) as ex:
        results = dict((t.key, k) for t, k in ex.run(tasks, fn=crash_once))
    assert (tmp_path / "died").exists()
    assert results == {f"t{i}": {"value": 2.0 * i} for i in range(4)}


def test_processes_give_up_after_the_retries(tmp_path: Path) -> None:
    tasks = [Task("t0", {}, {}, 1.0, 0)]
    with Processes(1, retries=1) as ex, pytest.raises(RuntimeError, match="died 2 times"):
        list(ex.run(tasks, fn=always_crash))


def test_resolve_executor() -> None:
    assert isinstance(resolve_executor("serial")[0], Serial)
    ex, owned = resolve_executor(3)
    assert isinstance(ex, Processes) and ex.workers == 3 and owned
    assert resolve_executor("dask:2")[0].workers == 2
    assert resolve_executor("tcp://127.0.0.1:8786")[0].address == "tcp://127.0.0.1:8786"
    assert isinstance(resolve_executor(None, n_tasks=1)[0], Serial)
    mine = Serial()
    assert resolve_executor(mine) == (mine, False)
    with pytest.raises(ValueError, match="unknown executor"):
        resolve_executor("threads")


@pytest.fixture(scope="module")
def dask_client():  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_dask_client_and_address_match_serial(
    baseline: g6.Scenario, dask_client: Any, tmp_path: Path
) -> None:
    assert dask_client.scheduler.address.startswith("tcp://127.0.0.1:")
    serial = replicate(baseline, 2, DAYS, seed=4, executor="serial", progress=False)
    on_client = replicate(baseline, 2, DAYS, seed=4, executor=dask_client, progress=False)
    pd.testing.assert_frame_equal(on_client.runs, serial.runs)
    grid = {"hub.reach_stackers": [2, 3]}
    by_address = sweep(
        baseline, grid, 2, DAYS, 4, executor=dask_client.scheduler.address, progress=False
    )
    by_serial = sweep(baseline, grid, 2, DAYS, 4, executor="serial", progress=False)
    pd.testing.assert_frame_equal(by_address.runs, by_serial.runs)
    assert dask_client.status == "running"  # a client passed in is left open
    with DaskExecutor(client=dask_client) as ex:
        assert ex.client is dask_client


def test_dask_local_cluster_binds_to_loopback_and_closes() -> None:
    pytest.importorskip("dask.distributed")
    with DaskExecutor(workers=1) as ex:
        client = ex.client
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        workers = client.scheduler_info()["workers"]
        assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)
        tasks = [Task("a", {"marker": "unused"}, {}, 3.0, 2)]
        assert list(ex.run(tasks, fn=crash_once)) == [(tasks[0], {"value": 6.0})]
    assert ex.client is None and client.status == "closed"


# -- tune -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kpi", "op", "bound"),
    [
        ("hub.dwell_h_p95 <= 72", "hub.dwell_h_p95", "<=", 72.0),
        ("pax.security_wait_min_p95<10", "pax.security_wait_min_p95", "<", 10.0),
        ("freight.teu_delivered >= 1.5e3", "freight.teu_delivered", ">=", 1500.0),
        (" border.mohan.clearance_h_mean > -0.5 ", "border.mohan.clearance_h_mean", ">", -0.5),
    ],
)
def test_parse_constraint(text: str, kpi: str, op: str, bound: float) -> None:
    c = parse_constraint(text)
    assert (c.kpi, c.op, c.bound) == (kpi, op, bound)


@pytest.mark.parametrize(
    "text", ["hub.dwell_h_p95 = 72", "72 >= hub.dwell_h_p95", "__import__('os') <= 1", "a <= b"]
)
def test_parse_constraint_rejects_anything_else(text: str) -> None:
    with pytest.raises(ScenarioError, match="constraint"):
        parse_constraint(text)


def test_constraint_violation_sign() -> None:
    c = parse_constraint("k <= 10")
    assert c.violation(9) < 0 < c.violation(11)
    assert parse_constraint("k >= 10").violation(11) < 0
    assert parse_constraint("k < 10").violation(10) > 0
    assert c.violation(float("nan")) > 0


SPACE = {"hub.reach_stackers": (1, 3), "hub.loading_tracks": (1, 3)}
CONSTRAINTS = ["hub.reach_stacker_utilization <= 0.1", "hub.track_wait_h_mean <= 0.1"]
COSTS = {"hub.reach_stackers": 450_000, "hub.loading_tracks": 2_000_000}


def test_tune_finds_the_cheapest_feasible_capacities(baseline: g6.Scenario) -> None:
    res = tune(
        baseline,
        SPACE,
        constraints=CONSTRAINTS,
        n_trials=12,
        replications=2,
        days=DAYS,
        seed=0,
        executor="serial",
        progress=False,
        costs=COSTS,
    )
    best = res.best_params
    assert best is not None and set(best) == {"hub.reach_stackers", "hub.loading_tracks"}
    assert res.best_value == best["hub.reach_stackers"] * 450_000 + (
        best["hub.loading_tracks"] * 2_000_000
    )
    assert res.best_scenario is not None
    assert res.best_scenario.hub.reach_stackers == best["hub.reach_stackers"]
    t = res.trials
    # a space of 9 configurations and 12 trials: each configuration is tried once
    assert len(t) == 9
    assert not t.duplicated(list(SPACE)).any()
    assert t["feasible"].any() and not t["feasible"].all()
    assert not t.loc[t["cost"] < res.best_value, "feasible"].any()
    for c in CONSTRAINTS:
        con = parse_constraint(c)
        assert con.violation(res.best_kpis[con.kpi]) <= 0
    # one reach stacker or one track fewer (where the space has it) is cheaper and breaks
    # a constraint
    neighbours = [{**best, key: best[key] - 1} for key in best if best[key] - 1 >= SPACE[key][0]]
    assert neighbours
    for cheaper in neighbours:
        rep = replicate(
            baseline.with_overrides(cheaper), 2, DAYS, 0, executor="serial", progress=False
        )
        means = rep.summary["mean"]
        cons = [parse_constraint(c) for c in CONSTRAINTS]
        assert any(c.violation(means[c.kpi]) > 0 for c in cons), cheaper
        row = t[
            (t["hub.reach_stackers"] == cheaper["hub.reach_stackers"])
            & (t["hub.loading_tracks"] == cheaper["hub.loading_tracks"])
        ]
        assert len(row) == 1 and not row["feasible"].iloc[0]


def test_tune_rules_out_a_configuration_whose_backlog_keeps_growing() -> None:
    """The design case with stackers serving in the order asked for: two of them serve
    the trucks quickly while trains leave boxes behind, so the backlog grows although no
    offered load reaches 1 (the preview lets it through).  On the turnaround alone two
    stackers would be the cheapest answer; the steady-state constraint makes it three."""
    fcfs = songjiang_design_hub().with_overrides({"hub.stacker_priority": "fcfs"})
    turnaround = "hub.truck_turnaround_h_p95 <= 3"
    res = tune(
        fcfs,
        {"hub.reach_stackers": (2, 3)},
        constraints=[turnaround],
        n_trials=2,
        replications=1,
        **DESIGN_RUNS,
    )
    assert res.constraints == [parse_constraint(turnaround), STEADY_STATE]
    t = res.trials.set_index("hub.reach_stackers")
    assert t.loc[2, "hub.truck_turnaround_h_p95"] <= 3  # meets the service level ...
    assert t.loc[2, "freight.backlog_growing"] > 0  # ... without a steady state
    assert not t.loc[2, "feasible"] and t.loc[3, "feasible"]
    assert res.best_params == {"hub.reach_stackers": 3}
    assert res.best_kpis["freight.backlog_growing"] == 0.0


def test_the_steady_state_constraint_is_added_once_and_only_when_asked() -> None:
    given = [parse_constraint("hub.dwell_h_p95 <= 72")]
    assert with_steady_state(given, True) == [*given, STEADY_STATE]
    assert with_steady_state(given, False) == given
    own = [parse_constraint("freight.backlog_growing <= 0.5")]  # a tolerance of the user's
    assert with_steady_state(own, True) == own


def test_tune_with_tpe_resumes_from_its_storage(baseline: g6.Scenario, tmp_path: Path) -> None:
    kw = dict(
        constraints=CONSTRAINTS[:1],
        replications=1,
        days=10,
        seed=0,
        executor="serial",
        progress=False,
        costs=COSTS,
        out=tmp_path,
    )
    space = {"hub.reach_stackers": (1, 8)}  # more configurations than trials: TPE
    first = tune(baseline, space, n_trials=4, **kw)
    assert (tmp_path / "study.db").exists()
    assert len(first.trials) == 4
    again = tune(baseline, space, n_trials=6, **kw)
    assert len(again.trials) == 6
    pd.testing.assert_frame_equal(again.trials.iloc[:4], first.trials)
    assert again.study_name == first.study_name
    other = tune(baseline, space, n_trials=1, **{**kw, "seed": 1})
    assert other.study_name != first.study_name and len(other.trials) == 1


def test_tune_rejects_bad_input(baseline: g6.Scenario) -> None:
    kw = dict(n_trials=1, replications=1, days=2, executor="serial", progress=False)
    with pytest.raises(ScenarioError, match="no cost"):
        tune(baseline, {"hub.gate_lanes": (1, 2)}, costs={}, **kw)
    with pytest.raises(ScenarioError, match=r"hub\.reach_stakers"):
        tune(baseline, {"hub.reach_stakers": (1, 2)}, **kw)
    with pytest.raises(ScenarioError, match="low must be"):
        tune(baseline, {"hub.reach_stackers": (3, 2)}, **kw)
    with pytest.raises(ScenarioError, match="did you mean"):
        tune(baseline, {"hub.reach_stackers": (1, 1)}, constraints=["hub.dwell_h_p96 <= 3"], **kw)
