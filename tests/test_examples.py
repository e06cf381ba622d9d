"""Example scenarios validate and answer their question; example scripts run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import g60rail as g6
from g60rail.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TOMLS = sorted(EXAMPLES.glob("*.toml"))
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
EXPECTED = {
    "launch_2023",
    "daily_2025",
    "peak_season",
    "hub_expansion",
    "border_before_fastpass",
    "border_fastpass",
    "rail_vs_road",
}
DAYS = 28


def test_the_gallery_is_complete() -> None:
    assert {p.stem for p in TOMLS} >= EXPECTED
    assert {p.stem for p in SCRIPTS} >= {"compare_reach_stackers", "rail_vs_road"}


@pytest.mark.parametrize("path", TOMLS, ids=lambda p: p.stem)
def test_example_validates_and_says_what_it_asks(path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["validate", str(path)]) == 0
    assert "valid scenario" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# examples/{path.name}")
    assert "Question:" in text.split("[meta]")[0]
    assert g6.load_scenario(path).meta.name == path.stem
    # every edited value cites corridor-facts (F/D/E) or says it is an estimate
    for line in text.splitlines():
        if "CHANGED" in line and not line.startswith("#"):
            assert re.search(r"estimate|\bF\b|\bD\b|\bE\b", line), line


@pytest.fixture(scope="module")
def kpis() -> dict[str, dict[str, float]]:
    return {p.stem: g6.simulate(g6.load_scenario(p), days=DAYS, seed=1).kpis for p in TOMLS}


def test_launch_2023_runs_a_weekly_g60_of_about_39_teu(kpis: dict) -> None:
    k = kpis["launch_2023"]
    assert k["freight.g60.trains_departed"] == 4  # one a week
    assert 25 <= k["freight.g60.train_fill_teu_mean"] <= 50


def test_daily_2025_runs_the_g60_every_day(kpis: dict) -> None:
    assert kpis["daily_2025"]["freight.g60.trains_departed"] == DAYS
    assert kpis["daily_2025"]["freight.g60.train_fill_teu_mean"] >= 30


def test_the_fast_pass_takes_mohan_from_over_40_h_to_under_5_h(kpis: dict) -> None:
    before = kpis["border_before_fastpass"]
    after = kpis["border_fastpass"]
    assert before["border.mohan.clearance_h_mean"] > 38
    assert after["border.mohan.clearance_h_mean"] < 5
    assert (
        before["transit.kunming_vientiane.h_mean"] > after["transit.kunming_vientiane.h_mean"] + 30
    )


def test_peak_season_books_more_and_fills_the_trains(kpis: dict) -> None:
    base = g6.simulate(g6.load_scenario(EXAMPLES / "border_fastpass.toml"), days=DAYS, seed=1)
    assert kpis["peak_season"]["freight.teu_created"] > 1.2 * base.kpis["freight.teu_created"]
    assert kpis["peak_season"]["hub.dwell_h_mean"] > base.kpis["hub.dwell_h_mean"]


def test_hub_expansion_has_the_bigger_hub(kpis: dict) -> None:
    sc = g6.load_scenario(EXAMPLES / "hub_expansion.toml")
    assert (sc.hub.reach_stackers, sc.hub.loading_tracks) == (6, 6)
    assert (
        kpis["hub_expansion"]["freight.trains_departed"]
        > kpis["border_fastpass"]["freight.trains_departed"]
    )


def test_rail_vs_road_sends_trucks(kpis: dict) -> None:
    k = kpis["rail_vs_road"]
    assert k["road.songjiang_vientiane.n"] > 20
    assert k["door.songjiang_vientiane.n"] > 20


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_script_runs(script: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script), "--days", "10", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 5_000
    assert f"wrote {pngs[0]}" in proc.stdout
