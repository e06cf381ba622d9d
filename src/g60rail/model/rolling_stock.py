"""Rolling stock: a train on its run, with the boxes it carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from g60rail.model.cargo import Container

__all__ = ["Train"]


class Train:
    """One run of a freight service, with the boxes it carries.

    On a line it is a freight train (:class:`~g60rail.model.line.LineTrain`): it waits
    behind passenger trains and runs at its section's freight running time.
    """

    kind = "freight"
    priority = 1
    speed_kmh = None

    __slots__ = (
        "boxes",
        "boxes_departed",
        "capacity_teu",
        "service",
        "t_arrived",
        "t_departed",
        "t_placed",
        "t_planned",
        "teu",
        "teu_departed",
        "tid",
    )

    def __init__(self, tid: int, service: str, capacity_teu: int, t_planned: float) -> None:
        self.tid = tid
        self.service = service
        self.capacity_teu = capacity_teu
        self.t_planned = t_planned
        self.t_placed = float("nan")
        self.t_departed = float("nan")
        self.t_arrived = float("nan")
        self.boxes: list[Container] = []
        self.teu = 0
        self.teu_departed = 0
        self.boxes_departed = 0

    def add(self, box: Container) -> None:
        """Put a box on the train."""
        self.boxes.append(box)
        self.teu += box.teu

    def remove(self, boxes: list[Container]) -> None:
        """Take boxes off the train."""
        if not boxes:
            return
        gone = {id(b) for b in boxes}
        self.boxes = [b for b in self.boxes if id(b) not in gone]
        self.teu -= sum(b.teu for b in boxes)
