"""Load, override and save scenarios.

A scenario is named either by a packaged name (``"baseline"``, see
:func:`packaged_scenarios`) or by a path to a TOML file.  Every problem becomes a
:class:`~g60rail.errors.ScenarioError` that names the file, the dotted field and the value.

Scenarios that build on others
------------------------------
A file can name its base and hold only what it changes::

    [meta]
    base = "baseline"                 # a packaged name, or a path ending in .toml,
                                      # relative to the folder of this file
    remove = ["station"]              # inherited sections or keys to drop (dotted)
    name = "peak_season"

The file is laid over its base by three rules:

1. **Tables merge key by key**, recursively: ``[hub]`` with ``reach_stackers = 6`` changes
   that key and keeps every other key of the base's ``[hub]``.
2. **An array replaces the inherited array whole**, arrays of tables (``[[legs]]``)
   included: a file that gives ``[[legs]]`` gives all of its legs.
3. **``meta.remove`` drops inherited keys** before the file is laid over its base: each
   entry is a dotted key (``"station"``, ``"disruptions.breakdowns"``,
   ``"services.g60.demand.booking_lead_h"``); a key the base does not have is an error
   naming it.  Removing a table and giving it again replaces it instead of merging.

A base can have a base of its own (a delta on a delta); a cycle, a missing base file or an
unknown packaged base is an error naming the files involved.  A packaged scenario names its
base by packaged name.  ``meta.base`` and ``meta.remove`` are consumed here: what is
validated, hashed, run and saved is the resolved scenario, which records where it came
from in :attr:`Scenario.base_chain <g60rail.scenario.schema.Scenario.base_chain>`.
Overrides (``load_scenario(source, overrides=...)``, ``g60rail run --set``) apply to the
resolved scenario, with every default filled in.

Limits
------
A scenario file is a regular file of at most :data:`MAX_FILE_BYTES` (5 MB; the packaged
baseline is about 40 kB): a folder, a named pipe, a device such as ``/dev/zero`` or a
larger file is refused before it is read.  A resolved scenario whose size would explode a
run is refused with the limit named (:data:`LIMITS`): at most 200 services, 3,000 train
departures a week (freight services and passenger paths together), 250,000 TEU booked a
week over all services and 2,000,000 station seats a day.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from g60rail.errors import ScenarioError
from g60rail.scenario.files import MAX_FILE_BYTES, read_file
from g60rail.scenario.overrides import dict_key, override_data, parse_override, validated
from g60rail.scenario.schema import Scenario, parse_weekly_time

__all__ = [
    "LIMITS",
    "MAX_FILE_BYTES",
    "apply_overrides",
    "check_size",
    "load_base",
    "load_scenario",
    "packaged_scenarios",
    "parse_override",
    "read_file",
    "resolve_scenario_data",
    "save_scenario",
    "scenario_from_dict",
]

_DATA = "g60rail.scenario.data"
_MAX_BASES = 32  # a longer chain of bases is a mistake, not a design

LIMITS: dict[str, int] = {
    "services": 200,
    "departures_per_week": 3_000,
    "teu_per_week": 250_000,
    "station_seats_per_day": 2_000_000,
}
"""Sizes above which a scenario is refused: its runs would take hours and gigabytes.

``services``: freight services; ``departures_per_week``: weekly departures of every
freight service and passenger path of the lines; ``teu_per_week``: the bookings of every
service together; ``station_seats_per_day``: seats of the station's departures a day."""


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


@dataclass(frozen=True)
class _Origin:
    """One file of a chain of bases: a packaged scenario or a file on disk."""

    label: str  # how messages name it: "baseline (packaged)" or the path
    key: str  # identity, to find cycles: "packaged:baseline" or the resolved path
    packaged: str | None = None  # the packaged name, or None for a file
    path: Path | None = None  # the file's path, or None for a packaged scenario


def _origin(source: str) -> _Origin:
    """Where a packaged name or a file path (as given by a user) is read from."""
    path = Path(source)
    if path.suffix != ".toml" and os.sep not in source and "/" not in source:
        return _Origin(f"{source} (packaged)", f"packaged:{source}", packaged=source)
    return _file_origin(path)


def _file_origin(path: Path) -> _Origin:
    try:
        key = str(path.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte: reading says
        key = os.path.abspath(path)
    return _Origin(str(path), f"file:{key}", path=path)


def _read_origin(origin: _Origin) -> dict[str, Any]:
    """The parsed TOML of one file of a chain (every read and parse error named)."""
    if origin.packaged is not None:
        source = origin.packaged
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
    else:
        assert origin.path is not None  # an origin is packaged or a file
        text_bytes = read_file(origin.path)
    label = origin.label
    try:
        # utf-8-sig: a byte-order mark (Windows editors) is not part of the TOML text
        text = text_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
            file=label,
        ) from None
    return _parse_toml(text, label)


# -- bases ---------------------------------------------------------------------------------
def _named_by(err: ScenarioError, naming: _Origin) -> ScenarioError:
    """``err`` (about a base) with the file that names that base added to its message."""
    kwargs: dict[str, Any] = {"field": err.field, "file": err.file, "problems": err.problems}
    if err.has_value:
        kwargs["value"] = err.value
    return ScenarioError(f"{err.message} (the base named by meta.base of {naming.label})", **kwargs)


def _base_origin(base: str, naming: _Origin) -> _Origin:
    """Where the base ``base`` named by the file ``naming`` is read from."""
    if base.endswith(".toml") and naming.packaged is not None:
        if "/" in base or os.sep in base:
            raise ScenarioError(
                "a packaged scenario names its base by packaged name",
                field="meta.base",
                value=base,
                file=naming.label,
            )
        base = base[: -len(".toml")]
    if not base.endswith(".toml"):
        if "/" in base or os.sep in base:
            raise ScenarioError(
                "a base is a packaged name or a path ending in .toml",
                field="meta.base",
                value=base,
                file=naming.label,
            )
        return _origin(base)
    assert naming.path is not None  # a packaged file's .toml base is a packaged name
    return _file_origin(Path(os.path.normpath(naming.path.parent / base)))


def _inheritance(data: dict[str, Any], origin: _Origin) -> tuple[str | None, list[str]]:
    """Take ``meta.base`` and ``meta.remove`` out of a file's data (checked)."""
    meta = data.get("meta")
    if not isinstance(meta, dict):
        return None, []
    base = meta.pop("base", None)
    remove = meta.pop("remove", [])
    if base is not None and (not isinstance(base, str) or not base.strip()):
        raise ScenarioError(
            "meta.base must be a packaged name or a path ending in .toml",
            field="meta.base",
            value=base,
            file=origin.label,
        )
    if not isinstance(remove, list) or not all(isinstance(k, str) and k for k in remove):
        raise ScenarioError(
            'meta.remove must be a list of dotted keys, e.g. ["station"]',
            field="meta.remove",
            value=remove,
            file=origin.label,
        )
    if remove and base is None:
        raise ScenarioError(
            "meta.remove needs a meta.base to remove keys from",
            field="meta.remove",
            value=remove,
            file=origin.label,
        )
    return (base.strip() if base is not None else None), remove


def _remove_keys(
    data: dict[str, Any], keys: list[str], naming: _Origin, base_label: str
) -> dict[str, Any]:
    """``data`` (a resolved base) without the dotted ``keys`` (each must exist)."""
    data = copy.deepcopy(data)
    for dotted in dict.fromkeys(keys):
        parts = dotted.split(".")
        node: Any = data
        i = 0
        while True:
            if isinstance(node, list):
                raise ScenarioError(
                    "cannot remove part of an array (arrays are replaced whole: give the "
                    "whole array in the file instead)",
                    field="meta.remove",
                    value=dotted,
                    file=naming.label,
                )
            found = dict_key(node, parts, i) if isinstance(node, dict) else None
            if found is None:
                raise ScenarioError(
                    f"no such key to remove in the base ({base_label})",
                    field="meta.remove",
                    value=dotted,
                    file=naming.label,
                )
            key, i = found
            if i == len(parts):
                del node[key]
                break
            node = node[key]
    return data


def _merge(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """``delta`` laid over ``base``: tables merge key by key, everything else replaces."""
    out = dict(base)
    for key, value in delta.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def resolve_scenario_data(
    source: str | os.PathLike[str],
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The plain data of a scenario with its chain of bases resolved, and that chain.

    Parameters
    ----------
    source
        A packaged name such as ``"peak_season"`` or a path to a ``.toml`` file.

    Returns
    -------
    data
        The merged data (``meta.base`` and ``meta.remove`` consumed), not yet validated.
    chain
        Labels of the files it was resolved from, ``source`` first and the root base last
        (see :attr:`Scenario.base_chain <g60rail.scenario.schema.Scenario.base_chain>`).

    Raises
    ------
    ScenarioError
        A file of the chain cannot be read or parsed, a base is missing or unknown, the
        bases form a cycle, or ``meta.remove`` names a key the base does not have.
    """
    origin = _origin(os.fspath(source))
    files: list[tuple[_Origin, dict[str, Any], list[str]]] = []
    seen: set[str] = set()
    while True:
        seen.add(origin.key)
        try:
            data = _read_origin(origin)
        except ScenarioError as err:
            raise (_named_by(err, files[-1][0]) if files else err) from None
        base, remove = _inheritance(data, origin)
        files.append((origin, data, remove))
        if base is None:
            break
        nxt = _base_origin(base, origin)
        if nxt.key in seen:
            cycle = " -> ".join([*(o.label for o, _, _ in files), nxt.label])
            raise ScenarioError(
                f"the bases form a cycle: {cycle}",
                field="meta.base",
                value=base,
                file=origin.label,
            )
        if len(files) >= _MAX_BASES:
            raise ScenarioError(
                f"more than {_MAX_BASES} bases in a chain", field="meta.base", file=origin.label
            )
        origin = nxt
    merged = files[-1][1]
    for (origin, data, remove), (base_origin, _, _) in zip(
        reversed(files[:-1]), reversed(files[1:]), strict=True
    ):
        if remove:
            merged = _remove_keys(merged, remove, origin, base_origin.label)
        merged = _merge(merged, data)
    return merged, tuple(o.label for o, _, _ in files)


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


def scenario_from_dict(
    data: dict[str, Any], *, file: str | None = None, base_chain: Sequence[str] = ()
) -> Scenario:
    """Validate plain data (as parsed from TOML) into a :class:`Scenario`.

    ``base_chain`` records where the data was resolved from (as a run's manifest lists
    it); see :attr:`Scenario.base_chain`.

    Raises
    ------
    ScenarioError
        A field is invalid, or the scenario is larger than :data:`LIMITS` allow.
    """
    scenario = validated(Scenario, data, file=file)
    check_size(scenario, file=file)
    return _with_chain(scenario, tuple(base_chain)) if base_chain else scenario


def check_size(scenario: Scenario, *, file: str | None = None) -> None:
    """Refuse a scenario whose size would explode a run (see :data:`LIMITS`).

    Raises
    ------
    ScenarioError
        Naming the section, its size and the limit.
    """
    departures = sum(len(s.weekly_departures_h) for s in scenario.services.values())
    for line in scenario.lines.values():
        for path in line.passenger_paths:
            departures += sum(len(parse_weekly_time(t)) for t in path.departures)
    teu = sum(s.demand.teu_per_week for s in scenario.services.values() if s.demand is not None)
    seats = 0.0
    if scenario.station is not None:
        seats = sum(x.departures_per_day * x.seats for x in scenario.station.services)
    sizes = (
        ("services", "services", len(scenario.services), "freight services"),
        ("departures_per_week", "services", departures, "train departures a week"),
        ("teu_per_week", "services", teu, "TEU booked a week over all services"),
        ("station_seats_per_day", "station.services", seats, "station seats a day"),
    )
    for limit, field, size, what in sizes:
        if size > LIMITS[limit]:
            raise ScenarioError(
                f"too large to simulate: {size:,.0f} {what}, at most {LIMITS[limit]:,} "
                "(g60rail.scenario.io.LIMITS)",
                field=field,
                file=file,
            )


def load_scenario(
    source: str | os.PathLike[str], overrides: dict[str, Any] | None = None
) -> Scenario:
    """Load a packaged scenario by name or a scenario file by path.

    A file that names a base (``[meta] base = ...``) is resolved first, see the module
    docstring; the result records its chain in :attr:`Scenario.base_chain`.

    Parameters
    ----------
    source
        A packaged name such as ``"baseline"`` or a path to a ``.toml`` file.
    overrides
        Optional dotted-key overrides, e.g. ``{"hub.reach_stackers": 4}``, applied to the
        resolved scenario (every key it has, defaults included, can be overridden).

    Raises
    ------
    ScenarioError
        A file of the chain cannot be read or parsed, a base is missing, or a field is
        invalid.
    """
    data, chain = resolve_scenario_data(source)
    # a delta's problems may come from any file of its chain: name them all
    label = " <- ".join(chain)
    scenario = scenario_from_dict(data, file=label)
    if overrides:
        data = override_data(scenario.model_dump(mode="json", by_alias=True), overrides, label)
        scenario = scenario_from_dict(data, file=label)
    return _with_chain(scenario, chain)


def load_base(scenario: Scenario) -> Scenario | None:
    """The scenario's first base (``base_chain[1]``), resolved, or None without one.

    Raises
    ------
    ScenarioError
        The base can no longer be read (a file moved or changed since).
    """
    chain = scenario.base_chain
    if len(chain) < 2:
        return None
    label = chain[1]
    packaged = " (packaged)"
    return load_scenario(label[: -len(packaged)] if label.endswith(packaged) else label)


def _with_chain(scenario: Scenario, chain: tuple[str, ...]) -> Scenario:
    """``scenario`` (just built, not yet shared) recording where it was resolved from."""
    scenario._base_chain = tuple(chain)
    return scenario


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A new scenario with dotted-key overrides applied; the original is unchanged.

    Only keys present in the scenario (with defaults filled in) can be overridden, so a
    typo is an error, not a silently ignored setting.  A key of a table may hold dots
    itself (``costs.units.hub.reach_stackers.capital``).  The new scenario keeps the
    original's :attr:`~g60rail.scenario.schema.Scenario.base_chain`.
    """
    return scenario.with_overrides(overrides)


def save_scenario(scenario: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write a scenario as JSON-compatible TOML-free data (``.json``) and return its path.

    TOML is the input format; saved copies of a run's scenario are JSON, which keeps
    every value exactly and reads back with :func:`scenario_from_dict`.
    """
    import json

    path = Path(path)
    path.write_text(json.dumps(scenario.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
    return path
