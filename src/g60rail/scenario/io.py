"""Load, override and save scenarios.

A scenario is named either by a packaged name (``"baseline"``, see
:func:`packaged_scenarios`) or by a path to a TOML file.  Every problem becomes a
:class:`~g60rail.errors.ScenarioError` that names the file, the dotted field and the value.
"""

from __future__ import annotations

import copy
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from g60rail.errors import FieldValueError, ScenarioError
from g60rail.scenario.schema import Scenario

__all__ = [
    "apply_overrides",
    "load_scenario",
    "packaged_scenarios",
    "parse_override",
    "save_scenario",
    "scenario_from_dict",
]

_DATA = "g60rail.scenario.data"


def packaged_scenarios() -> dict[str, str]:
    """Packaged scenario names and their one-line descriptions."""
    out = {}
    for entry in sorted(resources.files(_DATA).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and not entry.name.startswith("_"):
            name = entry.name[: -len(".toml")]
            try:
                data = tomllib.loads(entry.read_text(encoding="utf-8"))
                out[name] = str(data.get("meta", {}).get("description", "")).strip()
            except tomllib.TOMLDecodeError:
                out[name] = "(unreadable)"
    return out


def _read_toml(source: str) -> tuple[dict[str, Any], str]:
    """The parsed TOML of a packaged name or a file path, and a label for messages."""
    path = Path(source)
    if path.suffix != ".toml" and os.sep not in source and "/" not in source:
        entry = resources.files(_DATA) / f"{source}.toml"
        if not entry.is_file():
            names = ", ".join(packaged_scenarios()) or "none"
            raise ScenarioError(
                f"no packaged scenario of that name (packaged: {names}); "
                "a file path must end in .toml",
                value=source,
                file=source,
            )
        text_bytes = entry.read_bytes()
        label = f"{source} (packaged)"
    else:
        try:
            text_bytes = path.read_bytes()
        except FileNotFoundError:
            raise ScenarioError("file not found", file=str(path)) from None
        except IsADirectoryError:
            raise ScenarioError("is a directory, not a scenario file", file=str(path)) from None
        except OSError as exc:
            raise ScenarioError(f"cannot read file ({exc.strerror})", file=str(path)) from None
        label = str(path)
    try:
        # utf-8-sig: a byte-order mark (Windows editors) is not part of the TOML text
        text = text_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
            file=label,
        ) from None
    return _parse_toml(text, label), label


def _parse_toml(text: str, label: str | None) -> dict[str, Any]:
    """Parse TOML text; every parser failure becomes a :class:`ScenarioError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"invalid TOML: {exc}", file=label) from None
    except RecursionError:
        # tomllib recurses per nesting level of arrays and inline tables
        raise ScenarioError(
            "invalid TOML: arrays or inline tables nested too deeply", file=label
        ) from None


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


def scenario_from_dict(data: dict[str, Any], *, file: str | None = None) -> Scenario:
    """Validate plain data (as parsed from TOML) into a :class:`Scenario`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = _from_validation_error(exc, data)
        raise (err.with_file(file) if file else err) from None
    except ScenarioError as err:
        raise (err.with_file(file) if file else err) from None


def load_scenario(
    source: str | os.PathLike[str], overrides: dict[str, Any] | None = None
) -> Scenario:
    """Load a packaged scenario by name or a scenario file by path.

    Parameters
    ----------
    source
        A packaged name such as ``"baseline"`` or a path to a ``.toml`` file.
    overrides
        Optional dotted-key overrides, e.g. ``{"hub.reach_stackers": 4}``.

    Raises
    ------
    ScenarioError
        The file cannot be read or parsed, or a field is invalid.
    """
    data, label = _read_toml(os.fspath(source))
    if overrides:
        data = _override_data(data, overrides, label)
    return scenario_from_dict(data, file=label)


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


def _override_data(
    data: dict[str, Any], overrides: dict[str, Any], label: str | None
) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            where = ".".join(parts[: i + 1])
            if isinstance(node, dict):
                if part not in node:
                    raise ScenarioError(
                        f"no such field to override ('{where}' does not exist)",
                        field=key,
                        value=value,
                        file=label,
                    )
                if last:
                    node[part] = value
                else:
                    node = node[part]
            elif isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(
                        f"no such list item ('{where}'; the list has {len(node)} items)",
                        field=key,
                        value=value,
                        file=label,
                    )
                if last:
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


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A new scenario with dotted-key overrides applied; the original is unchanged.

    Only keys present in the scenario (with defaults filled in) can be overridden, so a
    typo is an error, not a silently ignored setting.
    """
    data = _override_data(scenario.model_dump(mode="json", by_alias=True), overrides, None)
    return scenario_from_dict(data, file=None)


def save_scenario(scenario: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write a scenario as JSON-compatible TOML-free data (``.json``) and return its path.

    TOML is the input format; saved copies of a run's scenario are JSON, which keeps
    every value exactly and reads back with :func:`scenario_from_dict`.
    """
    import json

    path = Path(path)
    path.write_text(json.dumps(scenario.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
    return path
