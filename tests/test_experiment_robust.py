"""Sweeps and tuning as a careless user meets them (issue 13): list-valued keys, scripts
without a main guard or read from standard input, workers of a killed sweep, an
interrupted tuning study, disruption KPIs, and inputs checked before the first run.

Sweeps here are small: two points, two replications, a few days of a freight scenario.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import g60rail as g6
from g60rail.cli import main
from g60rail.cli.experiment import parse_grid, parse_point
from g60rail.experiment.executors import Serial
from g60rail.experiment.impact import disruption_cost
from g60rail.experiment.sweeps import sweep
from g60rail.experiment.tuning import tune

FREIGHT = "daily_2025"
DEPARTURES = "services.g60.departures"


@pytest.fixture(scope="module")
def freight() -> g6.Scenario:
    return g6.load_scenario(FREIGHT)


def one_message(err: str, *parts: str) -> None:
    text = err.strip()
    assert "Traceback" not in err, err
    assert text.startswith("g60rail: ") and "\n" not in text, err
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"


# -- item 1: list-valued keys -------------------------------------------------------------
def test_grid_and_point_values_may_be_lists() -> None:
    grid = parse_grid([f'{DEPARTURES}=["Tue 15:25", "Fri 15:25"],["daily 15:25"]'])
    assert grid == {DEPARTURES: [["Tue 15:25", "Fri 15:25"], ["daily 15:25"]]}
    point = parse_point(f'{DEPARTURES}=["daily 15:25"],hub.reach_stackers=3')
    assert point == {DEPARTURES: ["daily 15:25"], "hub.reach_stackers": 3}
    assert parse_grid(['meta.description="a, b",c']) == {"meta.description": ["a, b", "c"]}


def test_sweep_over_a_list_valued_key(freight: g6.Scenario, tmp_path: Path) -> None:
    """The summary is built (it crashed once every run had run); lists show as JSON."""
    res = sweep(
        freight,
        {DEPARTURES: [["Tue 15:25"], ["daily 15:25"]]},
        replications=2,
        days=3,
        executor="serial",
        out=tmp_path,
        progress=False,
        skip_overloaded=False,  # a weekly G60 cannot carry daily_2025's bookings
    )
    assert list(res.runs[DEPARTURES]) == ['["Tue 15:25"]'] * 2 + ['["daily 15:25"]'] * 2
    rows = res.summary[res.summary["kpi"] == "freight.g60.trains_departed"]
    assert list(rows[DEPARTURES]) == ['["Tue 15:25"]', '["daily 15:25"]']
    assert rows["mean"].iloc[0] < rows["mean"].iloc[1]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "summary.parquet"), res.summary)


def test_cli_sweep_with_a_list_valued_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "sweep",
        FREIGHT,
        "--point",
        f'{DEPARTURES}=["Tue 15:25"]',
        "--point",
        f'{DEPARTURES}=["daily 15:25"],hub.reach_stackers=3',
        "--replications",
        "2",
        "--days",
        "3",
        "--serial",
        "--quiet",
        "--plot-kpi",
        "freight.g60.trains_departed",
        "--out",
        str(tmp_path),
    ]
    assert main([*args, "--keep-overloaded"]) == 0, capsys.readouterr().err
    assert (tmp_path / "sweep_freight.g60.trains_departed.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 4
    # without the flag the weekly G60 (it cannot carry daily_2025's bookings) is left out
    assert main([*args, "--overwrite"]) == 0
    assert "point 0" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 2


# -- item 2: local processes from any script -------------------------------------------------
SCRIPT = textwrap.dedent(
    """
    import g60rail as g6
    sc = g6.load_scenario("daily_2025")
    res = g6.sweep(sc, {"hub.reach_stackers": [2, 3]}, replications=1, days=2,
                   executor=2, progress=False)
    print("points", len(res.points), "runs", len(res.runs))
    """
)


def test_sweep_on_processes_from_an_unguarded_script_and_from_stdin(tmp_path: Path) -> None:
    """No ``if __name__ == "__main__":`` guard, and ``python - <<EOF``: both run (the
    workers do not run the script again)."""
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT)
    runs = [
        subprocess.Popen(
            [sys.executable, str(script)],
            cwd=tmp_path,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
        subprocess.Popen(
            [sys.executable, "-"],
            cwd=tmp_path,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
    ]
    outputs = [runs[0].communicate(timeout=240), runs[1].communicate(SCRIPT, timeout=240)]
    for proc, (out, err) in zip(runs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert out.strip() == "points 2 runs 2", out
        assert "Traceback" not in err, err[-3000:]


# -- item 7: workers end with their parent ---------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_end_when_a_sweep_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of ``g60rail sweep --workers 2``: both workers end within seconds."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "g60rail.cli",
            "sweep",
            FREIGHT,
            "--grid",
            "hub.reach_stackers=2,3",
            "--replications",
            "2",
            "--days",
            "400",
            "--workers",
            "2",
            "--quiet",
            "--out",
            str(tmp_path / "out"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.2)
            workers = _children(proc.pid)
        assert len(workers) == 2, workers
        time.sleep(1.0)  # the workers are busy with their runs
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_alive, workers)), "workers outlived their parent"
    finally:
        for pid in [proc.pid, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)


# -- item 8: an interrupted study evaluates the interrupted point ---------------------------------
class InterruptOnce(Serial):
    """The serial executor; Ctrl-C (KeyboardInterrupt) during the ``n``-th trial's runs."""

    def __init__(self, n: int) -> None:
        self.n, self.calls, self.points = n, 0, []

    def run(self, tasks, fn=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        self.points.append(tasks[0].overrides)
        yield from (super().run(tasks) if fn is None else super().run(tasks, fn))


TUNE: dict[str, Any] = dict(
    constraints=["hub.reach_stacker_utilization <= 0.5"],
    costs={"hub.reach_stackers": 1.0},
    replications=1,
    days=2,
    progress=False,
)


def test_an_interrupted_study_evaluates_the_interrupted_point(
    freight: g6.Scenario, tmp_path: Path
) -> None:
    space = {"hub.reach_stackers": (1, 3)}  # three points, grid search
    with pytest.raises(KeyboardInterrupt):
        tune(freight, space, n_trials=3, executor=InterruptOnce(2), out=tmp_path, **TUNE)
    again = InterruptOnce(0)
    res = tune(freight, space, n_trials=3, executor=again, out=tmp_path, **TUNE)
    assert sorted(res.trials["hub.reach_stackers"]) == [1, 2, 3]
    assert len(again.points) == 2  # the interrupted point and the one never started


def test_a_trial_left_running_by_a_killed_process_is_run_again(
    freight: g6.Scenario, tmp_path: Path
) -> None:
    import optuna

    space = {"hub.reach_stackers": (1, 8)}  # more points than trials: TPE
    first = tune(freight, space, n_trials=1, executor="serial", out=tmp_path, **TUNE)
    study = optuna.load_study(study_name=first.study_name, storage=first.storage)
    trial = study.ask()  # as if a process died while it ran this trial
    left = trial.suggest_int("hub.reach_stackers", 1, 8)
    res = tune(freight, space, n_trials=2, executor="serial", out=tmp_path, **TUNE)
    assert len(res.trials) == 2 and left in set(res.trials["hub.reach_stackers"])
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert optuna.trial.TrialState.RUNNING not in states


def test_tune_checks_its_seed_and_kpis_before_any_trial(freight: g6.Scenario) -> None:
    from g60rail.errors import ScenarioError

    class Never(Serial):
        def run(self, tasks, fn=None):  # type: ignore[no-untyped-def]
            raise AssertionError("a trial ran")

    space = {"hub.reach_stackers": (1, 2)}
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 4294967295\]"):
        tune(freight, space, n_trials=1, executor=Never(), seed=2**32, **TUNE)
    kw = {**TUNE, "constraints": ["hub.dwell_h_p96 <= 3"]}
    with pytest.raises(ScenarioError, match="did you mean"):
        tune(freight, space, n_trials=1, executor=Never(), **kw)
    with pytest.raises(ScenarioError, match="no KPI of that name"):
        tune(freight, space, n_trials=1, executor=Never(), objective="min:hub.nope", **TUNE)


# -- item 9: what disruptions strand ------------------------------------------------------------
def _with_closure(sc: g6.Scenario, start: str, end: str) -> g6.Scenario:
    closure = {"kind": "line", "where": ["boten", "vientiane"], "start": start, "end": end}
    return sc.with_overrides({"disruptions.closures": [closure]})


def test_stranded_teu_come_from_the_counterfactual(freight: g6.Scenario) -> None:
    """Nothing is stranded by a closure long over: the stranded TEU are the extra TEU
    inside against the same run without it, not everything still inside."""
    hit = _with_closure(freight, "2025-01-07T00:00:00", "2025-01-08T00:00:00")
    res = g6.simulate(hit, days=20, seed=1)
    assert "disruption.stranded_teu_end" not in res.kpis
    assert res.kpis["freight.teu_in_system_end"] > 50  # boxes in transit, not stranded
    cost = disruption_cost(hit, 20, 1, result=res, warmup_days=0.0)
    calm = g6.simulate(freight, days=20, seed=1).kpis["freight.teu_in_system_end"]
    assert cost["disruption.stranded_teu"] == res.kpis["freight.teu_in_system_end"] - calm
    assert abs(cost["disruption.stranded_teu"]) < 0.5 * res.kpis["freight.teu_in_system_end"]


def test_a_closure_outside_the_run_is_reported(freight: g6.Scenario) -> None:
    late = _with_closure(freight, "2026-07-10T00:00:00", "2026-07-14T00:00:00")
    with pytest.warns(UserWarning, match=r"disruptions\.closures\.0 .* outside the run"):
        disruption_cost(late, 3, 0)
    inside = _with_closure(freight, "2025-01-07T00:00:00", "2025-01-08T00:00:00")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        disruption_cost(inside, 3, 0)
    assert not [w for w in seen if "outside the run" in str(w.message)]


# -- item 10: inputs checked before the first run; errors blamed on the right thing -------------
def test_a_misspelt_plot_kpi_is_refused_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import g60rail.experiment.sweeps as replications

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the sweep ran")

    monkeypatch.setattr(replications, "sweep", never)
    rc = main(
        [
            "sweep",
            FREIGHT,
            "--grid",
            "hub.reach_stackers=2,3",
            "--replications",
            "2",
            "--days",
            "3",
            "--serial",
            "--quiet",
            "--plot-kpi",
            "hub.dwel_h_mean",
            "--out",
            str(tmp_path),
        ]
    )
    one_message(capsys.readouterr().err, "--plot-kpi 'hub.dwel_h_mean'", "did you mean")
    assert rc == 2
    assert not (tmp_path / "runs.jsonl").exists()


@pytest.mark.parametrize(
    ("flag", "value", "expect"),
    [
        ("--constraint", "hub.dwell_h_p96<=3", "--constraint 'hub.dwell_h_p96 <= 3'"),
        ("--constraint", "dwell is short", "--constraint 'dwell is short'"),
        ("--objective", "min:hub.nope", "--objective 'min:hub.nope'"),
        ("--objective", "fast", "--objective 'fast'"),
    ],
)
def test_tune_setting_errors_name_the_flag_not_the_scenario(
    flag: str, value: str, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "tune",
            FREIGHT,
            "--space",
            "hub.reach_stackers=1:2",
            flag,
            value,
            "--trials",
            "1",
            "--days",
            "2",
            "--serial",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    one_message(err, expect)
    assert f"{FREIGHT}:" not in err  # not blamed on the scenario file
    assert rc == 2
    assert not (tmp_path / "study.db").exists()


def test_tune_costs_carry_their_currency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "tune",
            FREIGHT,
            "--space",
            "hub.reach_stackers=2:3",
            "--constraint",
            "hub.reach_stacker_utilization<=0.9",
            "--trials",
            "2",
            "--replications",
            "1",
            "--days",
            "2",
            "--serial",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "life-cycle cost" in out and "USD" in out
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["currency"] == "USD" and best["objective_unit"] == "USD"
    # the same study again resumes; other settings in the same folder are refused
    assert (
        main(
            [
                "tune",
                FREIGHT,
                "--space",
                "hub.reach_stackers=2:3",
                "--constraint",
                "hub.reach_stacker_utilization<=0.9",
                "--trials",
                "2",
                "--replications",
                "1",
                "--days",
                "2",
                "--serial",
                "--quiet",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    capsys.readouterr()
    rc = main(
        [
            "tune",
            FREIGHT,
            "--space",
            "hub.reach_stackers=1:3",
            "--trials",
            "1",
            "--days",
            "2",
            "--serial",
            "--quiet",
            "--out",
            str(tmp_path),
        ]
    )
    one_message(capsys.readouterr().err, str(tmp_path), "with other settings (space")
    assert rc == 2


def test_tune_seed_beyond_32_bits_is_a_flag_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "tune",
                FREIGHT,
                "--space",
                "hub.reach_stackers=1:2",
                "--seed",
                "4294967296",
                "--out",
                str(tmp_path),
            ]
        )
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--seed must be an integer in [0, 4294967295]" in err and "Traceback" not in err
