"""Containers: the unit of freight that moves through the corridor.

A :class:`Container` is a plain record with slots: where it comes from, where it goes,
the hops of its itinerary and the time of every milestone (hours from the run's start,
NaN until reached).
"""

from __future__ import annotations

from g60rail.scenario.routes import Hop

__all__ = ["MILESTONES", "Container", "Hop"]

NAN = float("nan")

MILESTONES = (
    "t_created",
    "t_gate_arrive",
    "t_gate_in",
    "t_loaded",
    "t_departed",
    "t_border_in",
    "t_border_out",
    "t_arrived",
    "t_delivered",
)
"""Milestone timestamps in the order a container reaches them."""


class Container:
    """A 20- or 40-foot box with its itinerary and milestone times.

    Parameters
    ----------
    cid
        Unique id within a run.
    teu
        1 (20-foot) or 2 (40-foot).
    itinerary
        The hops from the first terminal to the destination.
    """

    __slots__ = (
        "border_u",
        "cid",
        "destination",
        "dwell_h",
        "held",
        "hop",
        "itinerary",
        "mode",
        "origin",
        "service",
        "t_arrived",
        "t_border_in",
        "t_border_out",
        "t_created",
        "t_delivered",
        "t_departed",
        "t_gate_arrive",
        "t_gate_in",
        "t_loaded",
        "t_yard_in",
        "teu",
    )

    def __init__(
        self,
        cid: int,
        teu: int,
        origin: str,
        destination: str,
        service: str,
        itinerary: tuple[Hop, ...],
        t_created: float,
        dwell_h: float,
        border_u: tuple[float, ...],
        mode: str = "rail",
    ) -> None:
        self.cid = cid
        self.teu = teu
        self.origin = origin
        self.destination = destination
        self.service = service
        self.itinerary = itinerary
        self.hop = 0
        self.mode = mode
        self.dwell_h = dwell_h
        self.border_u = border_u
        self.held = False
        self.t_created = t_created
        self.t_gate_arrive = NAN
        self.t_gate_in = NAN
        self.t_loaded = NAN
        self.t_departed = NAN
        self.t_border_in = NAN
        self.t_border_out = NAN
        self.t_arrived = NAN
        self.t_delivered = NAN
        self.t_yard_in = NAN

    @property
    def current(self) -> Hop:
        """The hop the container is on or waiting for."""
        return self.itinerary[self.hop]

    def __repr__(self) -> str:
        return f"Container({self.cid}, {self.teu} TEU, {self.origin}->{self.destination})"
