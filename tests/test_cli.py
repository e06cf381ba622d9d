"""The g60rail command: outputs of a run, reproducible kpis.json, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from g60rail.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "g60rail.cli", *args], capture_output=True, text=True, check=False
    )


def test_run_writes_kpis_tables_and_plots(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["run", "--days", "20", "--seed", "3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "hub.dwell_h_mean" in printed and "freight.teu_created" in printed
    assert "warning" not in captured.err  # a steady run: no backlog flag
    for name in (
        "kpis.json",
        "manifest.json",
        "containers.csv",
        "trains.csv",
        "timeseries.csv",
        "border.csv",
        "teu_per_day.png",
        "yard_gate.png",
    ):
        assert (out / name).stat().st_size > 0, name
    kpis = json.loads((out / "kpis.json").read_text())
    assert (
        kpis["freight.teu_created"]
        == kpis["freight.teu_delivered"] + kpis["freight.teu_in_system_end"]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["days"] == 20 and manifest["scenario"] == "baseline"
    assert (out / "teu_per_day.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_flags_a_growing_backlog_and_names_the_pools_short_of_sets(
    tmp_path: Path, capsys
) -> None:
    # peak_season books more than the baseline's train sets can carry (tests/test_examples.py)
    assert main(["run", "peak_season", "--days", "28", "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr()
    kpis = json.loads((tmp_path / "o" / "kpis.json").read_text())
    assert kpis["freight.backlog_growing"] == 1
    assert "freight.backlog_growing" in printed.out
    warning = [line for line in printed.err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "freight.backlog_growing: 1" in warning[0]
    short = [k.split(".")[1] for k, v in kpis.items() if k.endswith(".set_wait_h_mean") and v > 6.0]
    assert short and all(pool in warning[0] for pool in short)
    assert f"{kpis['freight.teu_in_system_end']:,.0f} inside" in warning[0]


def test_kpis_json_identical_across_runs(tmp_path: Path) -> None:
    # two runs in one process: nothing of the first leaks into the second (the round trip
    # through a manifest in test_cli_robust checks two processes)
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["run", "baseline", "--days", "8", "--seed", "11", "--out", str(out)]) == 0
    assert (a / "kpis.json").read_bytes() == (b / "kpis.json").read_bytes()


def test_set_overrides_a_field(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert main(["run", "--days", "2", "--set", "hub.reach_stackers=1", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    from g60rail import load_scenario

    assert (
        manifest["scenario_hash"]
        == load_scenario("baseline", overrides={"hub.reach_stackers": 1}).hash
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[meta\nname = 'x'", "invalid TOML"),
        (None, "hub.reach_stackers"),  # negative capacity, see below
    ],
)
def test_validate_reports_bad_files(tmp_path: Path, content, expected) -> None:
    f = tmp_path / "bad.toml"
    if content is None:
        text = (Path(__file__).parents[1] / "src/g60rail/scenario/data/baseline.toml").read_text()
        content = text.replace("reach_stackers = 4 ", "reach_stackers = -4 ")
        assert content != text
    f.write_text(content)
    proc = run_cli("validate", str(f))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(f) in proc.stderr and expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1  # one paragraph


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--set", "hub.reach_stakers=3"], "hub.reach_stakers"),
        (["run", "--set", "hub.reach_stackers=0"], "hub.reach_stackers"),
        (["run", "--set", "legs.0.to=kunmingg"], "kunmingg"),
        (["run", "no_such_scenario"], "no packaged scenario"),
        (["run", "/nonexistent/dir/x.toml"], "file not found"),
    ],
)
def test_bad_input_exits_2_with_one_message(args, expected, tmp_path: Path) -> None:
    proc = run_cli(*args, "--out", str(tmp_path / "o"), "--days", "1")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert expected in proc.stderr


def test_unwritable_output_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli("run", "--days", "1", "--out", str(blocker / "sub"))
    assert proc.returncode == 2
    assert "cannot be written" in proc.stderr and "Traceback" not in proc.stderr


def test_scenarios_lists_baseline() -> None:
    proc = run_cli("scenarios")
    assert proc.returncode == 0
    assert proc.stdout.startswith("baseline") or "\nbaseline" in proc.stdout


def test_validate_calibration_prints_the_target_table(capsys) -> None:
    assert main(["validate", "baseline", "--calibration", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "Mohan rail clearance" in out
    assert "G60 train size" in out
    assert "targets met" in out
