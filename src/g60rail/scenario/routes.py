"""Routes through the network: which trains and onward legs take a box to its destination.

A pure function of the network (service routes, onward legs, terminals), used both to
validate a scenario (every demand destination must be reachable) and by the model to give
each booked box its itinerary (:meth:`g60rail.Scenario.itinerary`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

from g60rail.errors import ScenarioError

__all__ = ["Hop", "plan_itinerary"]


class Hop(NamedTuple):
    """One step of an itinerary: a train service between two of its stops, or an onward
    leg (``kind == "onward"``, ``ref`` = index of the onward leg in the scenario)."""

    kind: str
    ref: str
    from_: str
    to: str


def plan_itinerary(
    routes: Mapping[str, Sequence[str]],
    onward_legs: Sequence[tuple[str, str]],
    terminals: Collection[str],
    service: str,
    destination: str,
) -> tuple[Hop, ...]:
    """The hops from a service's origin to ``destination``.

    Tried in order: a later stop of the service; an onward leg from one of its stops; a
    second service starting at one of its terminals (optionally followed by an onward
    leg).  A box stays on its own train as long as that train can take it.

    Parameters
    ----------
    routes
        Service id -> its stops in order.
    onward_legs
        ``(from, to)`` of each onward leg; a hop names a leg by its index here.
    terminals
        Places with a container terminal (the hub included), where boxes can change trains.
    service, destination
        The booked service and the box's destination place.

    Raises
    ------
    ScenarioError
        No such route.
    """
    route = routes[service]
    origin = route[0]
    if destination in route[1:]:
        return (Hop("rail", service, origin, destination),)
    onward = {leg: str(i) for i, leg in enumerate(onward_legs)}
    for stop in route[1:]:
        if (stop, destination) in onward:
            return (
                Hop("rail", service, origin, stop),
                Hop("onward", onward[stop, destination], stop, destination),
            )
    for stop in route[1:]:
        if stop not in terminals:
            continue
        first = Hop("rail", service, origin, stop)
        for sid2, route2 in routes.items():
            if sid2 == service or route2[0] != stop:
                continue
            if destination in route2[1:]:
                return (first, Hop("rail", sid2, stop, destination))
            for stop2 in route2[1:]:
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
