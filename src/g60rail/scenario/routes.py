"""Routes through the network: which trains and onward legs take a box to its destination.

A pure function of the network (service routes, onward legs, terminals), used both to
validate a scenario (every demand destination must be reachable) and by the model to give
each booked box its itinerary (:meth:`g60rail.Scenario.itinerary`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

from g60rail.errors import ScenarioError

__all__ = ["Hop", "plan_from", "plan_itinerary"]


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


def _avoiding(routes: Mapping[str, Sequence[str]], avoid: Collection[str]) -> dict[str, list[str]]:
    """Each service's route cut short before the first place in ``avoid``; services that
    keep fewer than two stops are dropped."""
    out: dict[str, list[str]] = {}
    for sid, route in routes.items():
        cut = next((k for k, p in enumerate(route) if p in avoid), len(route))
        if cut >= 2:
            out[sid] = list(route[:cut])
    return out


def plan_from(
    routes: Mapping[str, Sequence[str]],
    onward_legs: Sequence[tuple[str, str]],
    terminals: Collection[str],
    place: str,
    destination: str,
    avoid: Collection[str] = (),
) -> tuple[Hop, ...] | None:
    """The hops that take a box standing at the terminal ``place`` to ``destination``.

    Boxes board trains only where a service starts, so the first hop is an onward leg
    from ``place`` or a service that starts there; after it, as :func:`plan_itinerary`.
    Of the services that start at ``place`` the plan with the fewest hops wins (the first
    in ``routes`` order on a tie).  No train of the plan calls at a place in ``avoid``
    before the box leaves it (e.g. the border port a re-routed box has just left, so that
    it does not go back through it).

    Parameters
    ----------
    routes, onward_legs, terminals
        As for :func:`plan_itinerary`.
    place
        Where the box stands (a terminal).
    destination
        The box's destination place.
    avoid
        Places the box must not pass through again.

    Returns
    -------
    tuple of Hop or None
        The hops (empty when ``place`` is the destination), or ``None`` when no route
        reaches the destination or ``place`` has no terminal to change trains at.
    """
    if place == destination:
        return ()
    if place not in terminals:
        return None
    for i, leg in enumerate(onward_legs):
        if leg == (place, destination):
            return (Hop("onward", str(i), place, destination),)
    usable = _avoiding(routes, avoid)
    best: tuple[Hop, ...] | None = None
    for sid, route in usable.items():
        if route[0] != place:
            continue
        try:
            plan = plan_itinerary(usable, onward_legs, terminals, sid, destination)
        except ScenarioError:
            continue
        if best is None or len(plan) < len(best):
            best = plan
    return best
