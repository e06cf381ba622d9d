"""Cost against service (issue 14, item 3): ``tune`` with service KPIs finds the Pareto
front of life-cycle cost against them, honours the constraints, keeps integer capacities
integers, and ends with a configuration confirmed on more replications (procedure KN
among equally cheap ones); costs carry their currency.

The studies run on the Songjiang services of ``songjiang_design`` (the hub at its design
throughput, where 3 reach stackers bind) and of the baseline, for a few simulated days.
"""

from __future__ import annotations

import itertools
import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import g60rail as g6
from g60rail.cli import main
from g60rail.errors import ScenarioError
from g60rail.experiment.executors import Serial
from g60rail.experiment.pareto import dominated, non_dominated, pareto_front
from g60rail.experiment.tuning import ServiceKpi, TuneResult, parse_constraint, tune
from g60rail.experiment.tuning_choice import cheapest_feasible
from tests.conftest import songjiang_hub, songjiang_only

TURNAROUND = "hub.truck_turnaround_h_p95"
UTILISATION = "hub.reach_stacker_utilization"
SPACE = {"hub.reach_stackers": (1, 4), "hub.gate_lanes": (2, 4)}
# Bounds from a sweep of songjiang_design's Songjiang services over SPACE (20 and 25 days,
# 3 seeds): the trucks' p95 turnaround is 1.4-2.1 h with at least 3 reach stackers and 3
# gate lanes, 3.9-6 h with 2 stackers, 4-17 h with 2 gate lanes and 45-215 h with one
# stacker, which runs at 0.9 utilisation.  3 h lies between the first group and all the
# others, a replication's spread away from each; 0.85 keeps the lone stacker out on
# utilisation too.  So the cheapest feasible configuration is (3 stackers, 3 lanes), and
# every cheaper one (the unit costs of a stacker and a lane are equal) breaks a bound.
CONSTRAINTS = [f"{TURNAROUND} <= 3", f"{UTILISATION} <= 0.85"]
DESIGN_SERVICES = ["cross_border", "kunming_domestic"]


@pytest.fixture(scope="module")
def design() -> g6.Scenario:
    return songjiang_only(g6.load_scenario("songjiang_design"))


@pytest.fixture(scope="module")
def study(design: g6.Scenario) -> TuneResult:
    return tune(
        design,
        SPACE,
        constraints=CONSTRAINTS,
        service_kpis=[TURNAROUND],
        n_trials=12,  # the 12 configurations of the space: grid search
        replications=2,
        days=20,
        seed=0,
        executor=2,
        progress=False,
        confirm_replications=4,
        confirm_max_replications=6,
    )


def _row(trials: pd.DataFrame, point: dict[str, Any]) -> pd.Series:
    match = np.logical_and.reduce([trials[k] == v for k, v in point.items()])
    rows = trials[match]
    assert len(rows) == 1, point
    return rows.iloc[0]


# -- (1) songjiang_design: front, constraints, the chosen configuration -------------------
def test_the_front_is_feasible_and_mutually_non_dominated(study: TuneResult) -> None:
    front, trials = study.pareto, study.trials
    assert len(trials) == 12 and not trials.duplicated(list(SPACE)).any()
    assert trials["feasible"].any() and not trials["feasible"].all()
    assert len(front) >= 1
    print("\n" + front.to_string(index=False))  # shown with pytest -s
    assert list(front.columns[:5]) == ["trial", *SPACE, "cost", "currency"]
    assert set(front["currency"]) == {"USD"} and front.attrs["currency"] == "USD"
    assert front.attrs["objectives"] == {"cost": "minimize", TURNAROUND: "minimize"}
    assert all(front[k].dtype.kind == "i" for k in SPACE)  # integer capacities stay integers
    assert front["cost"].is_monotonic_increasing
    for _, point in front.iterrows():
        row = _row(trials, {k: point[k] for k in SPACE})
        assert row["feasible"]
        for c in map(parse_constraint, CONSTRAINTS):
            assert c.violation(row[c.kpi]) <= 0
    values = front[["cost", TURNAROUND]].to_numpy(float)
    for a, b in itertools.permutations(range(len(front)), 2):
        assert not (np.all(values[a] <= values[b]) and np.any(values[a] < values[b]))
    # every feasible trial off the front is dominated by a point on it
    feasible = trials[trials["feasible"]]
    off = feasible[~feasible["trial"].isin(front["trial"])]
    for _, row in off.iterrows():
        assert any(
            p["cost"] <= row["cost"] and p[TURNAROUND] <= row[TURNAROUND]
            for _, p in front.iterrows()
        )


def test_the_chosen_configuration_is_feasible_and_the_next_cheaper_ones_are_not(
    study: TuneResult,
) -> None:
    chosen = study.chosen
    assert chosen == {"hub.reach_stackers": 3, "hub.gate_lanes": 3}
    assert all(type(v) is int for v in chosen.values())
    assert study.chosen_scenario is not None and study.chosen_scenario.hub.gate_lanes == 3
    trials = study.trials
    row = _row(trials, chosen)
    assert row["feasible"] and study.chosen_cost == row["cost"] == study.pareto["cost"].min()
    cons = [parse_constraint(c) for c in CONSTRAINTS]
    # confirmed on more replications than the trial had
    confirmed = study.confirmation[study.confirmation["chosen"]]
    assert len(confirmed) == 1 and confirmed["replications"].iloc[0] == 4
    assert all(c.violation(study.chosen_kpis[c.kpi]) <= 0 for c in cons)
    assert study.selection is None  # the only feasible configuration at its cost
    # one reach stacker or one gate lane fewer is cheaper and breaks a constraint
    neighbours = [{**chosen, k: chosen[k] - 1} for k in SPACE if chosen[k] - 1 >= SPACE[k][0]]
    assert len(neighbours) == 2
    for cheaper in neighbours:
        other = _row(trials, cheaper)
        assert other["cost"] < row["cost"]
        assert not other["feasible"], cheaper
        assert any(c.violation(other[c.kpi]) > 0 for c in cons), cheaper
    assert not trials.loc[trials["cost"] < row["cost"], "feasible"].any()
    assert study.trials.attrs["currency"] == study.currency == "USD"


def test_equally_cheap_candidates_are_told_apart_by_kn() -> None:
    """Free gate lanes: 3 and 4 lanes cost the same, and KN picks between them."""
    res = tune(
        songjiang_hub(),
        {"hub.gate_lanes": (3, 4)},
        constraints=[f"{TURNAROUND} <= 24"],
        service_kpis=[TURNAROUND],
        costs={"hub.gate_lanes": 0.0},
        n_trials=2,
        replications=2,
        days=10,
        seed=0,
        executor="serial",
        progress=False,
        indifference=0.05,
        confirm_replications=3,
        confirm_max_replications=5,
    )
    assert res.selection is not None and res.selection.kpi == TURNAROUND
    assert sorted(p["hub.gate_lanes"] for p in res.selection.points) == [3, 4]
    assert res.chosen == res.selection.best_overrides
    assert res.selection.indifference == 0.05
    first = res.confirmation[res.confirmation["round"] == 1]
    assert len(first) == 2 and first["picked"].sum() == 1 and first["chosen"].sum() == 1
    assert (first["replications"] >= 3).all() and set(first["currency"]) == {"USD"}
    assert len(res.pareto) >= 1  # equal cost: the front keeps the better mean (or both)


def test_service_settings_are_checked_before_any_trial() -> None:
    class Never(Serial):
        def run(self, tasks, fn=None):  # type: ignore[no-untyped-def]
            raise AssertionError("a trial ran")

    sc = songjiang_hub()
    kw: dict[str, Any] = dict(n_trials=1, replications=1, days=2, executor=Never(), progress=False)
    space = {"hub.gate_lanes": (3, 4)}
    with pytest.raises(ScenarioError, match="did you mean"):
        tune(sc, space, service_kpis=["hub.truck_turnaround_h_p96"], **kw)
    with pytest.raises(ScenarioError, match="objective='cost'"):
        tune(sc, space, objective=f"min:{TURNAROUND}", service_kpis=[TURNAROUND], **kw)
    with pytest.raises(ScenarioError, match="twice"):
        tune(sc, space, service_kpis=[TURNAROUND, f"min:{TURNAROUND}"], **kw)
    with pytest.raises(ValueError, match="indifference"):
        tune(sc, space, service_kpis=[TURNAROUND], indifference=-1.0, **kw)
    with pytest.raises(ValueError, match="0 or an integer >= 2"):
        tune(sc, space, service_kpis=[TURNAROUND], confirm_replications=1, **kw)
    assert ServiceKpi.parse("max:freight.teu_delivered") == ServiceKpi(
        "freight.teu_delivered", minimize=False
    )
    assert ServiceKpi.parse(TURNAROUND).direction == "minimize"
    with pytest.raises(ScenarioError, match="service"):
        ServiceKpi.parse("hub.dwell_h_p95 <= 3")


def test_a_space_larger_than_the_trials_is_searched_by_nsga2(tmp_path: Path) -> None:
    import optuna

    res = tune(
        songjiang_hub(),
        {"hub.gate_lanes": (1, 8)},  # 8 configurations, 3 trials: NSGA-II
        constraints=[f"{TURNAROUND} <= 100"],
        service_kpis=[TURNAROUND, "max:freight.teu_delivered"],
        n_trials=3,
        replications=1,
        days=2,
        executor="serial",
        progress=False,
        out=tmp_path,
        confirm_replications=0,  # no final step: the front's cheapest point
    )
    study = optuna.load_study(study_name=res.study_name, storage=res.storage)
    assert all("NSGAIISampler:generation" in t.system_attrs for t in study.trials)
    assert [d.name for d in study.directions] == ["MINIMIZE", "MINIMIZE", "MAXIMIZE"]
    assert len(res.trials) == 3 and res.trials["hub.gate_lanes"].dtype.kind == "i"
    assert res.pareto.attrs["objectives"]["freight.teu_delivered"] == "maximize"
    assert res.chosen == res.best_params and res.selection is None
    assert res.chosen is not None and res.chosen_cost == res.pareto["cost"].min()
    assert not len(res.confirmation)


# -- (2) the non-dominated filter on hand-made points -------------------------------------
def test_non_dominated_points_by_hand() -> None:
    # cost (USD), waiting (h):  A and E tie, B dominates C and D, G has no cost (worst)
    points = {
        "A": (1.0, 10.0),
        "B": (2.0, 5.0),
        "C": (2.0, 6.0),
        "D": (3.0, 5.0),
        "E": (1.0, 10.0),
        "F": (4.0, 1.0),
        "G": (np.nan, 0.0),
        "H": (5.0, 1.0),
    }
    values = np.array(list(points.values()))
    front = [k for k, on in zip(points, non_dominated(values, [True, True]), strict=True) if on]
    assert front == ["A", "B", "E", "F", "G"]
    assert list(dominated(values)) == [k not in front for k in points]
    # the same points with the second objective to maximise (throughput, not waiting)
    up = [k for k, on in zip(points, non_dominated(values, [True, False]), strict=True) if on]
    assert up == ["A", "E"]  # cheapest and best at once; G's NaN cost is the worst cost
    assert non_dominated(np.empty((0, 2)), [True, True]).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        non_dominated(values, [True])


def test_pareto_front_of_a_table_keeps_feasible_rows_cheapest_first() -> None:
    table = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3, 4, 5],
            "cost": [3.0, 1.0, 2.0, 0.5, 2.0, 1.0 + 1e-12],
            "wait": [1.0, 9.0, 4.0, 0.0, 5.0, 8.0],
            "feasible": [True, True, True, False, True, True],
        }
    )
    front = pareto_front(table, {"cost": True, "wait": True})
    assert list(front["trial"]) == [1, 5, 2, 0]  # 3 is infeasible, 4 is dominated by 2
    everyone = pareto_front(table, {"cost": True, "wait": True}, feasible=None)
    assert list(everyone["trial"]) == [3]
    assert list(cheapest_feasible(table)["trial"]) == [1, 5]  # equal to a relative 1e-9
    with pytest.raises(KeyError, match="nope"):
        pareto_front(table, {"nope": True})


# -- (3) the command line ------------------------------------------------------------------
def _design_delta(tmp_path: Path) -> str:
    """songjiang_design's Songjiang services: a scenario file on the packaged case."""
    gone = ", ".join(f'"services.{n}", "services.{n}_return"' for n in DESIGN_SERVICES)
    path = tmp_path / "songjiang_design_hub.toml"
    path.write_text(
        f'[meta]\nbase = "songjiang_design"\nname = "songjiang_design_hub"\nremove = [{gone}]\n'
    )
    return str(path)


def test_cli_tune_with_a_service_kpi_writes_the_pareto_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    # 10 days, one replication (seed 0): 2 stackers keep trucks 3.9 h (p95) at the hub,
    # 3 stackers 1.9 h; the chosen one is confirmed on 2 replications (1.9 and 1.5 h)
    cmd = shlex.split(
        f"tune {_design_delta(tmp_path)} --space hub.reach_stackers=2:3"
        f" --space hub.gate_lanes=3:3 --constraint '{TURNAROUND}<=2.5' --service {TURNAROUND}"
        " --replications 1 --days 10 --confirm-replications 2 --trials 4 --serial --quiet"
        f" --out {out}"
    )
    assert main(cmd) == 0
    printed = capsys.readouterr().out
    assert "Pareto front, life-cycle cost (USD)" in printed
    assert "chosen: {'hub.reach_stackers': 3, 'hub.gate_lanes': 3}" in printed
    assert "life-cycle cost 6,300,000 USD" in printed  # 3 stackers + 3 lanes of 1.05 M USD
    pareto = pd.read_csv(out / "pareto.csv")
    assert list(pareto.columns[:5]) == [
        "trial",
        "hub.reach_stackers",
        "hub.gate_lanes",
        "cost",
        "currency",
    ]
    assert list(pareto["hub.reach_stackers"]) == [3] and set(pareto["currency"]) == {"USD"}
    best = json.loads((out / "best.json").read_text())
    assert best["chosen"] == {"hub.reach_stackers": 3, "hub.gate_lanes": 3}
    assert best["service"] == [f"min:{TURNAROUND}"] and best["currency"] == "USD"
    assert best["confirmation"][0]["replications"] == 2
    assert (out / "trials.csv").exists() and (out / "best_scenario.json").exists()
    assert (out / "tuning.png").exists() and (out / "study.db").exists()


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--service", "hub.truck_turnaround_h_p96"], "--service 'hub.truck_turnaround_h_p96'"),
        (["--service", TURNAROUND, "--objective", "min:hub.dwell_h_p95"], "--service"),
        (["--indifference", "0"], "--indifference must be a number > 0"),
        (["--confidence", "0.4"], "--confidence must be in (0.5, 1)"),
        (["--confirm-replications", "1"], "0 (skip) or >= 2"),
    ],
)
def test_cli_service_errors_name_the_flag(
    flags: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["tune", _design_delta(tmp_path), "--space", "hub.gate_lanes=3:4", *flags]
    try:
        rc = main([*argv, "--days", "2", "--serial", "--quiet", "--out", str(tmp_path / "o")])
    except SystemExit as exc:  # argparse refuses a flag's value itself
        rc = int(exc.code or 0)
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "o" / "study.db").exists()
