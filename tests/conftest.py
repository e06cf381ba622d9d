"""Shared fixtures: small deterministic scenarios whose timelines can be worked out by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from g60rail.scenario.io import scenario_from_dict
from g60rail.scenario.schema import Scenario

# The modules with the longest runs, longest first.  They are collected first, so that the
# workers of ``pytest -n`` (a module each, ``--dist loadfile``) start on them and end
# together on the short ones (longest processing time first).  Measured with
# ``pytest --durations``; a module not listed keeps its place after these.
LONGEST_FIRST = (
    "test_compiled_model.py",
    "test_cli_robust.py",
    "test_properties.py",
    "test_notebooks.py",
    "validation/test_calibration.py",
    "validation/test_conservation.py",
    "test_cli.py",
    "test_examples.py",
    "model/test_corridor_scale.py",
    "test_cli_experiment.py",
    "test_lint.py",
    "test_experiment_robust.py",
    "test_experiment.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules of :data:`LONGEST_FIRST` first, in its order (a stable sort: the
    order within each module, and of the other modules, is kept)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}

    def key(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0].removeprefix("tests/")
        return rank.get(module, len(rank))

    items.sort(key=key)


TINY: dict[str, Any] = {
    "meta": {"name": "tiny", "start": "2025-01-06T00:00:00"},  # a Monday, 00:00
    "places": {
        "a": {"name": "A hub", "lat": 30.0, "lon": 120.0, "country": "CN", "kind": "hub"},
        "b": {"name": "B terminal", "lat": 30.0, "lon": 121.0, "country": "CN"},
    },
    # 100 km at 50 km/h: 2 h (the geodesic is 96 km)
    "legs": [{"from": "a", "to": "b", "mode": "rail", "km": 100, "speed_kmh": 50}],
    "hub": {
        "place": "a",
        "gate_lanes": 1,
        "gate_time_h": 0.1,
        "yard_teu": 100,
        "reach_stackers": 1,
        "moves_per_h": 10,  # 0.1 h a move
        "loading_tracks": 1,
        "shunt_h": 0.5,
        "load_window_h": 4,
        "dwell_h": 5,
    },
    "terminals": {
        "b": {
            "place": "b",
            "gate_lanes": 1,
            "gate_time_h": 0.1,
            "yard_teu": 100,
            "reach_stackers": 2,
            "moves_per_h": 10,
            "loading_tracks": 1,
            "shunt_h": 0.5,
            "load_window_h": 4,
            "dwell_h": 5,
        }
    },
    "services": {
        "s": {"route": ["a", "b"], "departures": ["Mon 10:00"], "capacity_teu": 10},
    },
}


def tiny(overrides: dict[str, Any] | None = None, **sections: Any) -> Scenario:
    """The tiny two-terminal scenario, with whole sections replaced or dotted overrides."""
    data = copy.deepcopy(TINY)
    data.update(copy.deepcopy(sections))
    sc = scenario_from_dict(data)
    return sc.with_overrides(overrides) if overrides else sc


@pytest.fixture
def tiny_scenario() -> Scenario:
    """The tiny scenario as it is."""
    return tiny()


def freight_baseline() -> Scenario:
    """The packaged baseline without its station section (freight-only tests run faster)."""
    from g60rail.scenario.io import load_scenario

    data = load_scenario("baseline").to_dict()
    data.pop("station", None)
    return scenario_from_dict(data)


#: Services of the packaged baseline that never touch the Songjiang hub: the other
#: provinces' cross-border trains and the Kunming centre's domestic traffic.
NOT_SONGJIANG = ("cross_border", "kunming_domestic")


def songjiang_hub_delta() -> str:
    """A scenario file (TOML) on the packaged baseline keeping only the services that use
    the Songjiang hub, without the station: the hub's own KPIs are those of the baseline,
    at a seventh of the events (experiment machinery tests run many replications)."""
    sc = freight_baseline()
    gone = [f"services.{n}" for n in sc.services if n.startswith(NOT_SONGJIANG)]
    assert gone, "the baseline should carry services that bypass Songjiang"
    listed = ", ".join(f'"{k}"' for k in ["station", *gone])
    return f'[meta]\nbase = "baseline"\nname = "songjiang_hub"\nremove = [{listed}]\n'


def songjiang_only(scenario: Scenario) -> Scenario:
    """``scenario`` without its services that bypass the Songjiang hub (and without the
    station): what a study of the hub's own capacity needs, at a fraction of the events."""
    data = scenario.to_dict()
    data.pop("station", None)
    for name in list(data["services"]):
        if name.startswith(NOT_SONGJIANG):
            del data["services"][name]
    return scenario_from_dict(data)


def songjiang_hub() -> Scenario:
    """The scenario of :func:`songjiang_hub_delta`."""
    return songjiang_only(freight_baseline().with_overrides({"meta.name": "songjiang_hub"}))


#: Replications of the design case long enough to tell a growing backlog: with seed 0,
#: two stackers serving first come first served grow one in replication 0, not in 1.
DESIGN_RUNS: dict[str, Any] = {
    "days": 120,
    "warmup_days": 7,
    "seed": 0,
    "executor": "serial",
    "progress": False,
}


def songjiang_design_hub() -> Scenario:
    """The packaged ``songjiang_design`` with only the services through the Songjiang hub."""
    from g60rail.scenario.io import load_scenario

    return songjiang_only(load_scenario("songjiang_design"))
