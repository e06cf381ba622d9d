"""The road alternative: trucks on the Shanghai-Kunming expressway and on to Laos.

A road booking's truck drives from its origin city to its service's origin on the road
route, then along the route to its destination at each road leg's speed (a leg given by
a running-time distribution contributes its mean).  Two drivers keep the truck moving
``driving_h_per_day`` hours in every 24; the rest of the day it stands.  Where the route
crosses a border (consecutive places in different countries) the truck spends ``border_h``
at road customs.  Trucks do not compete for capacity: the expressway and the road ports are
taken to be uncongested.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import simpy

from g60rail.errors import ScenarioError
from g60rail.model.cargo import Container
from g60rail.model.probes import Tally
from g60rail.random import Sampler
from g60rail.scenario.schema import Scenario

__all__ = ["Road", "driving_time_h"]


def driving_time_h(drive_h: float, driving_h_per_day: float) -> float:
    """Elapsed hours for ``drive_h`` hours at the wheel with daily rest.

    A truck drives ``driving_h_per_day`` then rests ``24 - driving_h_per_day``; a trip
    that ends exactly at the end of a driving shift takes no rest after it.

    Examples
    --------
    >>> driving_time_h(20.0, 20.0)   # no rest needed
    20.0
    >>> driving_time_h(21.0, 20.0)   # one 4 h rest
    25.0
    """
    drive = drive_h
    rests = max(0, math.ceil(drive / driving_h_per_day) - 1)
    return drive + rests * (24.0 - driving_h_per_day)


class Road:
    """Road trips along the scenario's expressway route.

    Parameters
    ----------
    env
        The SimPy environment.
    scenario
        Road route, legs with ``mode = "road"``, places (for countries).
    border_h
        Sampler of road customs time per border crossing, hours.
    drayage_h
        Hours from an origin city to a place (trucking to the expressway).
    on_arrived, on_delivered
        Called for each box when its truck reaches the destination (both at once: a
        road box is handed over on arrival).
    """

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        border_h: Sampler,
        drayage_h: Callable[[str, str], float],
        on_arrived: Callable[[Container], None],
        on_delivered: Callable[[Container], None],
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.warmup_h = warmup_h
        self.spec = scenario.road
        self.route = list(scenario.road.route)
        self.border_h = border_h
        self.drayage_h = drayage_h
        self.on_arrived = on_arrived
        self.on_delivered = on_delivered
        hours = {}
        for leg in scenario.legs:
            if leg.mode == "road":
                h = leg.mean_running_h
                hours[leg.from_, leg.to] = hours[leg.to, leg.from_] = h
        self.drive_h_between: list[float] = []
        self.crossing: list[bool] = []
        for i, (a, b) in enumerate(zip(self.route, self.route[1:], strict=False)):
            if (a, b) not in hours:
                raise ScenarioError(
                    f"no road leg joins {a!r} and {b!r}", field=f"road.route.{i + 1}", value=b
                )
            self.drive_h_between.append(hours[a, b])
            self.crossing.append(scenario.places[a].country != scenario.places[b].country)
        self.trip_h = Tally()

    def trip(self, origin: str, boxes: list[Container], delay: float = 0.0) -> Generator:
        """Truck ``boxes`` from ``origin`` to their destination by road, leaving after
        ``delay`` hours."""
        env, spec = self.env, self.spec
        start = boxes[0].itinerary[0].from_
        i0, i1 = self.route.index(start), self.route.index(boxes[0].destination)
        hours = delay + self.drayage_h(origin, self.route[i0])
        hours += driving_time_h(sum(self.drive_h_between[i0:i1]), spec.driving_h_per_day)
        for crosses in self.crossing[i0:i1]:
            if crosses:
                hours += self.border_h()
        yield env.timeout(hours)
        for box in boxes:
            box.t_arrived = box.t_delivered = env.now
            if box.t_created >= self.warmup_h:
                self.trip_h.add(env.now - box.t_created)
            self.on_arrived(box)
            self.on_delivered(box)
