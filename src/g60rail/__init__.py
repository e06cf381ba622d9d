"""g60rail: discrete-event simulation of the G60 multimodal logistics corridor.

The Songjiang International Multimodal Logistics Hub (Shanghai), the "China-Laos Train
G60" and the other services it hosts, the Shanghai-Kunming railway, Kunming, the
China-Laos Railway through the Mohan/Boten border ports to Vientiane, the road
alternative, and the Songjiang high-speed-rail station next door.

>>> import g60rail as g6
>>> sc = g6.load_scenario("baseline")
>>> res = g6.simulate(sc.with_overrides({"hub.reach_stackers": 3}), days=30, seed=7)
>>> res.kpis["freight.teu_created"] == (
...     res.kpis["freight.teu_delivered"] + res.kpis["freight.teu_in_system_end"])
True
"""

from g60rail.errors import ScenarioError
from g60rail.model.run import simulate
from g60rail.result import Result
from g60rail.scenario.io import load_scenario, packaged_scenarios
from g60rail.scenario.schema import Scenario

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "packaged_scenarios",
    "simulate",
]


def __getattr__(name: str) -> object:
    # plots (matplotlib) and experiments (executors) load on first use
    if name == "plot":
        import importlib

        return importlib.import_module("g60rail.plot")
    if name in {"replicate", "select_best", "sweep", "tune"}:
        from g60rail import experiment

        return getattr(experiment, name)
    if name == "preview":
        from g60rail.experiment.preview import preview

        return preview
    raise AttributeError(f"module 'g60rail' has no attribute {name!r}")
