"""Containers: the unit of freight that moves through the corridor.

A :class:`Container` is a plain record with slots: where it comes from, where it goes,
the hops of its itinerary and the time of every milestone (hours from the run's start,
NaN until reached).
"""

from __future__ import annotations

from g60rail.scenario.routes import Hop

__all__ = ["GATE_TIMES", "MILESTONES", "Container", "Hop"]

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

GATE_TIMES = (
    "t_gate_pass",
    "t_gate_out_pass",
    "t_gate_out",
    "t_pickup_arrive",
    "t_pickup_pass",
)
"""Times of the trucks at the gates (hours, NaN where none): the truck that brought the
box to its first terminal starts its in-gate processing (``t_gate_pass``, after
``t_gate_arrive``; the cut-off reads it), starts its out-gate processing and has left
(``t_gate_out``); the consignee's truck at the destination comes to the gate and starts
its in-gate processing.  Not in milestone order: a box may leave on a train before its
truck has left."""


class Container:
    """A 20- or 40-foot box with its itinerary and milestone times.

    Parameters
    ----------
    cid
        Unique id within a run.
    teu
        1 (20-foot) or 2 (40-foot).
    itinerary
        The hops from the first terminal to the destination.  A box held at a border
        port and re-routed onto another service gets a new itinerary there
        (:meth:`g60rail.model.border.BorderPort.pick_up`); its first hop stays.
    commodity, tonnes
        Its commodity class (a key of the scenario's ``commodities``) and gross cargo
        weight, tonnes (boxes built by hand default to ``general`` and 0 t).
    """

    __slots__ = (
        "border_u",
        "cid",
        "commodity",
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
        "t_gate_out",
        "t_gate_out_pass",
        "t_gate_pass",
        "t_loaded",
        "t_pickup_arrive",
        "t_pickup_pass",
        "t_yard_in",
        "teu",
        "tonnes",
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
        commodity: str = "general",
        tonnes: float = 0.0,
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
        self.commodity = commodity
        self.tonnes = tonnes
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
        self.t_gate_pass = NAN
        self.t_gate_out_pass = NAN
        self.t_gate_out = NAN
        self.t_pickup_arrive = NAN
        self.t_pickup_pass = NAN

    @property
    def current(self) -> Hop:
        """The hop the container is on or waiting for."""
        return self.itinerary[self.hop]

    def __repr__(self) -> str:
        return f"Container({self.cid}, {self.teu} TEU, {self.origin}->{self.destination})"
