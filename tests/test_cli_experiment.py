"""``g60rail sweep`` and ``g60rail tune`` from the command line."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from g60rail.cli import main
from g60rail.scenario.io import load_scenario, scenario_from_dict
from tests.conftest import NOT_SONGJIANG, songjiang_hub_delta

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "g60rail.cli", *args]


def _runs(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "runs.csv")


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def hub_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The baseline's Songjiang services alone, as a scenario file (runs 7 times faster)."""
    path = tmp_path_factory.mktemp("scenario") / "songjiang_hub.toml"
    path.write_text(songjiang_hub_delta())
    return str(path)


def acceptance(hub_file: str) -> list[str]:
    return shlex.split(
        f"sweep {hub_file} --grid hub.reach_stackers=2,4 --replications 3 --days 30 --quiet"
    )


def test_sweep_on_processes_and_dask_gives_identical_numbers(tmp_path: Path, hub_file: str) -> None:
    cmd = acceptance(hub_file)
    procs, dask, serial = tmp_path / "procs", tmp_path / "dask", tmp_path / "serial"
    done = subprocess.run(
        _cli(*cmd, "--workers", "2", "--out", str(procs)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "hub.dwell_h_mean" in done.stdout
    assert main([*cmd, "--dask", "--workers", "2", "--out", str(dask)]) == 0
    assert main([*cmd, "--serial", "--out", str(serial)]) == 0

    runs = _runs(procs)
    assert len(runs) == 2 * 3  # one row per point and replication
    assert not runs.duplicated(["point", "replication"]).any()
    assert list(runs["hub.reach_stackers"]) == [2, 2, 2, 4, 4, 4]
    assert runs["hub.dwell_h_mean"].notna().all()
    pd.testing.assert_frame_equal(_runs(dask), runs, check_exact=True)
    pd.testing.assert_frame_equal(_runs(serial), runs, check_exact=True)
    for folder in (procs, dask):
        assert _is_png(folder / "sweep_hub.dwell_h_mean.png")
        summary = pd.read_csv(folder / "summary.csv")
        assert set(summary["point"]) == {0, 1}
        assert {"mean", "ci_low", "ci_high", "half_width"} <= set(summary.columns)
        assert (folder / "runs.parquet").exists()


def killable(hub_file: str) -> list[str]:
    return shlex.split(
        f"sweep {hub_file} --grid hub.reach_stackers=2,3,4 --replications 4 --days 30"
        " --serial --quiet"
    )


def test_killed_sweep_resumes_without_losing_or_repeating_runs(
    tmp_path: Path, hub_file: str
) -> None:
    cmd = killable(hub_file)
    out, ref = tmp_path / "killed", tmp_path / "reference"
    jsonl = out / "runs.jsonl"
    proc = subprocess.Popen(
        _cli(*cmd, "--out", str(out)),
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if jsonl.exists() and len(jsonl.read_bytes().splitlines()) >= 3:
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    finished = len(jsonl.read_bytes().splitlines())
    assert 3 <= finished < 12, "the sweep should have been killed half-way"
    assert not (out / "runs.csv").exists()
    with open(jsonl, "a") as fh:  # as if the kill had torn the last record
        fh.write('{"key": "0a1b2c", "kpis": {"hub.dwe')

    assert main([*cmd, "--out", str(out)]) == 0
    runs = _runs(out)
    assert len(runs) == 3 * 4
    assert not runs.duplicated(["point", "replication"]).any()
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 12
    assert len({r["key"] for r in records}) == 12  # nothing ran twice

    assert main([*cmd, "--out", str(ref)]) == 0
    pd.testing.assert_frame_equal(runs, _runs(ref), check_exact=True)


def test_sweep_warns_of_a_point_whose_backlog_keeps_growing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two stackers serving first come first served at the design load: every offered
    load is below 1, so the point runs, and the trains leave boxes behind (in the first
    replication of seed 0, as in the tuning test of ``tests/test_experiment.py``)."""
    sc = load_scenario("songjiang_design")
    gone = [f'"services.{n}"' for n in sc.services if n.startswith(NOT_SONGJIANG)]
    path = tmp_path / "design_fcfs.toml"
    path.write_text(
        f'[meta]\nbase = "songjiang_design"\nname = "design_fcfs"\nremove = [{", ".join(gone)}]\n'
        '[hub]\nstacker_priority = "fcfs"\nreach_stackers = 2\n'
    )
    cmd = (
        f"sweep {path} --point hub.reach_stackers=2 --replications 1 --days 120"
        f" --warmup-days 7 --serial --quiet --out {tmp_path / 'out'}"
    )
    assert main(shlex.split(cmd)) == 0
    err = capsys.readouterr().err
    assert (
        "warning: point 0 {'hub.reach_stackers': 2}: freight.backlog_growing in 100% of its"
        " replications" in err
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--grid", "hub.reach_stakers=1,2"], "hub.reach_stakers"),
        (["--grid", "hub.reach_stackers=0,2"], "hub.reach_stackers"),
        (["--grid", "hub.reach_stackers"], "--grid"),
        (["--grid", "hub.reach_stackers=1,,2"], "empty value"),
        (["--grid", "hub.reach_stackers=1", "--grid", "hub.reach_stackers=2"], "twice"),
        (["--point", "hub.loading_tracks"], "--point"),
        ([], "--grid"),
        (["--grid", "hub.reach_stackers=2", "--days", "5", "--warmup-days", "5"], "--warmup"),
    ],
)
def test_sweep_user_errors_exit_2(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["sweep", "baseline", *args, "--serial", "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "runs.jsonl").exists() or not (tmp_path / "runs.jsonl").read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["--replications", "0"],
        ["--days", "-1"],
        ["--serial", "--dask"],
        ["--workers", "two"],
    ],
)
def test_sweep_bad_flags_are_argparse_errors(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "baseline", "--grid", "hub.reach_stackers=2", *args, "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert args[0] in capsys.readouterr().err


def test_sweep_unknown_plot_kpi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "sweep",
            "baseline",
            "--point",
            "hub.reach_stackers=2",
            "--replications",
            "1",
            "--days",
            "2",
            "--serial",
            "--quiet",
            "--plot-kpi",
            "hub.nope",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 2
    assert "hub.nope" in capsys.readouterr().err


def test_tune_writes_trials_best_and_a_chart(
    tmp_path: Path, hub_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cmd = shlex.split(
        f"tune {hub_file} --space hub.reach_stackers=1:3"
        " --constraint hub.reach_stacker_utilization<=0.1"
        " --replications 2 --days 20 --serial --quiet"
    )
    assert (
        main([*cmd, "--trials", "6", "--cost", "hub.reach_stackers=500000", "--out", str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "cheapest feasible" in out
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["best_params"] == {"hub.reach_stackers": 2}
    assert best["objective"] == 1_000_000
    assert best["kpis"]["hub.reach_stacker_utilization"] <= 0.1
    assert best["constraints"] == [
        "hub.reach_stacker_utilization <= 0.1",
        "freight.backlog_growing <= 0",  # added: a configuration needs a steady state
    ]
    assert "freight.backlog_growing <= 0: 0.000" in out
    sc = scenario_from_dict(json.loads((tmp_path / "best_scenario.json").read_text()))
    assert sc.hub.reach_stackers == 2
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert sorted(trials["hub.reach_stackers"]) == [1, 2, 3]  # 3 options, each tried once
    one = trials[trials["hub.reach_stackers"] == 1]
    assert not one["feasible"].any()  # the cheaper option breaks the constraint
    assert _is_png(tmp_path / "tuning.png")
    assert (tmp_path / "study.db").exists()
    # the stored study resumes: every option is done, so nothing runs again
    assert (
        main([*cmd, "--trials", "8", "--cost", "hub.reach_stackers=500000", "--out", str(tmp_path)])
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "trials.csv"), trials)


def test_tune_allows_a_growing_backlog_only_when_told(
    tmp_path: Path, hub_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "transient"
    cmd = (
        f"tune {hub_file} --space hub.reach_stackers=2:3 --constraint hub.gate_wait_h_mean<=1"
        f" --allow-growing-backlog --replications 1 --days 10 --serial --quiet --out {out}"
    )
    assert main([*shlex.split(cmd), "--trials", "2"]) == 0
    best = json.loads((out / "best.json").read_text())
    assert best["constraints"] == ["hub.gate_wait_h_mean <= 1"]
    assert json.loads((out / "tune.json").read_text())["steady_state"] is False
    assert "freight.backlog_growing" not in capsys.readouterr().out


def test_tune_without_a_feasible_trial_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "tune",
            "baseline",
            "--space",
            "hub.reach_stackers=1:1",
            "--constraint",
            "hub.reach_stacker_utilization<=0.001",
            "--trials",
            "1",
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
    assert rc == 1
    assert "no trial met every constraint" in capsys.readouterr().out
    assert (tmp_path / "trials.csv").exists()
    assert not (tmp_path / "best_scenario.json").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--space", "hub.reach_stackers=1-3"], "LOW:HIGH"),
        (["--space", "hub.reach_stackers=3:1"], "LOW <= HIGH"),
        (["--space", "hub.reach_stackers=a:b"], "numbers"),
        (["--space", "hub.moves_per_h=10.0:30.0"], "--cost hub.moves_per_h"),
        (
            ["--space", "hub.reach_stakers=1:3", "--cost", "hub.reach_stakers=1"],
            "hub.reach_stakers",
        ),
        (["--space", "hub.reach_stackers=1:3", "--cost", "hub.reach_stackers=cheap"], "--cost"),
        (["--space", "hub.reach_stackers=1:3", "--constraint", "dwell is short"], "constraint"),
        (["--space", "hub.reach_stackers=1:3", "--objective", "fast"], "objective"),
        (
            ["--space", "hub.reach_stackers=1:1", "--constraint", "hub.dwell_h_p96<=3"],
            "did you mean hub.dwell_h_p95",
        ),
        ([], "--space"),
    ],
)
def test_tune_user_errors_exit_2(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "tune",
            "baseline",
            *args,
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
    assert rc == 2
    assert needle in err and "Traceback" not in err
