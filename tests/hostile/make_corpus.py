"""Generate the hostile-input corpus: the packaged baseline with one thing broken per file.

Run ``python tests/hostile/make_corpus.py`` to (re)write ``tests/hostile/corpus/``.  Each
case below names the file, how the baseline's text is changed, and what the error
message must contain (the dotted field, or for unreadable files the kind of problem).
``tests/hostile/test_hostile.py`` reads :data:`CASES` for its expectations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "src" / "g60rail" / "scenario" / "data" / "baseline.toml"
CORPUS = Path(__file__).resolve().parent / "corpus"

HUB_STACKERS = "reach_stackers = 4              # E: 3-4 reach stackers"
HUB_GATES = "gate_lanes = 4                                                     # estimate"
HUB_YARD = 'yard_teu = 2000                 # estimate (about 1.5x mean occupancy at 2 Mt/yr, E row "yard, equipment")'  # noqa: E501
HUB_MOVES = "moves_per_h = 22.0              # E: 20-25 moves/h at a rail terminal (Rodrigue)"
HUB_DWELL = 'dwell_h = { dist = "lognormal", mean = 72.0, cv = 0.35 }           # E: dwell 2-4 days, lognormal'  # noqa: E501
MOHAN_OFFICERS = "officers = 4                                                       # estimate"
MOHAN_SHARE = "inspect_share_exit = 0.04       # E: 3-5 % of exports\ninspect_share_entry = 0.075     # E: 5-10 % of imports\n\n[borders.boten]"  # noqa: E501
MOHAN_SCAN = (
    'scan_h = { dist = "uniform", low = 0.0167, high = 0.0333 }         # F: 1-2 min per train\n'
    'technical_h = { dist = "triangular", low = 1.0'
)
G60_DEPARTURES = 'departures = ["Tue 15:25", "Fri 15:25"]'
G60_ROUTE = 'route = ["songjiang", "kunming", "mohan", "boten", "vientiane"]\ndepartures'
G60_CAPACITY = "capacity_teu = 50               # F: 50 TEU (Baoji) within the 39-76 TEU examples"
G60_ROAD = "road_share = 0.1                # estimate"
G60_SEASON = "seasonality = [1.0, 0.7, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.15, 1.1, 1.0]"
G60_DEMAND = "teu_per_week = 100.0            # estimate: about 45 TEU per train by rail"
START = "start = 2025-01-06T00:00:00"
LEG0_TO = 'from = "songjiang"\nto = "kunming"\nmode = "rail"'
LEG1 = 'from = "kunming"\nto = "mohan"\nmode = "rail"\nkm = 613 '
LAT = "lat = 30.9834        # F"

CLOSURE = """
[[disruptions.closures]]
kind = "{kind}"
where = {where}
start = {start}
end = {end}
reason = "hostile corpus"
"""
BREAKDOWN = """
[[disruptions.breakdowns]]
place = "{place}"
equipment = "reach_stackers"
mtbf_h = {mtbf}
repair_h = 6.0
"""


@dataclass(frozen=True)
class Case:
    """One corpus file.

    Attributes
    ----------
    name
        File name in ``corpus/``.
    mutate
        Baseline text to the file's content (bytes allowed for encodings).
    expect
        Substrings the error message must contain (the dotted field first).
    """

    name: str
    mutate: Callable[[str], str | bytes]
    expect: tuple[str, ...]


def sub(old: str, new: str) -> Callable[[str], str]:
    """Replace the one occurrence of ``old`` in the baseline by ``new``."""

    def f(text: str) -> str:
        n = text.count(old)
        if n != 1:
            raise ValueError(f"{old!r} occurs {n} times in the baseline, expected once")
        return text.replace(old, new)

    return f


def append(extra: str) -> Callable[[str], str]:
    """Add ``extra`` TOML at the end of the baseline."""
    return lambda text: text + "\n" + extra + "\n"


def closure(kind: str, where: str, start: str, end: str) -> Callable[[str], str]:
    """Append one closure."""
    return append(CLOSURE.format(kind=kind, where=where, start=start, end=end))


def nested_arrays(depth: int) -> Callable[[str], str]:
    """A description made of ``depth`` nested arrays (stresses a recursive parser)."""
    return sub("[meta]\nname", "[meta]\nextra_depth = " + "[" * depth + "]" * depth + "\nname")


CASES: tuple[Case, ...] = (
    # --- unreadable files ---------------------------------------------------------------
    Case("malformed_toml.toml", sub("[hub]\n", "[hub\n"), ("invalid TOML",)),
    Case(
        "duplicate_key.toml",
        sub(HUB_STACKERS, HUB_STACKERS + "\nreach_stackers = 5"),
        ("invalid TOML",),
    ),
    Case(
        "not_utf8.toml",
        lambda t: t.encode().replace(b"Mohan railway port", b"Mohan \xe9"),
        ("UTF-8",),
    ),
    Case(
        "binary_garbage.toml",
        lambda t: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        ("UTF-8",),
    ),
    Case("nul_bytes.toml", lambda t: t.replace("[hub]", "[hub]\x00"), ("invalid TOML",)),
    Case("empty_file.toml", lambda t: "", ("meta",)),
    Case("deeply_nested.toml", nested_arrays(5000), ("nested too deeply",)),
    Case("bad_date.toml", sub(START, "start = 2025-02-30T00:00:00"), ("invalid TOML",)),
    # --- unknown keys, wrong types ------------------------------------------------------
    Case("unknown_key_hub.toml", sub(HUB_STACKERS, "reach_stacker = 4"), ("hub.reach_stacker",)),
    Case("unknown_section.toml", append("[weather]\nrain = true"), ("weather",)),
    Case(
        "wrong_type_string.toml",
        sub(HUB_STACKERS, 'reach_stackers = "four"'),
        ("hub.reach_stackers",),
    ),
    Case("wrong_type_fraction.toml", sub(HUB_GATES, "gate_lanes = 2.5"), ("hub.gate_lanes",)),
    Case(
        "wrong_type_route.toml",
        sub(G60_ROUTE, 'route = "songjiang"\ndepartures'),
        ("services.g60.route",),
    ),
    Case("date_as_text.toml", sub(START, 'start = "next monday"'), ("meta.start",)),
    Case("timezone_start.toml", sub(START, "start = 2025-01-06T00:00:00+08:00"), ("meta.start",)),
    Case("missing_field.toml", sub(HUB_STACKERS + "\n", ""), ("hub.reach_stackers",)),
    # --- NaN, infinity, huge numbers ----------------------------------------------------
    Case("nan_moves.toml", sub(HUB_MOVES, "moves_per_h = nan"), ("hub.moves_per_h",)),
    Case(
        "inf_speed.toml",
        sub("speed_kmh = 55.0     # estimate (Kunming", "speed_kmh = inf     # estimate (Kunming"),
        ("legs.1.speed_kmh",),
    ),
    Case("nan_latitude.toml", sub(LAT, "lat = nan"), ("places.songjiang.lat",)),
    Case(
        "neg_inf_dwell.toml",
        sub(HUB_DWELL, 'dwell_h = { dist = "lognormal", mean = -inf, cv = 0.3 }'),
        ("hub.dwell_h",),
    ),
    Case(
        "huge_yard.toml",
        sub(HUB_YARD, "yard_teu = 999999999999999999999999999999"),
        ("hub.yard_teu",),
    ),
    Case(
        "huge_stackers.toml",
        sub(HUB_STACKERS, "reach_stackers = 1000000000"),
        ("hub.reach_stackers",),
    ),
    Case(
        "huge_demand.toml",
        sub("teu_per_week = 100.0 ", "teu_per_week = 1e15 "),
        ("services.g60.demand.teu_per_week",),
    ),
    # --- capacities and probabilities ---------------------------------------------------
    Case(
        "negative_stackers.toml", sub(HUB_STACKERS, "reach_stackers = -1"), ("hub.reach_stackers",)
    ),
    Case("zero_gate_lanes.toml", sub(HUB_GATES, "gate_lanes = 0"), ("hub.gate_lanes",)),
    Case(
        "zero_train_capacity.toml",
        sub(G60_CAPACITY, "capacity_teu = 0"),
        ("services.g60.capacity_teu",),
    ),
    Case("zero_officers.toml", sub(MOHAN_OFFICERS, "officers = 0"), ("borders.mohan.officers",)),
    Case("negative_km.toml", sub("km = 613 ", "km = -613 "), ("legs.1.km",)),
    Case("negative_dwell.toml", sub(HUB_DWELL, "dwell_h = -5.0"), ("hub.dwell_h",)),
    Case(
        "probability_above_one.toml",
        sub(
            MOHAN_SHARE,
            MOHAN_SHARE.replace("inspect_share_exit = 0.04", "inspect_share_exit = 1.5"),
        ),
        ("borders.mohan.inspect_share_exit",),
    ),
    Case(
        "road_share_above_one.toml",
        sub(G60_ROAD, "road_share = 1.01"),
        ("services.g60.demand.road_share",),
    ),
    Case(
        "eleven_months.toml",
        sub(G60_SEASON, "seasonality = [1.0] "),
        ("services.g60.demand.seasonality",),
    ),
    Case(
        "hybrid_fill_over_capacity.toml",
        sub("min_fill_teu = 30 ", "min_fill_teu = 300 "),
        ("services.g60.min_fill_teu",),
    ),
    Case(
        "bad_distribution.toml",
        sub(HUB_DWELL, 'dwell_h = { dist = "weibull", mean = 72.0 }'),
        ("hub.dwell_h",),
    ),
    Case(
        "uniform_inverted.toml",
        sub(
            MOHAN_SCAN,
            MOHAN_SCAN.replace("low = 0.0167, high = 0.0333", "low = 0.0333, high = 0.0167"),
        ),
        ("borders.mohan.scan_h",),
    ),
    # --- time windows and timetables ----------------------------------------------------
    Case(
        "closure_inverted.toml",
        closure("line", '["boten", "vientiane"]', "2025-07-14T00:00:00", "2025-07-10T00:00:00"),
        ("disruptions.closures.0",),
    ),
    Case(
        "closure_empty_window.toml",
        closure("border", '["mohan"]', "2025-07-14T00:00:00", "2025-07-14T00:00:00"),
        ("disruptions.closures.0",),
    ),
    Case(
        "opening_empty.toml",
        append('[borders.mohan.opening]\nopen = "08:00"\nclose = "08:00"'),
        ("borders.mohan.opening.close",),
    ),
    Case(
        "opening_bad_time.toml",
        append('[borders.mohan.opening]\nopen = "25:00"\nclose = "18:00"'),
        ("borders.mohan.opening.open",),
    ),
    Case(
        "empty_timetable.toml", sub(G60_DEPARTURES, "departures = []"), ("services.g60.departures",)
    ),
    Case(
        "bad_departure_time.toml",
        sub(G60_DEPARTURES, 'departures = ["Wed 25:61"]'),
        ("services.g60.departures",),
    ),
    # --- references ----------------------------------------------------------------------
    Case(
        "unknown_place_leg.toml",
        sub(LEG1, LEG1.replace('to = "mohan"', 'to = "moham"')),
        ("legs.1.to",),
    ),
    Case(
        "unknown_place_route.toml",
        sub(G60_ROUTE, G60_ROUTE.replace('"vientiane"', '"vientane"')),
        ("services.g60.route",),
    ),
    Case(
        "leg_to_itself.toml",
        sub(LEG1, LEG1.replace('to = "mohan"', 'to = "kunming"')),
        ("legs.1.to",),
    ),
    Case(
        "route_without_leg.toml",
        sub(G60_ROUTE, 'route = ["songjiang", "vientiane"]\ndepartures'),
        ("services.g60.route",),
    ),
    Case(
        "duplicate_stop.toml",
        sub(G60_ROUTE, 'route = ["songjiang", "kunming", "songjiang"]\ndepartures'),
        ("services.g60.route",),
    ),
    Case(
        "unknown_destination.toml",
        sub(
            "destinations = { vientiane = 0.7,", "destinations = { atlantis = 0.5, vientiane = 0.7,"
        ),
        ("services.g60.demand.destinations.atlantis",),
    ),
    Case(
        "unreachable_destination.toml",
        sub(
            "destinations = { vientiane = 0.7,",
            "destinations = { alashankou = 0.5, vientiane = 0.7,",
        ),
        ("services.g60.demand.destinations.alashankou",),
    ),
    Case(
        "road_route_gap.toml",
        sub(
            '[road]\nroute = ["songjiang", "kunming", "mohan", "boten", "vientiane"]',
            '[road]\nroute = ["songjiang", "vientiane"]',
        ),
        ("road.route",),
    ),
    Case(
        "breakdown_no_hub.toml",
        append(BREAKDOWN.format(place="mohan", mtbf=300.0)),
        ("disruptions.breakdowns.0.place",),
    ),
    Case(
        "breakdown_zero_mtbf.toml",
        append(BREAKDOWN.format(place="songjiang", mtbf=0.0)),
        ("disruptions.breakdowns.0.mtbf_h",),
    ),
    Case(
        "closure_not_a_border.toml",
        closure("border", '["kunming"]', "2025-07-10T00:00:00", "2025-07-14T00:00:00"),
        ("disruptions.closures.0.where",),
    ),
    Case(
        "closure_no_such_leg.toml",
        closure("line", '["songjiang", "vientiane"]', "2025-07-10T00:00:00", "2025-07-14T00:00:00"),
        ("disruptions.closures.0.where",),
    ),
    Case(
        "closure_timezone.toml",
        closure(
            "line",
            '["boten", "vientiane"]',
            "2025-07-10T00:00:00+07:00",
            "2025-07-14T00:00:00+07:00",
        ),
        ("disruptions.closures.0",),
    ),
)


def write_corpus(folder: Path = CORPUS) -> list[Path]:
    """Write every case's file into ``folder`` and return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    text = BASELINE.read_text(encoding="utf-8")
    paths = []
    for case in CASES:
        content = case.mutate(text)
        path = folder / case.name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_corpus():
        print(p.relative_to(ROOT))
