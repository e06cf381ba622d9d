"""Scenario section for disruptions: equipment breakdowns and closures over date windows.

```toml
[[disruptions.breakdowns]]          # every reach stacker at Songjiang fails now and then
place = "songjiang"
equipment = "reach_stackers"        # or "gate_lanes"
mtbf_h = 300.0                      # mean operating hours between failures, per unit
repair_h = { dist = "lognormal", mean = 6.0, cv = 0.5 }

[[disruptions.closures]]            # a landslide on the Laos section in the rainy season
kind = "line"                       # "line", "border" or "customs"
where = ["boten", "vientiane"]      # a leg's two places; one place for border/customs
start = 2025-07-10T00:00:00
end = 2025-07-14T00:00:00
reason = "landslide"
```

``line``: no train enters the leg (either direction) if its run would overlap the window.
``border``: the port does no clearance work at all inside the window.
``customs``: the customs system is down: declarations wait, scan and technical handling go
on.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from g60rail.errors import FieldValueError
from g60rail.random import DistSpec, as_distribution
from g60rail.scenario.base import FrozenModel

__all__ = ["Breakdown", "Closure", "DisruptionsSpec"]


class Breakdown(FrozenModel):
    """Random failures of every unit of one kind of equipment at one hub or terminal.

    Each unit fails after an exponential operating time with mean ``mtbf_h`` and is then
    out of service for ``repair_h``; a unit busy when it fails finishes its current move
    first (non-pre-emptive).
    """

    place: str
    equipment: Literal["reach_stackers", "gate_lanes"]
    mtbf_h: Annotated[float, Field(ge=0.1)] = Field(
        description="mean hours between failures per unit (at least 0.1 h)"
    )
    repair_h: DistSpec = Field(description="repair time, hours (positive mean)")

    @model_validator(mode="after")
    def _repairs_take_time(self) -> Breakdown:
        if as_distribution(self.repair_h).mean <= 0:
            raise FieldValueError(
                "a repair must take time (mean above 0)", field="repair_h", value=self.repair_h
            )
        return self


class Closure(FrozenModel):
    """A window ``[start, end)`` during which a line, a border port or customs is closed."""

    kind: Literal["line", "border", "customs"]
    where: list[str] = Field(min_length=1, max_length=2)
    start: dt.datetime
    end: dt.datetime
    reason: str = ""

    @model_validator(mode="after")
    def _window(self) -> Closure:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        want = 2 if self.kind == "line" else 1
        if len(self.where) != want:
            raise ValueError(
                f"a {self.kind} closure names {want} place{'s' if want > 1 else ''}, "
                f"got {self.where}"
            )
        return self


class DisruptionsSpec(FrozenModel):
    """All disruptions of a scenario (none by default)."""

    breakdowns: list[Breakdown] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)

    def closures_outside(self, start: dt.datetime, end: dt.datetime) -> list[int]:
        """Indexes of the closures whose window misses ``[start, end)``: a run over those
        dates never sees them."""
        return [i for i, c in enumerate(self.closures) if c.end <= start or c.start >= end]
