"""Empty boxes sent back by rail: the other half of a container's cycle.

A consignee unpacks a delivered box and a truck brings it back, empty, to the terminal it
came from; from there it goes by rail to where the service's shippers need it again (the
service's origin).  The empty box is an ordinary :class:`~g60rail.model.cargo.Container`
of commodity :data:`EMPTY` with no cargo tonnes: it passes the gate, takes a stacker move
and a slot on a train, is cleared at the borders and collected at the far end like any
box, so empties compete with loaded boxes for the return trains.

Each service draws from its own streams (``empties.<service>``), so switching empties on
or off leaves every booking of the run as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy

from g60rail.model.cargo import Container
from g60rail.random import DistSpec, Streams, UniformBuffer

if TYPE_CHECKING:
    from g60rail.model.demand import Booking
    from g60rail.scenario.routes import Hop
    from g60rail.scenario.schema import Scenario
    from g60rail.scenario.sections import EmptiesSpec

__all__ = ["EMPTY", "EmptyReturns"]

EMPTY = "empty"
"""The commodity class of an empty box."""


class _ServiceEmpties:
    """The empties of one service: its spec, origin and random streams."""

    def __init__(
        self, sid: str, spec: EmptiesSpec, origin: str, dwell_h: DistSpec, streams: Streams
    ) -> None:
        self.spec = spec
        self.origin = origin
        self.back_h = streams.sampler(f"empties.{sid}.back", spec.back_h)
        self.dwell_h = streams.sampler(f"empties.{sid}.dwell", dwell_h)
        self.uniforms = UniformBuffer(streams.rng(f"empties.{sid}"))


class EmptyReturns:
    """Turns delivered boxes into empty boxes booked back to their service's origin.

    Parameters
    ----------
    env
        The SimPy environment.
    scenario
        Services with an ``empties`` section return empties.
    streams
        The run's random streams.
    book
        Enters a booking (origin, boxes, by road) into the corridor: the world's.
    next_id
        Gives the next container id.
    horizon_h
        Run length, hours: an empty box that would reach the gate after it is not made.

    An empty box waits at the service's origin for its collection as long as a loaded
    box does there (the terminal's ``dwell_h``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        book: Callable[[Booking], None],
        next_id: Callable[[], int],
        horizon_h: float,
    ) -> None:
        self.env = env
        self.horizon_h = horizon_h
        self.scenario = scenario
        self.book = book
        self.next_id = next_id
        hubs = {scenario.hub.place: scenario.hub}
        hubs.update((t.place, t) for t in scenario.terminals.values())
        self.terminals = set(hubs)
        self.services = {
            sid: _ServiceEmpties(
                sid,
                s.empties,
                s.route[0],
                hubs[s.route[0]].dwell_h if s.route[0] in hubs else 0.0,
                streams,
            )
            for sid, s in scenario.services.items()
            if s.empties is not None
        }
        self._routes: dict[tuple[str, str], tuple[Hop, ...]] = {}
        self.teu = 0
        """Empty TEU sent back (created) during the run."""

    def delivered(self, box: Container) -> None:
        """A loaded rail box was collected at its destination: maybe send it back empty."""
        own = self.services.get(box.service)
        place = box.destination
        if own is None or place not in self.terminals or place == own.origin:
            return
        u = own.uniforms.take(5)
        if u[0] >= own.spec.share:
            return
        route = self._route(place, own.origin)
        t_back = self.env.now + own.back_h()
        if not route or t_back > self.horizon_h:
            return
        empty = Container(
            cid=self.next_id(),
            teu=box.teu,
            origin=place,
            destination=own.origin,
            service=route[0].ref,
            itinerary=route,
            t_created=t_back,
            dwell_h=own.dwell_h(),
            border_u=tuple(u[1:]),
            commodity=EMPTY,
            tonnes=0.0,
        )
        self.teu += empty.teu
        self.book((place, [empty], False))

    def _route(self, place: str, origin: str) -> tuple[Hop, ...]:
        key = (place, origin)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self.scenario.itinerary_from(place, origin) or ()
        return route
