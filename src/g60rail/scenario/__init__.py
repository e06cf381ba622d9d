"""Scenarios: what a planner tunes (schema), and how it is read and written (io)."""

from g60rail.scenario.io import apply_overrides, load_scenario, packaged_scenarios
from g60rail.scenario.schema import Scenario

__all__ = ["Scenario", "apply_overrides", "load_scenario", "packaged_scenarios"]
