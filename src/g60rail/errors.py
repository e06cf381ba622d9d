"""Errors raised for bad user input.

A :class:`ScenarioError` names where the problem is (file, dotted field) and the offending
value, so that the command line can print one clear paragraph instead of a traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FieldValueError", "ScenarioError"]

_MISSING = object()


class ScenarioError(Exception):
    """A scenario (file, override or object) is not valid.

    Parameters
    ----------
    message
        What is wrong, in words.
    field
        Dotted path of the field, e.g. ``"hub.reach_stackers"`` or ``"legs.2.to"``.
    value
        The offending value, if there is one.
    file
        The scenario file or packaged scenario name, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = _MISSING,
        file: str | None = None,
        problems: list[ScenarioError] | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.value = value
        self.file = file
        self.problems = problems or []
        super().__init__(self.describe())

    @property
    def has_value(self) -> bool:
        """Whether an offending value was recorded."""
        return self.value is not _MISSING

    def with_file(self, file: str) -> ScenarioError:
        """The same error attributed to ``file``."""
        err = ScenarioError(
            self.message,
            field=self.field,
            value=self.value,
            file=file,
            problems=[p.with_file(file) for p in self.problems],
        )
        return err

    def _one(self) -> str:
        parts = []
        if self.field:
            parts.append(f"field '{self.field}'")
        if self.has_value:
            parts.append(f"value {_short(self.value)}")
        where = " ".join(parts)
        return f"{where}: {self.message}" if where else self.message

    def describe(self) -> str:
        """One paragraph: the file, then each problem with its field and value."""
        head = f"{self.file}: " if self.file else ""
        if not self.problems:
            return head + self._one()
        body = "; ".join(p._one() for p in self.problems)
        n = len(self.problems)
        return f"{head}{n} problem{'s' if n > 1 else ''}: {body}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FieldValueError(ValueError):
    """A model validator's complaint about one of the model's own fields.

    Pydantic reports an error raised by a whole-model validator at the model's location
    (``services.g60``); raising this instead lets :mod:`g60rail.scenario.io` point at the
    field itself (``services.g60.route``) and show that field's value.

    Parameters
    ----------
    message
        What is wrong, in words.
    field
        The field's name (dotted if deeper), relative to the model being validated.
    value
        The field's value.
    """

    def __init__(self, message: str, *, field: str, value: Any = _MISSING) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
