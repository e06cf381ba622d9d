"""Dotted-key overrides and the translation of validation errors into user errors.

``{"hub.reach_stackers": 4}`` sets one field of a scenario's data; a key of a table may
hold dots itself (``costs.units.hub.reach_stackers.capital``).  Only keys that exist can
be set, so a typo is an error, not a silently ignored setting.  Everything here works on
plain data and any pydantic model class, so the scenario schema can use it.
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from g60rail.errors import FieldValueError, ScenarioError

__all__ = ["dict_key", "override_data", "parse_override", "validated"]

M = TypeVar("M", bound=BaseModel)


def dict_key(node: dict[str, Any], parts: list[str], i: int) -> tuple[str, int] | None:
    """The key of ``node`` that ``parts[i:]`` starts with, and the index after it.

    A key may itself hold dots (``costs.units."hub.reach_stackers"``): when ``parts[i]``
    is not a key, longer dotted runs of parts are tried.
    """
    if parts[i] in node:
        return parts[i], i + 1
    for j in range(i + 2, len(parts) + 1):
        joined = ".".join(parts[i:j])
        if joined in node:
            return joined, j
    return None


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"hub.reach_stackers=4"`` into the key and a value parsed as TOML.

    Values that are not valid TOML (``name=Expansion``) are taken as plain strings.
    """
    if "=" not in text:
        raise ScenarioError("an override must look like key=value", value=text)
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key:
        raise ScenarioError("an override needs a dotted key before '='", value=text)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise ScenarioError(
            "an override value is nested too deeply", field=key, value=raw[:40]
        ) from None
    return key, value


def override_data(
    data: dict[str, Any], overrides: dict[str, Any], label: str | None = None
) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted-key ``overrides`` set (``label`` names the
    file in errors)."""
    data = copy.deepcopy(data)
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        i = 0
        while i < len(parts):
            where = ".".join(parts[: i + 1])
            if isinstance(node, dict):
                found = dict_key(node, parts, i)
                if found is None:
                    raise ScenarioError(
                        f"no such field to override ('{where}' does not exist)",
                        field=key,
                        value=value,
                        file=label,
                    )
                part, i = found
                if i == len(parts):
                    node[part] = value
                else:
                    node = node[part]
            elif isinstance(node, list):
                part = parts[i]
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(
                        f"no such list item ('{where}'; the list has {len(node)} items)",
                        field=key,
                        value=value,
                        file=label,
                    )
                i += 1
                if i == len(parts):
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            else:
                raise ScenarioError(
                    f"'{'.'.join(parts[:i])}' is a value, not a section",
                    field=key,
                    value=value,
                    file=label,
                )
    return data


def _dotted(loc: tuple[Any, ...]) -> str:
    # pydantic adds the union member's tag ('constant', 'lognormal' ...) and type names
    # ('float', 'function-after[...]') to locations; they are not part of the user's path.
    parts = [str(p) for p in loc]
    return ".".join(p for p in parts if "[" not in p and p not in _UNION_TAGS)


_UNION_TAGS = {
    "constant",
    "exponential",
    "uniform",
    "triangular",
    "lognormal",
    "gamma",
    "number",
    "distribution",
    "float",
    "constrained-float",
}


def _from_validation_error(exc: ValidationError, data: dict[str, Any]) -> ScenarioError:
    problems = []
    seen = set()
    for err in exc.errors(include_url=False):
        field = _dotted(err["loc"])
        msg = err["msg"]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldValueError):
            # a model validator named one of its own fields: point at it
            field = f"{field}.{cause.field}" if field else cause.field
            msg = str(cause)
            err = {**err, "input": cause.value}
        key = (field, msg)
        if key in seen:
            continue
        seen.add(key)
        kwargs: dict[str, Any] = {"field": field or None}
        if err.get("type") != "missing":
            kwargs["value"] = err.get("input")
        problems.append(ScenarioError(msg, **kwargs))
    if len(problems) == 1:
        return problems[0]
    return ScenarioError("invalid scenario", problems=problems)


def validated(model: type[M], data: dict[str, Any], *, file: str | None = None) -> M:
    """Validate plain data into ``model``; every problem becomes one
    :class:`~g60rail.errors.ScenarioError` naming the dotted field and the value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = _from_validation_error(exc, data)
        raise (err.with_file(file) if file else err) from None
    except ScenarioError as err:
        raise (err.with_file(file) if file else err) from None
