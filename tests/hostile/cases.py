"""Hostile-input cases: each breaks one thing in a scenario, built when the tests run.

Most cases are mutations of the *parsed* packaged baseline (:class:`DataCase`): a few
:class:`Set`, :class:`Delete`, :class:`Insert` and :class:`Require` steps on dotted paths
(``"legs.1.km"``), written back with ``tomli_w``.  Every step checks that its target is
still in the baseline and raises :class:`BaselineChanged` otherwise, so a case fails
loudly instead of going stale when the baseline moves on.

What cannot be parsed data (bad bytes, bad TOML syntax, deep nesting) is a
:class:`RawCase`: a tiny hand-written file in ``corpus/`` or a few bytes given here.

Each case lists the dotted fields the one-paragraph error must name and, for each, the
offending value as the message prints it (``repr``, cut to 80 characters), plus any other
text the message must contain.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

import tomli_w

__all__ = [
    "BASELINE",
    "CASES",
    "CORPUS",
    "BaselineChanged",
    "Case",
    "DataCase",
    "Delete",
    "Insert",
    "RawCase",
    "Require",
    "Set",
    "baseline_data",
]

BASELINE = files("g60rail.scenario.data") / "baseline.toml"
CORPUS = Path(__file__).resolve().parent / "corpus"

Data = dict[str, Any]


class BaselineChanged(AssertionError):
    """A case's target is no longer in the packaged baseline: update the case."""


@functools.cache
def _baseline() -> Data:
    return tomllib.loads(BASELINE.read_text(encoding="utf-8"))


def baseline_data() -> Data:
    """A fresh deep copy of the parsed packaged baseline."""
    return copy.deepcopy(_baseline())


# -- steps on dotted paths -------------------------------------------------------------------
def _child(node: Any, part: str, path: str) -> Any:
    """``node[part]`` (a table key or a list index), or :class:`BaselineChanged`."""
    if isinstance(node, dict):
        if part not in node:
            raise BaselineChanged(f"{path!r}: no key {part!r} (has {sorted(node)})")
        return node[part]
    if isinstance(node, list):
        if not part.isdigit() or int(part) >= len(node):
            raise BaselineChanged(f"{path!r}: no item {part!r} in a list of {len(node)}")
        return node[int(part)]
    raise BaselineChanged(f"{path!r}: {part!r} is below a {type(node).__name__}, not a table")


def _parent(data: Data, path: str) -> tuple[dict[str, Any] | list[Any], str]:
    """The table or list holding the last part of ``path``, and that part."""
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = _child(node, part, path)
    if not isinstance(node, dict | list):
        raise BaselineChanged(f"{path!r}: the parent is a {type(node).__name__}, not a table")
    return node, last


class Step(Protocol):
    """One change to (or check of) the parsed baseline."""

    def apply(self, data: Data) -> None:
        """Change ``data`` in place; :class:`BaselineChanged` if the target is gone."""
        ...


@dataclass(frozen=True)
class Set:
    """Replace the value at an existing ``path``."""

    path: str
    value: Any

    def apply(self, data: Data) -> None:
        node, last = _parent(data, self.path)
        _child(node, last, self.path)  # must exist
        if isinstance(node, list):
            node[int(last)] = copy.deepcopy(self.value)
        else:
            node[last] = copy.deepcopy(self.value)


@dataclass(frozen=True)
class Delete:
    """Remove the key at an existing ``path``."""

    path: str

    def apply(self, data: Data) -> None:
        node, last = _parent(data, self.path)
        _child(node, last, self.path)
        if not isinstance(node, dict):
            raise BaselineChanged(f"{self.path!r}: can only delete table keys")
        del node[last]


@dataclass(frozen=True)
class Insert:
    """Add a new key at ``path``: its table must exist and the key must not."""

    path: str
    value: Any

    def apply(self, data: Data) -> None:
        node, last = _parent(data, self.path)
        if not isinstance(node, dict):
            raise BaselineChanged(f"{self.path!r}: can only insert into a table")
        if last in node:
            raise BaselineChanged(f"{self.path!r}: already in the baseline, the case adds it")
        node[last] = copy.deepcopy(self.value)


@dataclass(frozen=True)
class Require:
    """Check that the baseline still has ``value`` at ``path`` (what the case relies on)."""

    path: str
    value: Any

    def apply(self, data: Data) -> None:
        node, last = _parent(data, self.path)
        found = _child(node, last, self.path)
        if found != self.value:
            raise BaselineChanged(f"{self.path!r} is {found!r}, the case needs {self.value!r}")


# -- cases -----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Case:
    """What the error message for one hostile file must contain.

    ``fields`` maps each dotted field the message must name (as ``field '...'``) to the
    value it must print right after (``value ...``; a prefix is enough), or ``None`` when no
    value belongs to it (a missing field).  ``also`` lists other required text.
    """

    name: str
    doc: str
    fields: Mapping[str, str | None] = field(default_factory=dict)
    also: tuple[str, ...] = ()

    def expected(self) -> tuple[str, ...]:
        """The substrings the one-paragraph message must contain."""
        parts = [
            f"field '{f}'" if v is None else f"field '{f}' value {v}"
            for f, v in self.fields.items()
        ]
        return (*parts, *self.also)

    def write(self, folder: Path) -> Path:
        """The hostile file for this case (written into ``folder`` if generated)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class DataCase(Case):
    """The packaged baseline, parsed, changed by ``steps`` and written with ``tomli_w``.

    ``written`` lists regular expressions the written TOML must match, to pin the shape
    of what ``tomli_w`` writes (a string, or a local or offset datetime).
    """

    steps: tuple[Step, ...]
    written: tuple[str, ...] = ()

    def build(self) -> Data:
        """The mutated baseline; :class:`BaselineChanged` names the case if a step fails."""
        data = baseline_data()
        for step in self.steps:
            try:
                step.apply(data)
            except BaselineChanged as exc:
                raise BaselineChanged(
                    f"baseline changed: hostile case {self.name!r} ({self.doc}) cannot be "
                    f"applied to {BASELINE}: {exc}. Update the case in tests/hostile/cases.py."
                ) from None
        return data

    def write(self, folder: Path) -> Path:
        text = tomli_w.dumps(self.build())
        for shape in self.written:
            assert re.search(shape, text), f"{self.name}: {shape!r} not in the written TOML"
        path = folder / f"{self.name}.toml"
        path.write_text(text, encoding="utf-8", newline="\n")
        return path


@dataclass(frozen=True, kw_only=True)
class RawCase(Case):
    """Bytes no parsed data can produce: ``content`` here, or ``corpus/<name>.toml``."""

    content: bytes | None = None

    def write(self, folder: Path) -> Path:
        if self.content is None:
            path = CORPUS / f"{self.name}.toml"
            assert path.is_file(), f"{self.name}: hand-written file {path} is missing"
            return path
        path = folder / f"{self.name}.toml"
        path.write_bytes(self.content)
        return path


def _closure(kind: str, where: list[str], start: dt.datetime, end: dt.datetime) -> Insert:
    """A ``[disruptions]`` section (absent from the baseline) with one closure."""
    item = {"kind": kind, "where": where, "start": start, "end": end, "reason": "hostile"}
    return Insert("disruptions", {"closures": [item]})


def _breakdown(place: str, mtbf_h: float) -> Insert:
    """A ``[disruptions]`` section (absent from the baseline) with one breakdown."""
    item = {"place": place, "equipment": "reach_stackers", "mtbf_h": mtbf_h, "repair_h": 6.0}
    return Insert("disruptions", {"breakdowns": [item]})


JUL10 = dt.datetime(2025, 7, 10)
JUL14 = dt.datetime(2025, 7, 14)
UTC7 = dt.timezone(dt.timedelta(hours=7))
UTC8 = dt.timezone(dt.timedelta(hours=8))
NAN, INF = float("nan"), float("inf")
T = "[T ]"  # a TOML datetime's date-time separator
LOCAL = r"(?![+\-Z\d.])"  # ... and the end of a local datetime: no offset follows
G60_ROUTE = "services.g60.route"
G60_DEMAND = "services.g60.demand"
G60_DEST = "services.g60.demand.destinations"

RAW_CASES: tuple[RawCase, ...] = (
    RawCase(
        name="malformed_toml",
        doc="a table header without its closing bracket",
        also=("invalid TOML", "line 2"),
    ),
    RawCase(
        name="duplicate_key",
        doc="the same key twice in one table",
        also=("invalid TOML", "line 4"),
    ),
    RawCase(
        name="bad_date",
        doc="a datetime that does not exist (30 February)",
        also=("invalid TOML", "line 4"),
    ),
    RawCase(
        name="empty_file",
        doc="an empty file: every required section missing",
        fields={"meta": None, "places": None, "hub": None},
    ),
    RawCase(
        name="not_utf8",
        doc="a Latin-1 byte in a string",
        content=b'[meta]\nname = "Mohan \xe9"\n',
        also=("not UTF-8", "0xe9"),
    ),
    RawCase(
        name="binary_garbage",
        doc="a PNG header and every byte value",
        content=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        also=("not UTF-8", "0x89"),
    ),
    RawCase(
        name="nul_bytes",
        doc="a NUL byte after a table header",
        content=b"[hub]\x00\nreach_stackers = 4\n",
        also=("invalid TOML", "line 1"),
    ),
    RawCase(
        name="deeply_nested",
        doc="5000 nested arrays (stresses a recursive parser)",
        content=b"[meta]\nextra_depth = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        also=("nested too deeply",),
    ),
)

DATA_CASES: tuple[DataCase, ...] = (
    # --- unknown keys, wrong types ------------------------------------------------------
    DataCase(
        name="unknown_key_hub",
        doc="hub.reach_stackers misspelt as reach_stacker",
        steps=(Delete("hub.reach_stackers"), Insert("hub.reach_stacker", 4)),
        fields={"hub.reach_stacker": "4", "hub.reach_stackers": None},
    ),
    DataCase(
        name="unknown_section",
        doc="a top-level section the schema does not know",
        steps=(Insert("weather", {"rain": True}),),
        fields={"weather": "{'rain': True}"},
    ),
    DataCase(
        name="wrong_type_string",
        doc="a count given as a word",
        steps=(Set("hub.reach_stackers", "four"),),
        fields={"hub.reach_stackers": "'four'"},
    ),
    DataCase(
        name="wrong_type_fraction",
        doc="a count with a fractional part",
        steps=(Set("hub.gate_lanes", 2.5),),
        fields={"hub.gate_lanes": "2.5"},
    ),
    DataCase(
        name="wrong_type_route",
        doc="a route given as one string, not a list",
        steps=(Set(G60_ROUTE, "songjiang"),),
        fields={G60_ROUTE: "'songjiang'"},
    ),
    DataCase(
        name="date_as_text",
        doc="meta.start given as free text (a TOML string, not a datetime)",
        steps=(Set("meta.start", "next monday"),),
        fields={"meta.start": "'next monday'"},
        written=(r'start = "next monday"\n',),
    ),
    DataCase(
        name="timezone_start",
        doc="meta.start with a UTC offset (an offset datetime, not a local one)",
        steps=(Set("meta.start", dt.datetime(2025, 1, 6, tzinfo=UTC8)),),
        fields={"meta.start": "datetime.datetime(2025, 1, 6, 0, 0, tzinfo="},
        written=(rf"start = 2025-01-06{T}00:00:00\+08:00\n",),
    ),
    DataCase(
        name="missing_field",
        doc="a required hub field left out",
        steps=(Delete("hub.reach_stackers"),),
        fields={"hub.reach_stackers": None},
        also=("Field required",),
    ),
    # --- NaN, infinity, huge numbers ----------------------------------------------------
    DataCase(
        name="nan_moves",
        doc="a rate that is not a number",
        steps=(Set("hub.moves_per_h", NAN),),
        fields={"hub.moves_per_h": "nan"},
    ),
    DataCase(
        name="inf_speed",
        doc="an infinite leg speed",
        steps=(Set("legs.1.speed_kmh", INF),),
        fields={"legs.1.speed_kmh": "inf"},
    ),
    DataCase(
        name="nan_latitude",
        doc="a coordinate that is not a number",
        steps=(Set("places.songjiang.lat", NAN),),
        fields={"places.songjiang.lat": "nan"},
    ),
    DataCase(
        name="neg_inf_dwell",
        doc="a distribution with mean minus infinity",
        steps=(Set("hub.dwell_h", {"dist": "lognormal", "mean": -INF, "cv": 0.3}),),
        fields={"hub.dwell_h.mean": "-inf"},
    ),
    DataCase(
        name="huge_yard",
        doc="an integer beyond 64 bits",
        steps=(Set("hub.yard_teu", 10**30 - 1),),
        fields={"hub.yard_teu": "999999999999999999999999999999"},
    ),
    DataCase(
        name="huge_stackers",
        doc="a billion reach stackers",
        steps=(Set("hub.reach_stackers", 10**9),),
        fields={"hub.reach_stackers": "1000000000"},
    ),
    DataCase(
        name="huge_demand",
        doc="an absurd weekly demand",
        steps=(Set(f"{G60_DEMAND}.teu_per_week", 1e15),),
        fields={f"{G60_DEMAND}.teu_per_week": "1000000000000000.0"},
    ),
    # --- capacities and probabilities ---------------------------------------------------
    DataCase(
        name="negative_stackers",
        doc="a negative count",
        steps=(Set("hub.reach_stackers", -1),),
        fields={"hub.reach_stackers": "-1"},
    ),
    DataCase(
        name="zero_gate_lanes",
        doc="a hub without gate lanes",
        steps=(Set("hub.gate_lanes", 0),),
        fields={"hub.gate_lanes": "0"},
    ),
    DataCase(
        name="zero_train_capacity",
        doc="the G60 train holds no TEU",
        steps=(Set("services.g60.capacity_teu", 0),),
        fields={"services.g60.capacity_teu": "0"},
    ),
    DataCase(
        name="zero_officers",
        doc="a border post without officers",
        steps=(Set("borders.mohan.officers", 0),),
        fields={"borders.mohan.officers": "0"},
    ),
    DataCase(
        name="negative_km",
        doc="a leg of negative length",
        steps=(Set("legs.1.km", -613),),
        fields={"legs.1.km": "-613"},
    ),
    DataCase(
        name="negative_dwell",
        doc="a negative constant dwell",
        steps=(Set("hub.dwell_h", -5.0),),
        fields={"hub.dwell_h": "-5.0"},
    ),
    DataCase(
        name="probability_above_one",
        doc="an inspection share above 1",
        steps=(Set("borders.mohan.inspect_share_exit", 1.5),),
        fields={"borders.mohan.inspect_share_exit": "1.5"},
    ),
    DataCase(
        name="road_share_above_one",
        doc="a road share above 1",
        steps=(Set(f"{G60_DEMAND}.road_share", 1.01),),
        fields={f"{G60_DEMAND}.road_share": "1.01"},
    ),
    DataCase(
        name="eleven_months",
        doc="seasonality with 11 monthly factors instead of 12",
        steps=(Set(f"{G60_DEMAND}.seasonality", [1.0] * 11),),
        fields={f"{G60_DEMAND}.seasonality": repr([1.0] * 11)},
    ),
    DataCase(
        name="hybrid_fill_over_capacity",
        doc="a hybrid train's minimum fill above its capacity",
        steps=(Require("services.g60.policy", "hybrid"), Set("services.g60.min_fill_teu", 300)),
        fields={"services.g60.min_fill_teu": "300"},
    ),
    DataCase(
        name="bad_distribution",
        doc="a distribution family the schema does not know",
        steps=(Set("hub.dwell_h", {"dist": "weibull", "mean": 72.0}),),
        fields={"hub.dwell_h": "{'dist': 'weibull', 'mean': 72.0}"},
    ),
    DataCase(
        name="uniform_inverted",
        doc="a uniform distribution with low above high",
        steps=(Set("borders.mohan.scan_h", {"dist": "uniform", "low": 0.0333, "high": 0.0167}),),
        fields={"borders.mohan.scan_h": "{'dist': 'uniform', 'low': 0.0333, 'high': 0.0167}"},
    ),
    # --- time windows and timetables ----------------------------------------------------
    DataCase(
        name="closure_inverted",
        doc="a line closure that ends before it starts",
        steps=(_closure("line", ["boten", "vientiane"], JUL14, JUL10),),
        fields={"disruptions.closures.0": "{'kind': 'line', 'where': ['boten', 'vientiane']"},
        also=("2025-07-10", "2025-07-14"),
        written=(rf"start = 2025-07-14{T}00:00:00{LOCAL}", rf"end = 2025-07-10{T}00:00:00{LOCAL}"),
    ),
    DataCase(
        name="closure_empty_window",
        doc="a border closure that ends when it starts",
        steps=(_closure("border", ["mohan"], JUL14, JUL14),),
        fields={"disruptions.closures.0": "{'kind': 'border', 'where': ['mohan']"},
        also=("2025-07-14",),
        written=(rf"start = 2025-07-14{T}00:00:00{LOCAL}", rf"end = 2025-07-14{T}00:00:00{LOCAL}"),
    ),
    DataCase(
        name="opening_empty",
        doc="a border opening window that closes when it opens",
        steps=(Insert("borders.mohan.opening", {"open": "08:00", "close": "08:00"}),),
        fields={"borders.mohan.opening.close": "'08:00'"},
    ),
    DataCase(
        name="opening_bad_time",
        doc="a border opening at 25:00",
        steps=(Insert("borders.mohan.opening", {"open": "25:00", "close": "18:00"}),),
        fields={"borders.mohan.opening.open": "'25:00'"},
    ),
    DataCase(
        name="empty_timetable",
        doc="a service without departures",
        steps=(Set("services.g60.departures", []),),
        fields={"services.g60.departures": "[]"},
    ),
    DataCase(
        name="bad_departure_time",
        doc="a departure at 25:61",
        steps=(Set("services.g60.departures", ["Wed 25:61"]),),
        fields={"services.g60.departures": "['Wed 25:61']"},
    ),
    # --- references ----------------------------------------------------------------------
    DataCase(
        name="unknown_place_leg",
        doc="a leg to a misspelt place",
        steps=(Require("legs.3.to", "mohan"), Set("legs.3.to", "moham")),
        fields={"legs.3.to": "'moham'"},
    ),
    DataCase(
        name="unknown_place_route",
        doc="a route through a misspelt place",
        steps=(Set(G60_ROUTE, ["songjiang", "kunming", "mohan", "boten", "vientane"]),),
        fields={f"{G60_ROUTE}.4": "'vientane'"},
    ),
    DataCase(
        name="leg_to_itself",
        doc="a leg that starts and ends at the same place",
        steps=(Require("legs.3.from", "kunming"), Set("legs.3.to", "kunming")),
        fields={"legs.3.to": "'kunming'"},
    ),
    DataCase(
        name="line_station_without_tracks",
        doc="a passing station inside a line with no track count",
        steps=(
            Require("lines.china_laos.stations.6.id", "loop_537"),
            Delete("lines.china_laos.stations.6.tracks"),
        ),
        fields={"lines.china_laos.stations.6.tracks": "None"},
    ),
    DataCase(
        name="line_km_backwards",
        doc="a line station before the previous one in route km",
        steps=(
            Require("lines.china_laos.stations.2.id", "yuanjiang"),
            Set("lines.china_laos.stations.2.km", 50.0),
        ),
        fields={"lines.china_laos.stations.2.km": "50.0"},
    ),
    DataCase(
        name="line_unknown_section",
        doc="an override for a section that joins no two consecutive stations",
        steps=(Insert("lines.china_laos.sections.kunming_mohan", {"track": "double"}),),
        fields={"lines.china_laos.sections.kunming_mohan": "'kunming_mohan'"},
    ),
    DataCase(
        name="line_one_track_loop",
        doc="a passing loop with one track (meets need two)",
        steps=(Set("lines.china_laos.stations.6.tracks", 1),),
        fields={"lines.china_laos.stations.6.tracks": "1"},
    ),
    DataCase(
        name="rail_leg_doubles_a_line",
        doc="a rail leg between two stations of a line",
        steps=(Require("legs.1.from", "songjiang"), Set("legs.1.to", "kunming")),
        fields={"legs.1": "['songjiang', 'kunming']"},
    ),
    DataCase(
        name="route_without_leg",
        doc="a route between two places no rail leg joins",
        steps=(Set(G60_ROUTE, ["songjiang", "vientiane"]),),
        fields={G60_ROUTE: "['songjiang', 'vientiane']"},
    ),
    DataCase(
        name="duplicate_stop",
        doc="a route that visits a place twice",
        steps=(Set(G60_ROUTE, ["songjiang", "kunming", "songjiang"]),),
        fields={G60_ROUTE: "['songjiang', 'kunming', 'songjiang']"},
    ),
    DataCase(
        name="unknown_destination",
        doc="demand bound for a place that does not exist",
        steps=(Insert(f"{G60_DEST}.atlantis", 0.5),),
        fields={f"{G60_DEST}.atlantis": "'atlantis'"},
    ),
    DataCase(
        name="unreachable_destination",
        doc="G60 demand bound for the China-Europe exit, off its network",
        steps=(Require("places.alashankou.kind", "exit"), Insert(f"{G60_DEST}.alashankou", 0.5)),
        fields={f"{G60_DEST}.alashankou": "'alashankou'"},
    ),
    DataCase(
        name="road_route_gap",
        doc="a road route between places no road leg joins",
        steps=(Set("road.route", ["songjiang", "vientiane"]),),
        fields={"road.route.1": "'vientiane'"},
    ),
    DataCase(
        name="breakdown_no_hub",
        doc="a breakdown at a border port, which has no hub or terminal",
        steps=(Require("places.mohan.kind", "border"), _breakdown("mohan", 300.0)),
        fields={"disruptions.breakdowns.0.place": "'mohan'"},
    ),
    DataCase(
        name="breakdown_zero_mtbf",
        doc="equipment that fails continuously",
        steps=(_breakdown("songjiang", 0.0),),
        fields={"disruptions.breakdowns.0.mtbf_h": "0.0"},
    ),
    DataCase(
        name="closure_not_a_border",
        doc="a border closure at a terminal",
        steps=(
            Require("places.kunming.kind", "terminal"),
            _closure("border", ["kunming"], JUL10, JUL14),
        ),
        fields={"disruptions.closures.0.where.0": "'kunming'"},
    ),
    DataCase(
        name="closure_no_such_leg",
        doc="a line closure between places no leg joins",
        steps=(_closure("line", ["songjiang", "vientiane"], JUL10, JUL14),),
        fields={"disruptions.closures.0.where": "['songjiang', 'vientiane']"},
    ),
    DataCase(
        name="closure_timezone",
        doc="a closure window with UTC offsets",
        steps=(
            _closure(
                "line",
                ["boten", "vientiane"],
                JUL10.replace(tzinfo=UTC7),
                JUL14.replace(tzinfo=UTC7),
            ),
        ),
        fields={
            "disruptions.closures.0.start": "'2025-07-10T00:00:00+07:00'",
            "disruptions.closures.0.end": "'2025-07-14T00:00:00+07:00'",
        },
        written=(rf"start = 2025-07-10{T}00:00:00\+07:00", rf"end = 2025-07-14{T}00:00:00\+07:00"),
    ),
)

CASES: tuple[Case, ...] = RAW_CASES + DATA_CASES
