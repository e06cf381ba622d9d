"""Common configuration of every scenario model: immutable, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenModel"]


class FrozenModel(BaseModel):
    """Base of all scenario sections.

    Instances are immutable; unknown keys, NaN and infinity are rejected.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        allow_inf_nan=False,
        validate_default=True,
    )
