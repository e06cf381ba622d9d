"""Constrained number types shared by the scenario's sections (pydantic annotations)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

__all__ = [
    "Count",
    "NonNegFloat",
    "PosFloat",
    "PosInt",
    "Probability",
    "TrainTEU",
    "YardTEU",
]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PosInt = Annotated[int, Field(ge=1)]
# Upper bounds keep absurd inputs (a typo with extra zeros) from exhausting memory or time:
# every unit is a SimPy server (and a failure process when it can break down).
Count = Annotated[int, Field(ge=1, le=10_000)]
TrainTEU = Annotated[int, Field(ge=1, le=10_000)]
YardTEU = Annotated[int, Field(ge=1, le=10_000_000)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
