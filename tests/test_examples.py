"""Packaged scenarios: each resolves, validates and answers its question; the ones built on
the baseline stay short deltas (no copies); the example scripts run."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import g60rail as g6
from g60rail.cli import main as cli_main
from g60rail.errors import ScenarioError
from g60rail.scenario.io import packaged_scenarios
from tests.scenario.test_scenario import cited

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = Path(g6.__file__).parent / "scenario" / "data"
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
NAMES = sorted(packaged_scenarios())
DELTAS = [n for n in NAMES if n != "baseline"]
MAX_DELTA_LINES = 60
MAX_TOML_LINES = 2_000
DAYS = 28


def raw(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / f"{name}.toml").read_text(encoding="utf-8"))


def test_the_gallery_is_complete() -> None:
    assert set(NAMES) >= EXPECTED | {"baseline"}
    assert {p.stem for p in SCRIPTS} >= {"compare_reach_stackers", "rail_vs_road"}
    assert not list(EXAMPLES.glob("*.toml")), "examples are packaged deltas, not copies"


@pytest.mark.parametrize("name", NAMES)
def test_packaged_scenario_resolves_and_validates(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["validate", name]) == 0
    assert "valid scenario" in capsys.readouterr().out
    sc = g6.load_scenario(name)
    assert sc.meta.name == name
    assert sc.base_chain[0] == f"{name} (packaged)"
    assert packaged_scenarios()[name] == raw(name)["meta"]["description"]


@pytest.mark.parametrize("name", DELTAS)
def test_delta_is_short_and_says_what_it_asks(name: str) -> None:
    text = (DATA / f"{name}.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= MAX_DELTA_LINES, f"{name}.toml has {len(lines)} lines"
    opening = []
    for line in lines:
        if not line.startswith("#"):
            break
        opening.append(line)
    assert "Question:" in "\n".join(opening), "the opening comment states its question"
    assert isinstance(raw(name)["meta"].get("base"), str), "a delta names its base"
    # every number the delta sets cites corridor-facts (F/D/E) or says it is an estimate
    uncited = []
    for i, line in enumerate(lines):
        code = line.split("#", 1)[0]
        key, _, value = code.partition("=")
        if key.strip() in {"name", "description"}:
            continue
        if value and any(ch.isdigit() for ch in value) and not cited(lines, i):
            uncited.append(line)
    assert uncited == []


def leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted leaf -> value; tables are walked, arrays are leaves (they replace whole)."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(leaves(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: data}


@pytest.mark.parametrize("name", DELTAS)
def test_delta_holds_only_differences(name: str) -> None:
    """A value the delta sets that its base already has (defaults included) is a copy: it
    would pin the base's value and let the two drift apart."""
    delta = raw(name)
    meta = dict(delta["meta"])
    base = g6.load_scenario(meta.pop("base"))
    meta.pop("remove", None)
    repeats = []
    for key, value in leaves({**delta, "meta": meta}).items():
        try:
            same = base.with_overrides({key: value}).hash == base.hash
        except ScenarioError:  # a key the base does not have, or a value it rejects
            same = False
        if same:
            repeats.append(f"{key} = {value!r}")
    assert repeats == [], f"{name}.toml repeats its base: {repeats}"


def test_all_scenario_files_together_stay_small() -> None:
    files = sorted((ROOT / "src").rglob("*.toml")) + sorted(EXAMPLES.rglob("*.toml"))
    total = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
    assert DATA / "baseline.toml" in files
    assert total < MAX_TOML_LINES, f"{total} lines of TOML in {len(files)} files"


@pytest.fixture(scope="module")
def kpis() -> dict[str, dict[str, float]]:
    return {
        n: g6.simulate(g6.load_scenario(n), days=DAYS, seed=1, record_containers=False).kpis
        for n in EXPECTED
    }


# the questions that overload the corridor on purpose: more bookings than trains
# (peak_season), today's traffic through the opening's customs (border_before_fastpass)
OVERLOADS = {"peak_season", "border_before_fastpass"}


@pytest.mark.parametrize("name", sorted(EXPECTED - OVERLOADS))
def test_scenario_has_the_train_sets_its_timetable_needs(name: str, kpis: dict) -> None:
    """A timetable its train-set pools cannot run makes every departure wait longer than
    the one before: the question would be answered by the rolling stock, not by what it
    asks.  A pool that keeps up makes a departure wait, on average, less than a set's
    turnaround at the end of its line (6 h in the baseline)."""
    k = kpis[name]
    waits = {x: v for x, v in k.items() if x.endswith(".set_wait_h_mean")}
    assert waits, "the baseline's pooled services report their sets' waits"
    assert {x: v for x, v in waits.items() if not v < 6.0} == {}
    assert k["freight.backlog_growing"] == 0


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
    # before the fast-pass the border jams: transit is far longer, or no box gets through
    slow = before.get("transit.kunming_vientiane.h_mean", float("inf"))
    assert slow > after["transit.kunming_vientiane.h_mean"] + 30
    # today's traffic cannot pass it: the trains' sets are held at the border
    assert before["freight.backlog_growing"] == 1 and after["freight.backlog_growing"] == 0
    assert before["freight.cross_border.set_wait_h_mean"] > 24.0


def test_peak_season_books_more_and_fills_the_trains(kpis: dict) -> None:
    base = kpis["border_fastpass"]  # the baseline's corridor, freight only
    assert kpis["peak_season"]["freight.teu_created"] > 1.2 * base["freight.teu_created"]
    assert kpis["peak_season"]["hub.dwell_h_mean"] > base["hub.dwell_h_mean"]


def test_peak_season_queues_first_for_train_sets_in_kunming(kpis: dict) -> None:
    """The answer the scenario's text gives: boxes pile up in the Kunming centre's yard
    because its trains wait for train sets, while stackers, gate and Mohan keep up."""
    peak, base = kpis["peak_season"], kpis["border_fastpass"]
    assert peak["hub.kunming.dwell_to_train_h_mean"] > 3 * base["hub.kunming.dwell_to_train_h_mean"]
    assert peak["freight.kunming_domestic.set_wait_h_mean"] > 10.0
    assert peak["freight.backlog_growing"] == 1
    assert peak["hub.kunming.reach_stacker_utilization"] < 0.6
    assert peak["hub.kunming.gate_utilization"] < 0.8
    assert abs(peak["border.mohan.clearance_h_mean"] - base["border.mohan.clearance_h_mean"]) < 0.5


def test_hub_expansion_has_the_bigger_hub(kpis: dict) -> None:
    sc = g6.load_scenario("hub_expansion")
    assert (sc.hub.reach_stackers, sc.hub.loading_tracks) == (6, 6)
    assert (
        kpis["hub_expansion"]["freight.trains_departed"]
        > kpis["border_fastpass"]["freight.trains_departed"]
    )


def test_rail_vs_road_sends_trucks(kpis: dict) -> None:
    k = kpis["rail_vs_road"]
    assert k["road.songjiang_vientiane.n"] > 20
    assert k["door.songjiang_vientiane.n"] > 20
    # the same boxes by road emit more and cost more than by rail (GLEC-style factors:
    # road's g CO2e per tonne-km is several times rail's, over a longer road distance)
    for what in ("co2e_kg_per_teu", "cost_per_teu"):
        rail = k[f"footprint.rail.songjiang_vientiane.{what}"]
        road = k[f"footprint.road.songjiang_vientiane.{what}"]
        assert road > 2 * rail > 0, what


# one replication per fleet size: the script's loop, at half its runs
SCRIPT_ARGS = {"compare_reach_stackers": ["--seeds", "1"]}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_script_runs(script: Path, tmp_path: Path) -> None:
    extra = SCRIPT_ARGS.get(script.stem, [])
    proc = subprocess.run(
        [sys.executable, str(script), "--days", "10", "--out", str(tmp_path), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 5_000
    assert f"wrote {pngs[0]}" in proc.stdout
