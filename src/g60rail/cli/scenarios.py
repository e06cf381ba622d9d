"""``g60rail scenarios``, ``validate``, ``show`` and ``keys``: what is packaged, whether a
scenario file is valid (optionally against the calibration targets), a scenario resolved
from its bases as one TOML file, and the dotted keys that ``--set`` can override."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from g60rail.cli.common import MAX_SEED, UserError, check_dates, parse_sets, positive_days, seed_arg
from g60rail.scenario.schema import Scenario

__all__ = ["KeyInfo", "format_keys", "overridable_keys", "register", "show_toml"]


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from g60rail.scenario.io import packaged_scenarios

    for name, desc in packaged_scenarios().items():
        print(f"{name:<24} {desc}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from g60rail.geo import leg_table
    from g60rail.scenario.io import load_scenario

    if args.json and not args.calibration:
        raise UserError("--json prints the calibration table: give --calibration too")
    sc = load_scenario(args.file)
    # with --json, standard output carries the JSON alone: the report goes to stderr
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(f"{args.file}: valid scenario {sc.meta.name!r} (hash {sc.hash})")
    if len(sc.base_chain) > 1:
        say(f"  resolved from {' <- '.join(sc.base_chain)}")
    say(
        f"  {len(sc.places)} places, {len(sc.legs)} legs, {len(sc.services)} services, "
        f"{len(sc.borders)} border ports, station: {'yes' if sc.station else 'no'}"
    )
    for g in leg_table(sc.places, sc.legs):
        flag = "" if g.circuity >= 1.0 else "   <- route km shorter than the geodesic!"
        say(
            f"  leg {g.from_:>12} - {g.to:<12} {g.mode:<10} {g.km:8.0f} km "
            f"(geodesic {g.geodesic_km:7.0f} km){flag}"
        )
    if args.calibration:
        import g60rail as g6
        from g60rail.experiment.calibration import (
            calibration_records,
            calibration_table,
            format_calibration,
        )

        check_dates(sc, args.days)
        say(
            f"\ncalibration: {args.days:g} days, seed {args.seed} (targets: published "
            "figures on the corridor; each target's source is in "
            "g60rail.experiment.calibration.TARGETS)"
        )
        sys.stdout.flush()
        table = calibration_table(g6.simulate(sc, days=args.days, seed=args.seed))
        if args.json:
            print(json.dumps(calibration_records(table), indent=2, ensure_ascii=False))
        else:
            print(format_calibration(table))
    return 0


# -- show ----------------------------------------------------------------------------------
def show_toml(scenario: Scenario, source: str, sets: list[str] | None = None) -> str:
    """The resolved ``scenario`` as one TOML document, headed by where it comes from.

    Every value is written out, defaults included, without ``meta.base``: loading the text
    gives a scenario with the same :attr:`~g60rail.scenario.schema.Scenario.hash`.
    """
    import tomli_w

    chain = " <- ".join(scenario.base_chain) or source
    head = [
        f"# g60rail show {source}: the scenario resolved from {chain}",
        "# (bases merged, defaults filled in; it has no base and loads as it is).",
    ]
    if sets:
        head.append(f"# Overrides: {', '.join(sets)}")
    head.append("# The sources of its numbers are cited in the files it was resolved from.")
    data = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    return "\n".join(head) + "\n\n" + tomli_w.dumps(data)


def _cmd_show(args: argparse.Namespace) -> int:
    from g60rail.scenario.io import load_scenario

    scenario = load_scenario(args.scenario, overrides=parse_sets(args.set))
    sys.stdout.write(show_toml(scenario, args.scenario, args.set))
    return 0


# -- keys ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyInfo:
    """One overridable dotted key of a scenario.

    Attributes
    ----------
    key
        The dotted key, as ``--set`` and ``Scenario.with_overrides`` take it.
    type
        ``int``, ``float``, ``str``, ``bool``, ``datetime``, ``date``, ``list`` or
        ``table`` (an empty one); ``|dist`` when a distribution may replace a number.
    unit
        The unit (from the field's name suffix or description), choices, or ``""``.
    value
        The value in the scenario (``None`` for an unset optional field).
    """

    key: str
    type: str
    unit: str
    value: Any


_NAMED_UNITS = {
    "km": "km",
    "lat": "deg N",
    "lon": "deg E",
    "cv": "- (cv)",
    "capital": "USD",
    "operating_per_year": "USD/year",
    "life_years": "years",
    "country": "ISO 3166 code",
    "start": "local time",
    "end": "local time",
    "open": "hh:mm",
    "close": "hh:mm",
    "departures": "weekly time",
    "origins": "weight",
    "destinations": "weight",
    "seasonality": "factor",
    "dist": "distribution",
}
_SUFFIX_UNITS = (
    ("_kmh", "km/h"),
    ("_km", "km"),
    ("_min", "min"),
    ("_s", "s"),
    ("_h", "h"),
    ("_teu", "TEU"),
    ("_pax", "passengers"),
    ("_share", "share 0-1"),
    ("_factor", "factor"),
    ("_multiplier", "factor"),
    ("_multipliers", "factor"),
    ("_cv", "- (cv)"),
)
_SHORT = {"teu": "TEU", "hour": "h"}


def _unit(name: str, info: FieldInfo | None, value: Any) -> str:
    """The unit of field ``name``: a known name, ``[unit]`` in its description, its
    suffix (``_h`` hours, ``_km``, ``_per_week`` ...), a probability, or its choices."""
    desc = (info.description or "") if info is not None else ""
    if name in _NAMED_UNITS:
        return _NAMED_UNITS[name]
    if "[" in desc and desc.rstrip(". ").endswith("]"):
        return desc.rstrip(". ").rsplit("[", 1)[1].rstrip("]")
    if "_per_" in name:
        what, per = name.rsplit("_per_", 1)
        left = _unit(what, None, value) if "_" in what else ""
        left = left or _SHORT.get(what.rsplit("_", 1)[-1], what.rsplit("_", 1)[-1])
        return f"{left}/{_SHORT.get(per, per)}"
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    if "share" in name or (info is not None and _is_probability(info)):
        return "share 0-1"
    if info is not None:
        choices = _literal_choices(info.annotation)
        if choices:
            return "one of: " + ", ".join(choices)
    if isinstance(value, int) and not isinstance(value, bool):
        return "count"
    return ""


def _is_probability(info: FieldInfo) -> bool:
    bounds = {type(m).__name__: m for m in info.metadata}
    ge, le = bounds.get("Ge"), bounds.get("Le")
    return getattr(ge, "ge", None) == 0 and getattr(le, "le", None) == 1


def _members(annotation: Any) -> Iterator[Any]:
    """The plain types an annotation is made of (through Annotated, unions, lists, dicts)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _members(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _members(arg)
    elif origin in (list, tuple):
        yield from _members(typing.get_args(annotation)[0])
    elif origin is dict:
        yield from _members(typing.get_args(annotation)[-1])
    else:
        yield annotation


def _literal_choices(annotation: Any) -> list[str]:
    for member in _members(annotation):
        if typing.get_origin(member) is typing.Literal:
            return [str(a) for a in typing.get_args(member)]
    return []


def _is_dist(member: Any) -> bool:
    return (
        isinstance(member, type) and issubclass(member, BaseModel) and "dist" in member.model_fields
    )


_TYPE_NAMES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    dt.datetime: "datetime",
    dt.date: "date",
}


def _type_name(value: Any, info: FieldInfo | None) -> str:
    members = list(_members(info.annotation)) if info is not None else []
    if value is None:
        names = [_TYPE_NAMES.get(m, "") for m in members if m is not type(None)]
        names = [n for n in names if n] + (["dist"] if any(map(_is_dist, members)) else [])
        return "|".join(dict.fromkeys(names)) or "?"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table"
    name = next(n for t, n in _TYPE_NAMES.items() if isinstance(value, t))
    if name == "int" and float in members:
        name = "float"
    if name in ("int", "float") and any(map(_is_dist, members)):
        name += "|dist"
    return name


def _walk(
    value: Any, key: str, name: str, info: FieldInfo | None, unit: str | None
) -> Iterator[KeyInfo]:
    if isinstance(value, BaseModel):
        is_dist = "dist" in type(value).model_fields
        # a distribution's parameters are in its field's unit (its cv and name have none)
        dist_unit = (unit if unit is not None else _unit(name, info, None)) if is_dist else None
        for fname, finfo in type(value).model_fields.items():
            alias = finfo.alias or fname
            sub = f"{key}.{alias}" if key else alias
            inherited = dist_unit if alias not in ("cv", "dist") else None
            yield from _walk(getattr(value, fname), sub, alias, finfo, inherited)
        return
    if isinstance(value, (dict, list, tuple)) and value:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            yield from _walk(v, f"{key}.{k}", name, info, unit)
        return
    if isinstance(value, tuple):
        value = list(value)
    yield KeyInfo(
        key,
        _type_name(value, info),
        unit if unit is not None else _unit(name, info, value),
        value,
    )


def overridable_keys(scenario: Scenario) -> list[KeyInfo]:
    """Every dotted key of ``scenario`` that an override can set, with type and unit.

    These are the scalar leaves of the scenario with defaults filled in (list items as
    ``name.0``, ``name.1`` ...; empty lists and tables whole), exactly the keys that
    :meth:`Scenario.with_overrides` and ``g60rail run --set`` accept.
    """
    out: list[KeyInfo] = []
    for fname, finfo in type(scenario).model_fields.items():
        name = finfo.alias or fname
        out.extend(_walk(getattr(scenario, fname), name, name, finfo, None))
    return out


def _show_value(value: Any, limit: int = 40) -> str:
    if value is None:
        text = "(unset)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, (dt.date, dt.datetime)):
        text = value.isoformat()
    elif isinstance(value, list | dict):
        text = "[]" if isinstance(value, list) else "{}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_keys(keys: list[KeyInfo], value_header: str) -> str:
    """A text table with a row per key: key, type, value and unit (the unit last, as it
    may be a list of choices)."""
    rows = [(k.key, k.type, _show_value(k.value), k.unit) for k in keys]
    head = ("key", "type", value_header, "unit")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    rule = "  ".join("-" * w for w in [*widths, 4])
    lines = []
    for row in [head, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    lines.insert(1, rule)
    return "\n".join(lines)


def _cmd_keys(args: argparse.Namespace) -> int:
    from g60rail.scenario.io import load_scenario

    scenario = load_scenario(args.scenario)
    keys = overridable_keys(scenario)
    prefix = args.prefix or ""
    chosen = [k for k in keys if k.key.startswith(prefix)]
    if not chosen:
        sections = ", ".join(dict.fromkeys(k.key.split(".", 1)[0] for k in keys))
        raise UserError(
            f"no overridable key of {args.scenario} starts with {prefix!r} "
            f"(its sections: {sections})"
        )
    print(format_keys(chosen, args.scenario))
    print(
        f"\n{len(chosen)} keys; override one with --set KEY=VALUE (a TOML value) or "
        "Scenario.with_overrides({KEY: value})"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``scenarios``, ``validate``, ``show`` and ``keys`` to the ``g60rail`` parser."""
    sc = sub.add_parser(
        "scenarios",
        help="list packaged scenarios",
        description="List the scenarios packaged with g60rail, each with the question it "
        "answers; run one with g60rail run NAME, print it with g60rail show NAME.",
    )
    sc.set_defaults(func=_cmd_scenarios)

    val = sub.add_parser(
        "validate",
        help="check a scenario file and say what is wrong",
        description="Check a scenario file (or a packaged name): its TOML, every field's "
        "type and range, the references between sections, its size and dates.  Exit 0 "
        "when valid, 2 with one message naming the file, the field and the value when not.  "
        "With --calibration, also simulate it and compare with the published figures the "
        "baseline is calibrated to.",
    )
    val.add_argument("file", help="path to a .toml scenario file (or a packaged name)")
    val.add_argument(
        "--calibration",
        action="store_true",
        help="also simulate and compare with the published calibration targets",
    )
    val.add_argument(
        "--json",
        action="store_true",
        help="with --calibration: print the table as a JSON list of targets (quantity, kpi, "
        "low, high, unit, value, kind, ok, target, source, basis), the report on stderr",
    )
    val.add_argument(
        "--days", type=positive_days, default=365.0, help="simulated days for --calibration (365)"
    )
    val.add_argument(
        "--seed",
        type=seed_arg,
        default=0,
        help=f"random seed for --calibration, 0 to {MAX_SEED} (0)",
    )
    val.set_defaults(func=_cmd_validate)

    show = sub.add_parser(
        "show",
        help="print a scenario resolved from its bases (and overrides) as TOML",
        description="Print a scenario resolved from its bases, with every default filled "
        "in and the --set overrides applied, as one TOML file that loads to the same "
        "scenario (g60rail show peak_season > peak.toml).",
    )
    show.add_argument("scenario", help="packaged scenario name or path to a .toml file")
    show.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a field, e.g. --set hub.reach_stackers=4 (repeatable)",
    )
    show.set_defaults(func=_cmd_show)

    keys = sub.add_parser(
        "keys",
        help="list the dotted keys --set can override",
        description="List the dotted keys that --set (and Scenario.with_overrides) can "
        "override, with their type, unit and value in a scenario.",
    )
    keys.add_argument("prefix", nargs="?", default="", help="only keys starting with this")
    keys.add_argument(
        "--scenario",
        default="baseline",
        help="scenario whose keys and values to list (default: baseline)",
    )
    keys.set_defaults(func=_cmd_keys)
