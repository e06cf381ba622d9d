"""Property tests: random valid scenarios always finish, conserve and keep time in order.

Theory: the conservation rule and milestone order of ../shared/DESIGN.md (checked by
:mod:`tests.validation.checks`).  Hypothesis draws two families of scenarios:

* a small corridor built around tests/conftest.py's tiny scenario, stretched over a
  border (hub ``a`` -> Chinese port ``x`` -> Lao port ``y`` -> terminal ``b``, an onward
  leg to ``c``, a road alternative and a siding service from ``y``) with random
  capacities, timetables, dispatch policies, demand, border shares and opening hours,
  breakdowns and closures;
* the packaged baseline with random capacities, policies, demand, border settings and
  disruptions, with or without the station (passengers must be conserved too).

Each example runs a few simulated days; the file runs 330 examples (derandomized, so CI
sees the same scenarios every time) in well under a minute.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import g60rail as g6
from g60rail.scenario.io import scenario_from_dict
from tests.conftest import TINY
from tests.validation.checks import check_run

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- building blocks ------------------------------------------------------------------------
def hours(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]``, rounded to avoid subnormal noise."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 4))


def dist(lo: float, hi: float) -> st.SearchStrategy[Any]:
    """A scenario distribution (plain number or table) with mean in ``[lo, hi]``."""
    mean = hours(max(lo, 1e-3), hi)
    return st.one_of(
        hours(lo, hi),
        st.builds(lambda m: {"dist": "exponential", "mean": m}, mean),
        st.builds(lambda m, cv: {"dist": "lognormal", "mean": m, "cv": cv}, mean, hours(0.05, 1.5)),
        st.builds(lambda m, cv: {"dist": "gamma", "mean": m, "cv": cv}, mean, hours(0.05, 1.5)),
        st.builds(
            lambda a, w: {"dist": "uniform", "low": a, "high": round(a + w, 4)},
            hours(lo, hi),
            hours(0, hi),
        ),
        st.builds(
            lambda a, m, w: {
                "dist": "triangular",
                "low": a,
                "mode": round(a + m * w, 4),
                "high": round(a + w, 4),
            },
            hours(lo, hi),
            st.floats(0, 1),
            hours(0.01, hi + 0.01),
        ),
    )


clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
weekly = st.one_of(
    st.builds(lambda d, c: f"{d.capitalize()} {c}", st.sampled_from(DAYS), clock),
    st.builds(lambda c: f"daily {c}", clock),
)
timetable = st.lists(weekly, min_size=1, max_size=4)
heavy_timetable = st.lists(
    st.builds(lambda h, m: f"daily {h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    min_size=1,
    max_size=30,
)
"""Up to 30 trains a day: more than a single-track section can carry."""


@st.composite
def opening(draw: st.DrawFn) -> dict[str, str]:
    """Default (always open) or a non-empty daily window, possibly over midnight."""
    if draw(st.booleans()):
        return {}
    a, b = draw(clock), draw(clock)
    if a == b:
        b = "24:00"
    return {"open": a, "close": b}


@st.composite
def hub(draw: st.DrawFn, place: str) -> dict[str, Any]:
    """A hub or terminal with random capacities (small yards congest the gate)."""
    return {
        "place": place,
        "gate_lanes": draw(st.integers(1, 3)),
        "gate_time_h": draw(dist(0.01, 0.3)),
        "yard_teu": draw(st.integers(2, 300)),
        "reach_stackers": draw(st.integers(1, 3)),
        "moves_per_h": draw(hours(2, 40)),
        "move_time_cv": draw(hours(0, 1.5)),
        "loading_tracks": draw(st.integers(1, 2)),
        "shunt_h": draw(dist(0, 2)),
        "load_window_h": draw(hours(0, 8)),
        "dwell_h": draw(dist(0, 48)),
    }


@st.composite
def service(
    draw: st.DrawFn, route: list[str], demand: bool = True, destinations: list[str] | None = None
) -> dict[str, Any]:
    """A service on ``route`` with a random timetable, policy and (maybe) demand."""
    cap = draw(st.integers(1, 40))
    spec: dict[str, Any] = {
        "route": route,
        "departures": draw(timetable),
        "capacity_teu": cap,
        "policy": draw(st.sampled_from(["scheduled", "full", "hybrid"])),
        "min_fill_teu": draw(st.integers(0, cap)),
        "max_hold_h": draw(hours(0, 48)),
    }
    if len(route) > 2 and draw(st.booleans()):
        spec["stop_h"] = {route[1]: draw(hours(0, 6))}
    if demand:
        d: dict[str, Any] = {
            "teu_per_week": draw(hours(0, 150)),
            "share_40ft": draw(st.floats(0, 1)),
            "twin_20ft_share": draw(st.floats(0, 1)),
            "road_share": draw(st.sampled_from([0.0, 0.0, 0.2, 1.0])),
        }
        if destinations:
            chosen = draw(st.lists(st.sampled_from(destinations), min_size=1, unique=True))
            d["destinations"] = {p: draw(hours(0.1, 1)) for p in chosen}
        spec["demand"] = d
    return spec


def border(draw: st.DrawFn, place: str) -> dict[str, Any]:
    """A border port with random officers, times, inspection shares and opening hours."""
    return {
        "place": place,
        "officers": draw(st.integers(1, 3)),
        "declaration_h": draw(dist(0, 1)),
        "predeclared_share": draw(st.floats(0, 1)),
        "scanners": draw(st.integers(1, 2)),
        "scan_h": draw(dist(0, 0.1)),
        "technical_h": draw(dist(0, 3)),
        "inspection_bays": draw(st.integers(1, 2)),
        "inspection_h": draw(dist(0, 6)),
        "inspect_share_exit": draw(st.floats(0, 1)),
        "inspect_share_entry": draw(st.floats(0, 1)),
        "opening": draw(opening()),
    }


@st.composite
def disruptions(
    draw: st.DrawFn,
    start: dt.datetime,
    days: float,
    hubs: list[str],
    legs: list[list[str]],
    ports: list[str],
) -> dict[str, Any]:
    """Breakdowns at hubs and closures of legs, ports and customs inside the run."""
    breakdowns = [
        {
            "place": draw(st.sampled_from(hubs)),
            "equipment": draw(st.sampled_from(["reach_stackers", "gate_lanes"])),
            "mtbf_h": draw(hours(5, 500)),
            "repair_h": draw(dist(0.1, 24)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["line", "border", "customs"]))
        where = draw(st.sampled_from(legs)) if kind == "line" else [draw(st.sampled_from(ports))]
        t0 = start + dt.timedelta(hours=draw(hours(-24, 24 * days)))
        t1 = t0 + dt.timedelta(hours=draw(hours(0.5, 96)))
        closures.append(
            {
                "kind": kind,
                "where": where,
                "start": t0.isoformat(),
                "end": t1.isoformat(),
                "reason": "property test",
            }
        )
    return {"breakdowns": breakdowns, "closures": closures}


# -- the small corridor -----------------------------------------------------------------------
@st.composite
def small_corridor(draw: st.DrawFn) -> tuple[dict[str, Any], float, int]:
    """The tiny scenario stretched over a border; returns (data, days, seed)."""
    data = copy.deepcopy(TINY)
    start = dt.datetime(2025, 1, 1) + dt.timedelta(
        days=draw(st.integers(0, 364)), hours=draw(st.integers(0, 23))
    )
    days = draw(st.sampled_from([1.5, 3.0, 5.0, 8.0]))
    data["meta"]["start"] = start.isoformat()
    data["places"].update(
        {
            "x": {"name": "port X", "lat": 21.19, "lon": 101.68, "country": "CN", "kind": "border"},
            "y": {"name": "port Y", "lat": 21.18, "lon": 101.67, "country": "LA", "kind": "border"},
            "c": {"name": "city C", "lat": 17.5, "lon": 102.9, "country": "LA"},
        }
    )
    data["places"]["b"].update({"lat": 18.0, "lon": 102.7, "country": "LA"})
    data["legs"] = [
        {"from": "a", "to": "x", "mode": "rail", "km": 300, "speed_kmh": draw(hours(20, 120))},
        {
            "from": "x",
            "to": "y",
            "mode": "rail",
            "km": 3,
            "speed_kmh": 20,
            **({"paths_per_day": draw(hours(0.5, 24))} if draw(st.booleans()) else {}),
        },
        {"from": "y", "to": "b", "mode": "rail", "km": 400, "running_h": draw(dist(1, 20))},
        {"from": "a", "to": "x", "mode": "road", "km": 320, "speed_kmh": 60},
        {"from": "x", "to": "y", "mode": "road", "km": 3, "speed_kmh": 20},
        {"from": "y", "to": "b", "mode": "road", "km": 420, "speed_kmh": 50},
    ]
    data["hub"] = draw(hub("a"))
    data["terminals"] = {"b": draw(hub("b"))}
    data["borders"] = {"x": border(draw, "x"), "y": border(draw, "y")}
    data["onward"] = [
        {
            "from": "b",
            "to": "c",
            "mode": "road",
            "km": 100,
            "speed_kmh": 50,
            "transfer_h": draw(dist(0, 12)),
        }
    ]
    data["road"] = {
        "route": ["a", "x", "y", "b"],
        "driving_h_per_day": draw(hours(8, 24)),
        "border_h": draw(dist(0, 8)),
    }
    data["services"] = {"s": draw(service(["a", "x", "y", "b"], destinations=["b", "c", "x"]))}
    if draw(st.booleans()):
        data["services"]["back"] = draw(service(["b", "y", "x", "a"]))
    if draw(st.booleans()):  # starts at a place without a terminal: boxes wait on a siding
        data["services"]["local"] = draw(service(["y", "b"], destinations=["b", "c"]))
    data["disruptions"] = draw(
        disruptions(start, days, ["a", "b"], [["a", "x"], ["x", "y"], ["y", "b"]], ["x", "y"])
    )
    return data, days, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=250, **SETTINGS)
@given(small_corridor())
def test_small_corridors_finish_conserve_and_order(case: tuple[dict[str, Any], float, int]) -> None:
    """Any valid small corridor runs to its horizon, loses no box and keeps time in order."""
    data, days, seed = case
    sc = scenario_from_dict(data)
    res = g6.simulate(sc, days=days, seed=seed)
    check_run(res, sc)


# -- baseline variants ------------------------------------------------------------------------
@cache
def _baseline() -> g6.Scenario:
    return g6.load_scenario("baseline")


@st.composite
def baseline_variant(draw: st.DrawFn) -> tuple[dict[str, Any], float, int, bool]:
    """Random overrides of the packaged baseline; returns (overrides, days, seed, pax)."""
    sc = _baseline()
    ov: dict[str, Any] = {
        "hub.reach_stackers": draw(st.integers(1, 6)),
        "hub.gate_lanes": draw(st.integers(1, 6)),
        "hub.yard_teu": draw(st.integers(50, 3000)),
        "hub.loading_tracks": draw(st.integers(1, 4)),
        "terminals.kunming.reach_stackers": draw(st.integers(1, 8)),
        "borders.mohan.officers": draw(st.integers(1, 6)),
        "borders.mohan.predeclared_share": draw(st.floats(0, 1)),
        "borders.boten.inspect_share_entry": draw(st.floats(0, 1)),
        "borders.mohan.opening": draw(opening()),
    }
    for sid, spec in sc.services.items():
        if draw(st.booleans()):
            ov[f"services.{sid}.policy"] = draw(st.sampled_from(["scheduled", "full", "hybrid"]))
            ov[f"services.{sid}.min_fill_teu"] = draw(st.integers(0, spec.capacity_teu))
            ov[f"services.{sid}.max_hold_h"] = draw(hours(0, 48))
        if spec.demand is not None and draw(st.booleans()):
            ov[f"services.{sid}.demand.teu_per_week"] = round(
                spec.demand.teu_per_week * draw(hours(0, 3)), 3
            )
    if draw(st.booleans()):
        ov["services.g60.departures"] = draw(timetable)
    if draw(st.booleans()):  # heavy traffic both ways on the China-Laos Railway
        ov["services.lmx.departures"] = draw(heavy_timetable)
        ov["services.lmx_return.departures"] = draw(heavy_timetable)
    days = draw(st.sampled_from([2.0, 4.0, 6.0]))
    legs = [[leg.from_, leg.to] for leg in sc.legs if leg.mode != "road"]
    for line in sc.lines.values():  # stretches of one or more sections
        ids = line.station_ids
        legs += [[ids[i], ids[j]] for i in range(len(ids)) for j in (i + 1, i + 3) if j < len(ids)]
    ov["disruptions"] = draw(
        disruptions(
            sc.meta.start, days, ["songjiang", "kunming", "vientiane"], legs, ["mohan", "boten"]
        )
    )
    pax = sc.station is not None and draw(st.integers(0, 4)) == 0
    if not pax:
        ov["station"] = None
    return ov, days, draw(st.integers(0, 2**32 - 1)), pax


@settings(max_examples=50, **SETTINGS)
@given(baseline_variant())
def test_baseline_variants_finish_conserve_and_order(
    case: tuple[dict[str, Any], float, int, bool],
) -> None:
    """Baseline variants (station included in some) conserve boxes and passengers."""
    overrides, days, seed, pax = case
    sc = _baseline().with_overrides(overrides)
    res = g6.simulate(sc, days=days, seed=seed)
    check_run(res, sc)
    assert ("pax.passengers" in res.kpis) == pax
