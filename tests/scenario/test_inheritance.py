"""Scenarios that build on others: ``[meta] base``, the merge rules, ``[meta] remove``,
chains of bases and their errors, the base chain of a run, ``g60rail show`` and
``g60rail keys``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import g60rail as g6
from g60rail.cli import main
from g60rail.cli.scenarios import overridable_keys
from g60rail.errors import ScenarioError
from g60rail.scenario.io import packaged_scenarios, scenario_from_dict

BASE = g6.load_scenario("baseline")
PACKAGED = sorted(packaged_scenarios())


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def delta(tmp_path: Path, body: str, name: str = "d.toml", base: str = "baseline") -> Path:
    return write(tmp_path / name, f'[meta]\nbase = "{base}"\nname = "{Path(name).stem}"\n{body}')


def load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        g6.load_scenario(path)
    return err.value


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "g60rail.cli", *args], capture_output=True, text=True, check=False
    )


# -- the three rules -----------------------------------------------------------------------
def test_tables_merge_key_by_key(tmp_path: Path) -> None:
    path = delta(tmp_path, "[hub]\nreach_stackers = 7\ndwell_h = { mean = 80.0 }\n")
    sc = g6.load_scenario(path)
    assert sc.hub.reach_stackers == 7
    assert sc.hub.dwell_h.mean == 80.0  # type: ignore[union-attr]
    # everything else of [hub], and of the distribution, is the base's
    assert sc.hub.dwell_h.cv == BASE.hub.dwell_h.cv  # type: ignore[union-attr]
    assert sc.hub.model_dump(exclude={"reach_stackers", "dwell_h"}) == BASE.hub.model_dump(
        exclude={"reach_stackers", "dwell_h"}
    )
    assert sc.services == BASE.services and sc.legs == BASE.legs
    assert sc.meta.name == "d" and sc.meta.start == BASE.meta.start


def test_arrays_replace_the_inherited_array_whole(tmp_path: Path) -> None:
    assert BASE.station is not None and len(BASE.station.peak_periods) > 1
    assert len(BASE.services["g60"].departures) > 1
    body = (
        '[services.g60]\ndepartures = ["Mon 08:00"]\n'
        '[[station.peak_periods]]\nname = "only"\nfirst_day = 2025-03-01\n'
        "last_day = 2025-03-02\npassenger_multiplier = 1.5\n"
    )
    sc = g6.load_scenario(delta(tmp_path, body))
    assert sc.services["g60"].departures == ["Mon 08:00"]
    assert sc.station is not None
    assert [p.name for p in sc.station.peak_periods] == ["only"]
    assert sc.station.entrances == BASE.station.entrances  # a sibling array is inherited


def test_remove_drops_inherited_sections_and_keys(tmp_path: Path) -> None:
    assert BASE.services["g60"].demand.booking_lead_h is not None  # type: ignore[union-attr]
    path = write(
        tmp_path / "r.toml",
        '[meta]\nbase = "baseline"\n'
        'remove = ["station", "services.g60.demand.booking_lead_h",\n'
        '  "costs.units.hub.gate_lanes"]\n',
    )
    sc = g6.load_scenario(path)
    assert sc.station is None
    assert sc.services["g60"].demand.booking_lead_h is None  # type: ignore[union-attr]
    assert sc.services["lmx"].demand == BASE.services["lmx"].demand
    # a key holding dots is found whole
    assert set(BASE.costs.units) - set(sc.costs.units) == {"hub.gate_lanes"}
    assert "base" not in sc.to_dict()["meta"] and "remove" not in sc.to_dict()["meta"]


def test_remove_then_give_again_replaces_a_table(tmp_path: Path) -> None:
    base_demand = BASE.services["g60"].demand
    assert base_demand is not None and base_demand.origins
    path = write(
        tmp_path / "r.toml",
        '[meta]\nbase = "baseline"\nremove = ["services.g60.demand"]\n'
        "[services.g60.demand]\nteu_per_week = 50.0\n",
    )
    demand = g6.load_scenario(path).services["g60"].demand
    assert demand is not None and demand.teu_per_week == 50.0
    assert demand.origins == {} and demand.booking_lead_h is None  # nothing merged


@pytest.mark.parametrize("key", ["disruptions.breakdownz", "hub.reach_stackers.x", "nothing"])
def test_removing_a_key_the_base_lacks_names_it(tmp_path: Path, key: str) -> None:
    path = write(tmp_path / "r.toml", f'[meta]\nbase = "baseline"\nremove = ["{key}"]\n')
    err = load_error(path)
    assert err.field == "meta.remove" and err.value == key
    assert str(path) in err.describe() and "baseline (packaged)" in err.describe()


def test_removing_part_of_an_array_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "r.toml", '[meta]\nbase = "baseline"\nremove = ["legs.0"]\n')
    err = load_error(path)
    assert err.value == "legs.0" and "array" in err.message


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ("base = 3", "meta.base"),
        ('base = ""', "meta.base"),
        ('base = "sub/dir"', "meta.base"),
        ('base = "baseline"\nremove = "station"', "meta.remove"),
        ('remove = ["station"]', "meta.remove"),
    ],
)
def test_bad_base_or_remove_names_the_field(tmp_path: Path, meta: str, field: str) -> None:
    path = write(tmp_path / "b.toml", f"[meta]\n{meta}\n")
    err = load_error(path)
    assert err.field == field and err.file == str(path)


# -- chains ---------------------------------------------------------------------------------
def test_a_delta_on_a_delta_with_a_relative_path(tmp_path: Path) -> None:
    first = delta(tmp_path, "[hub]\nreach_stackers = 6\nloading_tracks = 5\n", "a.toml")
    second = write(
        tmp_path / "sub" / "b.toml",
        '[meta]\nbase = "../a.toml"\nname = "b"\n[hub]\nloading_tracks = 2\n',
    )
    sc = g6.load_scenario(second)
    assert (sc.meta.name, sc.hub.reach_stackers, sc.hub.loading_tracks) == ("b", 6, 2)
    assert sc.hub.gate_lanes == BASE.hub.gate_lanes
    assert sc.base_chain == (str(second), str(first), "baseline (packaged)")
    # the same chain from another working directory: bases are relative to their file
    proc = subprocess.run(
        [sys.executable, "-m", "g60rail.cli", "validate", "b.toml"],
        cwd=second.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sc.hash in proc.stdout and "a.toml" in proc.stdout


def test_a_packaged_delta_records_its_chain() -> None:
    sc = g6.load_scenario("peak_season")
    assert sc.base_chain == ("peak_season (packaged)", "baseline (packaged)")
    assert BASE.base_chain == ("baseline (packaged)",)
    assert scenario_from_dict(BASE.to_dict()).base_chain == ()


def test_the_chain_survives_overrides_and_is_not_content(tmp_path: Path) -> None:
    sc = g6.load_scenario("peak_season")
    more = sc.with_overrides({"hub.reach_stackers": 5})
    assert more.base_chain == sc.base_chain and more.hub.reach_stackers == 5
    plain = scenario_from_dict(sc.to_dict())
    assert plain == sc and plain.hash == sc.hash and plain.base_chain != sc.base_chain


def test_overrides_apply_to_the_resolved_scenario(tmp_path: Path) -> None:
    path = delta(tmp_path, "[hub]\nreach_stackers = 6\n")
    # a key only the baseline gives, one only the delta gives, one only a default gives
    assert (
        "road_share"
        not in tomllib.loads(
            (Path(g6.__file__).parent / "scenario/data/baseline.toml").read_text()
        )["services"]["lmx"]["demand"]
    )
    sc = g6.load_scenario(
        path,
        overrides={
            "hub.loading_tracks": 3,
            "hub.reach_stackers": 2,
            "services.lmx.demand.road_share": 0.25,
            "costs.units.hub.reach_stackers.capital": 1.0,
        },
    )
    assert (sc.hub.loading_tracks, sc.hub.reach_stackers) == (3, 2)
    assert sc.services["lmx"].demand.road_share == 0.25  # type: ignore[union-attr]
    assert sc.costs.units["hub.reach_stackers"].capital == 1.0
    assert sc.base_chain[0] == str(path)


def test_a_cycle_names_the_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", '[meta]\nbase = "b.toml"\n')
    b = write(tmp_path / "b.toml", '[meta]\nbase = "a.toml"\n')
    err = load_error(a)
    assert "cycle" in err.message and str(a) in err.describe() and str(b) in err.describe()
    self_ref = write(tmp_path / "s.toml", '[meta]\nbase = "s.toml"\n')
    assert "cycle" in load_error(self_ref).message


def test_a_missing_or_unknown_base_names_both_files(tmp_path: Path) -> None:
    missing = delta(tmp_path, "", "m.toml", base="no/such.toml")
    text = load_error(missing).describe()
    assert str(tmp_path / "no" / "such.toml") in text and str(missing) in text
    assert "not found" in text
    unknown = delta(tmp_path, "", "u.toml", base="no_such_scenario")
    text = load_error(unknown).describe()
    assert "no_such_scenario" in text and str(unknown) in text and "packaged" in text


def test_an_unreadable_base_keeps_its_message(tmp_path: Path) -> None:
    write(tmp_path / "broken.toml", "[hub\n")
    (tmp_path / "latin1.toml").write_bytes(b"[meta]\nname = '\xe9'\n")
    for base, expected in (("broken.toml", "invalid TOML"), ("latin1.toml", "not UTF-8")):
        naming = delta(tmp_path, "", f"on_{base}", base=base)
        err = load_error(naming)
        assert expected in err.message and err.file == str(tmp_path / base)
        assert str(naming) in err.describe()


def test_a_problem_of_the_resolved_scenario_names_the_chain(tmp_path: Path) -> None:
    path = delta(tmp_path, "[hub]\nreach_stackers = -1\n")
    err = load_error(path)
    assert err.field == "hub.reach_stackers" and err.value == -1
    assert err.file == f"{path} <- baseline (packaged)"


@pytest.mark.parametrize("kind", ["cycle", "missing"])
def test_cli_exits_2_naming_the_files(tmp_path: Path, kind: str) -> None:
    if kind == "cycle":
        start = write(tmp_path / "one.toml", '[meta]\nbase = "two.toml"\n')
        write(tmp_path / "two.toml", '[meta]\nbase = "one.toml"\n')
        names = ["one.toml", "two.toml"]
    else:
        start = delta(tmp_path, "", "one.toml", base="gone.toml")
        names = ["one.toml", "gone.toml"]
    proc = run_cli("validate", str(start))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    for name in names:
        assert str(tmp_path / name) in proc.stderr


# -- what a run records ---------------------------------------------------------------------
def test_the_manifest_records_the_base_chain(tmp_path: Path) -> None:
    path = write(tmp_path / "fast.toml", '[meta]\nbase = "baseline"\nremove = ["station"]\n')
    sc = g6.load_scenario(path)
    result = g6.simulate(sc, days=2, seed=1)
    assert result.manifest["base_chain"] == [str(path), "baseline (packaged)"]
    assert result.manifest["scenario_hash"] == sc.hash
    result.save(tmp_path / "out")
    assert g6.Result.load(tmp_path / "out").manifest["base_chain"] == list(sc.base_chain)


# -- g60rail show ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", PACKAGED)
def test_show_prints_toml_that_loads_to_the_same_hash(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", name]) == 0
    text = capsys.readouterr().out
    assert text.startswith("#") and name in text.splitlines()[0]
    data = tomllib.loads(text)
    assert "base" not in data["meta"] and "remove" not in data["meta"]
    path = write(tmp_path / "shown.toml", text)
    again = g6.load_scenario(path)
    assert again.hash == g6.load_scenario(name).hash
    assert again.base_chain == (str(path),)
    assert main(["validate", str(path)]) == 0
    assert g6.load_scenario(name).hash in capsys.readouterr().out


def test_show_applies_overrides_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "baseline", "--set", "hub.reach_stackers=9"]) == 0
    text = capsys.readouterr().out
    assert "hub.reach_stackers=9" in text.split("[meta]")[0]
    assert tomllib.loads(text)["hub"]["reach_stackers"] == 9
    expected = BASE.with_overrides({"hub.reach_stackers": 9}).hash
    assert scenario_from_dict(tomllib.loads(text)).hash == expected


# -- g60rail keys ---------------------------------------------------------------------------
def test_keys_lists_a_key_with_type_unit_and_baseline_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "hub."]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line}
    assert rows["hub.reach_stackers"][1:3] == ["int", str(BASE.hub.reach_stackers)]
    assert rows["hub.moves_per_h"][1:4] == ["float", repr(BASE.hub.moves_per_h), "moves/h"]
    assert rows["hub.load_window_h"][-1] == "h"
    assert all(k.startswith("hub.") for k in rows if "." in k)
    assert "services.g60.capacity_teu" not in rows


def test_every_listed_key_is_overridable() -> None:
    keys = overridable_keys(BASE)
    assert len({k.key for k in keys}) == len(keys) > 500
    for k in keys:
        again = BASE.with_overrides({k.key: k.value})  # raises if the key were not accepted
        assert again.hash == BASE.hash, k.key
    by_key = {k.key: k for k in keys}
    assert by_key["legs.0.km"].value == BASE.legs[0].km and by_key["legs.0.km"].unit == "km"
    assert by_key["services.g60.departures.0"].value == BASE.services["g60"].departures[0]
    assert by_key["hub.dwell_h.mean"].unit == "h" and by_key["hub.dwell_h.cv"].unit != "h"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "no_such_scenario"], "no packaged scenario"),
        (["show", "baseline", "--set", "hub.reach_stakers=3"], "hub.reach_stakers"),
        (["show", "baseline", "--set", "no_equals"], "key=value"),
        (["show", "baseline", "--set", "hub.reach_stackers=0"], "hub.reach_stackers"),
        (["keys", "no_such_section."], "no_such_section."),
        (["keys", "--scenario", "no_such_scenario"], "no packaged scenario"),
    ],
)
def test_show_and_keys_exit_2_on_bad_input(args: list[str], expected: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stdout[:200]
    assert "Traceback" not in proc.stderr and expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
