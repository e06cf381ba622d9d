"""Common configuration of every scenario model: immutable, strict about unknown keys,
about the types of numbers and about dates.

Two rules hold for every field of every scenario model (and of the distributions inside
them), whatever its annotation, so that no section has to repeat them field by field:

* **Numbers are numbers.**  An integer or float field takes an ``int`` or a ``float``
  (numpy scalars included), never a boolean (``true`` is not one reach stacker) nor text
  (``"4"`` is not four); a float field still takes an integer (``speed_kmh = 60``).
  Booleans take ``true`` or ``false`` only.
* **Dates fit a run.**  Every date and datetime lies within what a pandas timestamp can
  hold, which the run's tables need: :data:`FIRST_DATE` to :data:`LAST_DATE`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError, SchemaValidator
from pydantic_core import core_schema as cs

__all__ = ["FIRST_DATE", "LAST_DATE", "FrozenModel", "check_date"]

FIRST_DATE = dt.datetime(1678, 1, 1)
"""The earliest date a scenario may name (pandas timestamps start in September 1677)."""

LAST_DATE = dt.datetime(2261, 12, 31, 23, 59, 59)
"""The latest date a scenario may name (pandas timestamps end in April 2262)."""

_MARK = "g60rail.checked"  # metadata key of a schema node this module has wrapped


def check_date(value: Any) -> Any:
    """``value`` (a date or datetime) if it lies in ``[FIRST_DATE, LAST_DATE]``."""
    if isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None)
    elif isinstance(value, dt.date):
        naive = dt.datetime(value.year, value.month, value.day)
    else:
        return value
    if not FIRST_DATE <= naive <= LAST_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            "outside the dates a run can hold ({first} to {last})",
            {"first": FIRST_DATE.date().isoformat(), "last": LAST_DATE.date().isoformat()},
        )
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError(
            "number_type",
            "expected a number, got {value} (a boolean)",
            {"value": "true" if value else "false"},
        )
    if isinstance(value, (str, bytes, bytearray)):
        raise PydanticCustomError(
            "number_type", "expected a number, got text (write it without quotes)", {}
        )
    return value


def _boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "expected true or false", {})
    return value


_BEFORE = {"int": _number, "float": _number, "bool": _boolean}


def _harden(schema: Any) -> None:
    """Wrap, in place, every number and boolean schema of ``schema`` in a check of the
    input's type, and every date or datetime schema in a range check."""
    if isinstance(schema, list):
        for item in schema:
            _harden(item)
        return
    if not isinstance(schema, dict):
        return
    if (schema.get("metadata") or {}).get(_MARK):
        return  # wrapped already (a nested model's schema is reused by its parents)
    for value in list(schema.values()):
        _harden(value)
    kind = schema.get("type")
    if kind in _BEFORE:
        inner = dict(schema)
        schema.clear()
        schema.update(
            cs.no_info_before_validator_function(_BEFORE[kind], inner, metadata={_MARK: True})
        )
    elif kind in ("date", "datetime"):
        inner = dict(schema)
        schema.clear()
        schema.update(
            cs.no_info_after_validator_function(check_date, inner, metadata={_MARK: True})
        )


class FrozenModel(BaseModel):
    """Base of all scenario sections.

    Instances are immutable; unknown keys, NaN and infinity are rejected; numbers must be
    numbers and dates must fit a run (see the module docstring).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        allow_inf_nan=False,
        validate_default=True,
    )

    @classmethod
    def __pydantic_on_complete__(cls) -> None:
        """Apply the module's rules to the finished schema and rebuild the validator.

        The finished schema holds every nested model inline (the distributions of
        :mod:`g60rail.random` included), so one walk covers the whole model; the validator
        is built without reusing the nested models' own validators, which would skip the
        rules for models that are not scenario sections.
        """
        super().__pydantic_on_complete__()
        schema = cls.__pydantic_core_schema__
        _harden(schema)
        config = schema.get("config") if isinstance(schema, dict) else None
        # a rebuild without the nested models' prebuilt validators, which would skip them
        cls.__pydantic_validator__ = SchemaValidator(schema, config, _use_prebuilt=False)
