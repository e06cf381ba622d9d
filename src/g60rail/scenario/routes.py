"""Routes through the network: which trains and onward legs take a box to its destination.

A pure function of the scenario, used both to validate a scenario (every demand
destination must be reachable) and by the model to give each booked box its itinerary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from g60rail.errors import ScenarioError

if TYPE_CHECKING:
    from g60rail.scenario.schema import Scenario

__all__ = ["Hop", "plan_itinerary"]


class Hop(NamedTuple):
    """One step of an itinerary: a train service between two of its stops, or an onward
    leg (``kind == "onward"``, ``ref`` = index of the onward leg in the scenario)."""

    kind: str
    ref: str
    from_: str
    to: str


def plan_itinerary(scenario: Scenario, service: str, destination: str) -> tuple[Hop, ...]:
    """The hops from a service's origin to ``destination``.

    Tried in order: a later stop of the service; an onward leg from one of its stops; a
    second service starting at one of its terminals (optionally followed by an onward
    leg).  A box stays on its own train as long as that train can take it.

    Raises
    ------
    ScenarioError
        No such route.
    """
    spec = scenario.services[service]
    route = spec.route
    origin = route[0]
    if destination in route[1:]:
        return (Hop("rail", service, origin, destination),)
    onward = {(o.from_, o.to): str(i) for i, o in enumerate(scenario.onward)}
    for stop in route[1:]:
        if (stop, destination) in onward:
            return (
                Hop("rail", service, origin, stop),
                Hop("onward", onward[stop, destination], stop, destination),
            )
    for stop in route[1:]:
        if scenario.terminal(stop) is None:
            continue
        first = Hop("rail", service, origin, stop)
        for sid2, s2 in scenario.services.items():
            if sid2 == service or s2.route[0] != stop:
                continue
            if destination in s2.route[1:]:
                return (first, Hop("rail", sid2, stop, destination))
            for stop2 in s2.route[1:]:
                if (stop2, destination) in onward:
                    return (
                        first,
                        Hop("rail", sid2, stop, stop2),
                        Hop("onward", onward[stop2, destination], stop2, destination),
                    )
    raise ScenarioError(
        f"no route from {origin!r} to {destination!r} on service {service!r}, an onward leg "
        "or a connecting service",
        field=f"services.{service}.demand.destinations.{destination}",
        value=destination,
    )
