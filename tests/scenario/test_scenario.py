"""Scenario loading, overrides and error messages that name the field and the value."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

import g60rail as g6
from g60rail.errors import ScenarioError
from g60rail.geo import leg_table
from g60rail.scenario.io import packaged_scenarios, parse_override, scenario_from_dict

BASELINE = tomllib.loads(
    (Path(g6.__file__).parent / "scenario" / "data" / "baseline.toml").read_text()
)


def bad(mutate) -> ScenarioError:
    data = copy.deepcopy(BASELINE)
    mutate(data)
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, file="x.toml")
    return err.value


def test_packaged_baseline_loads_and_is_listed() -> None:
    assert "baseline" in packaged_scenarios()
    sc = g6.load_scenario("baseline")
    assert {"songjiang", "kunming", "mohan", "boten", "vientiane"} <= set(sc.places)


TAGS = ("F", "E", "D", "estimate", "facts")


def cited(lines: list[str], i: int) -> bool:
    """A value line is cited by its own comment, or else by the nearest comment paragraph
    above it (a comment covers the values and tables that follow it)."""
    if "#" in lines[i] and any(t in lines[i].split("#", 1)[1] for t in TAGS):
        return True
    j = i - 1
    while j >= 0 and not lines[j].lstrip().startswith("#"):
        j -= 1
    while j >= 0 and lines[j].lstrip().startswith("#"):
        if any(t in lines[j] for t in TAGS):
            return True
        j -= 1
    return False


def test_every_number_in_the_baseline_cites_a_source() -> None:
    text = (Path(g6.__file__).parent / "scenario" / "data" / "baseline.toml").read_text()
    lines = text.splitlines()
    uncited = []
    for i, line in enumerate(lines):
        code = line.split("#", 1)[0]
        key, _, value = code.partition("=")
        if key.strip() in {"name", "description"}:
            continue
        if value and any(ch.isdigit() for ch in value) and not cited(lines, i):
            uncited.append(line)
    assert uncited == []


def test_round_trip_through_plain_data() -> None:
    sc = g6.load_scenario("baseline")
    again = scenario_from_dict(sc.to_dict())
    assert again == sc and again.hash == sc.hash


@pytest.mark.parametrize(
    ("mutate", "field", "value"),
    [
        (lambda d: d["hub"].__setitem__("reach_stackers", -1), "hub.reach_stackers", -1),
        (lambda d: d["hub"].__setitem__("reach_stakers", 3), "hub.reach_stakers", 3),
        (lambda d: d["hub"].__setitem__("yard_teu", "big"), "hub.yard_teu", "big"),
        (lambda d: d["legs"][0].__setitem__("to", "kunmingg"), "legs.0.to", "kunmingg"),
        (
            lambda d: d["services"]["g60"]["demand"].__setitem__("road_share", 1.5),
            "services.g60.demand.road_share",
            1.5,
        ),
        (
            lambda d: d["borders"]["mohan"].__setitem__(
                "declaration_h", {"dist": "exponential", "mean": -2}
            ),
            "borders.mohan.declaration_h.mean",
            -2,
        ),
        (
            lambda d: d["services"]["lmx"].__setitem__("departures", ["Funday 09:00"]),
            "services.lmx.departures",
            ["Funday 09:00"],
        ),
    ],
)
def test_errors_name_file_field_and_value(mutate, field, value) -> None:
    err = bad(mutate)
    problems = err.problems or [err]
    assert any(p.field == field and p.value == value for p in problems), err.describe()
    text = err.describe()
    assert text.startswith("x.toml: ")
    assert field in text


def test_override_of_a_missing_key_is_an_error() -> None:
    sc = g6.load_scenario("baseline")
    with pytest.raises(ScenarioError, match=r"hub\.reach_stakers"):
        sc.with_overrides({"hub.reach_stakers": 4})
    with pytest.raises(ScenarioError, match=r"legs\.99"):
        sc.with_overrides({"legs.99.km": 4})


def test_parse_override_values() -> None:
    assert parse_override("hub.reach_stackers=4") == ("hub.reach_stackers", 4)
    assert parse_override("hub.dwell_h={dist='exponential', mean=3}") == (
        "hub.dwell_h",
        {"dist": "exponential", "mean": 3},
    )
    assert parse_override("meta.name=Expansion") == ("meta.name", "Expansion")
    with pytest.raises(ScenarioError):
        parse_override("no-equals-sign")


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "broken.toml"
    f.write_text("[hub\nreach_stackers = 4\n")
    with pytest.raises(ScenarioError, match=r"broken\.toml.*invalid TOML"):
        g6.load_scenario(f)
    with pytest.raises(ScenarioError, match="file not found"):
        g6.load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="no packaged scenario"):
        g6.load_scenario("no_such_scenario")


def test_route_km_is_longer_than_the_geodesic() -> None:
    # rail and road routes are never shorter than the great circle between their ends
    base = g6.load_scenario("baseline")
    for leg in leg_table(base.places, base.legs):
        assert leg.km >= leg.geodesic_km, leg
    sj = base.places["songjiang"], base.places["kunming"]
    from g60rail.geo import geodesic_km

    assert 1850 < geodesic_km(*sj) < 2000  # Shanghai-Kunming great circle ~1,920 km
    assert base.lines["shanghai_kunming"].stations[-1].km > geodesic_km(*sj)


def test_costs_section_gives_life_cycle_unit_costs() -> None:
    from g60rail.experiment.tuning import DEFAULT_COSTS, scenario_costs

    sc = g6.load_scenario("baseline")
    per_unit = sc.costs.per_unit()
    # 450,000 capital + 10 years x 60,000
    assert per_unit["hub.reach_stackers"] == 450_000 + 10 * 60_000
    assert scenario_costs(sc)["borders.mohan.officers"] == 10 * 40_000
    assert set(DEFAULT_COSTS) <= set(scenario_costs(sc))
    shorter = sc.with_overrides({"costs.life_years": 5})
    assert shorter.costs.per_unit()["hub.reach_stackers"] == 450_000 + 5 * 60_000


def test_cost_of_something_that_is_not_a_capacity_is_an_error() -> None:
    data = copy.deepcopy(BASELINE)
    data["costs"]["units"]["hub.reach_stakers"] = {"capital": 1}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, file="x.toml")
    assert err.value.field == "costs.units.hub.reach_stakers"
