"""Emissions and cost per TEU by route (g60rail.model.footprint), checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import g60rail as g6
from g60rail.errors import ScenarioError
from g60rail.geo import drayage_km
from g60rail.model.footprint import delivery_groups, footprint_kpis, transport_chain

BASE = g6.load_scenario("baseline").with_overrides({"station": None})
F = BASE.footprint
assert F is not None


def rail_km(sc: g6.Scenario, a: str, b: str) -> float:
    """Route km between two stations of the line joining them."""
    line = sc.line_between(a, b)
    assert line is not None
    km = {st.id: st.km for st in sc.lines[line].stations}
    return abs(km[b] - km[a])


# Songjiang -> Kunming (Shanghai-Kunming railway) -> Vientiane (China-Laos Railway), and
# the G60 expressway and on by road: the km of the baseline's lines and road legs.
RAIL_KM = rail_km(BASE, "songjiang", "kunming") + rail_km(BASE, "kunming", "vientiane")
ROAD_KM = 2730.0 + 700.0 + 3.0 + 680.0


def box(**kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "cid": 0,
        "teu": 2,
        "mode": "rail",
        "service": "g60",
        "origin": "songjiang",
        "first_terminal": "songjiang",
        "destination": "vientiane",
        "commodity": "general",
        "tonnes": 24.0,
        "t_delivered": 100.0,
    }
    row.update(kw)
    return row


def kpis(*rows: dict[str, object], sc: g6.Scenario = BASE) -> dict[str, float]:
    return footprint_kpis(sc, delivery_groups(pd.DataFrame(list(rows))))


def test_the_baseline_km_are_the_published_ones() -> None:
    assert RAIL_KM == 2634.0 + 1035.0
    chain = transport_chain(BASE, "road", "g60", "songjiang", "songjiang", "vientiane", False)
    assert chain.km == {"road": pytest.approx(ROAD_KM)} and chain.terminals == 0


def test_one_rail_box_by_hand() -> None:
    # a 40-foot box of 24 t from the hub's own gate to Vientiane on the G60
    k = kpis(box())
    co2e = 24.0 * RAIL_KM * 17.0 / 1000.0  # t x km x g/tkm -> kg
    assert F.rail_g_co2e_per_tkm == 17.0
    assert k["footprint.rail.teu"] == 2.0 and k["footprint.rail.tonnes"] == 24.0
    assert k["footprint.rail.co2e_kg_per_teu"] == pytest.approx(co2e / 2)
    assert k["footprint.rail.cost_per_teu"] == pytest.approx((680.0 + 2.754 * RAIL_KM) / 2)
    # lifted through Songjiang and Vientiane: two terminals of 3 kg and 150 CNY a TEU
    assert k["footprint.hub.co2e_kg_per_teu"] == pytest.approx(2 * 3.0)
    assert k["footprint.hub.cost_per_teu"] == pytest.approx(2 * 150.0)
    assert k["footprint.rail_chain.co2e_kg_per_teu"] == pytest.approx(co2e / 2 + 6.0)
    assert k["footprint.rail.songjiang_vientiane.co2e_kg_per_teu"] == pytest.approx(co2e / 2 + 6)
    assert math.isnan(k["footprint.road.co2e_kg_per_teu"]) and k["footprint.road.teu"] == 0


def test_one_road_box_and_drayage_by_hand() -> None:
    # a 20-foot box of 12 t trucked from Hangzhou: drayage to Songjiang, then the road
    k = kpis(box(mode="road", teu=1, tonnes=12.0, origin="hangzhou"))
    p = BASE.places
    dray = drayage_km(p["hangzhou"], p["songjiang"], BASE.drayage.detour_factor)
    assert 150 < dray < 250
    km = dray + ROAD_KM
    assert k["footprint.road.co2e_kg_per_teu"] == pytest.approx(12.0 * km * 110.0 / 1000.0)
    assert k["footprint.road.cost_per_teu"] == pytest.approx(km * 4.4)
    assert k["footprint.road.songjiang_vientiane.cost_per_teu"] == pytest.approx(km * 4.4)


def test_onward_legs_and_transfers_are_charged_by_their_mode() -> None:
    # Shanghai-Yunnan to Kunming, the Lancang-Mekong Express to Vientiane, metre gauge on
    chain = transport_chain(
        BASE, "rail", "shanghai_yunnan", "songjiang", "songjiang", "vientiane", False
    )
    assert chain.km == {"rail": pytest.approx(RAIL_KM)} and chain.terminals == 3
    g60 = transport_chain(BASE, "rail", "g60", "songjiang", "songjiang", "bangkok", False)
    assert g60.km == {"rail": pytest.approx(RAIL_KM), "rail_metre": 640.0}
    assert g60.terminals == 2  # Songjiang, and Vientiane where it changes to metre gauge
    k = kpis(box(destination="bangkok", teu=1, tonnes=10.0))
    assert k["footprint.rail.co2e_kg_per_teu"] == pytest.approx(
        10.0 * (RAIL_KM * 17.0 + 640.0 * 25.0) / 1000.0
    )
    assert k["footprint.rail.cost_per_teu"] == pytest.approx(500 + 2.205 * RAIL_KM + 640 * 1.5)


def test_empties_cost_but_carry_no_cargo_and_undelivered_boxes_do_not_count() -> None:
    loaded = box()
    # the G60 empty back from Vientiane (on the G60 return) and a box still on its way
    empty = box(
        service="g60_return",
        origin="vientiane",
        first_terminal="vientiane",
        destination="songjiang",
        commodity="empty",
        tonnes=0.0,
    )
    k = kpis(loaded, empty, box(t_delivered=float("nan"), tonnes=30.0))
    alone = kpis(loaded)
    assert k["footprint.rail.teu"] == 2.0  # the empty's TEU divide nothing
    assert k["footprint.rail.co2e_kg_per_teu"] == pytest.approx(
        alone["footprint.rail.co2e_kg_per_teu"]
    )
    back = 680.0 + 2.754 * RAIL_KM  # its rail charge, paid for the loaded box
    assert k["footprint.rail.cost_per_teu"] == pytest.approx(
        alone["footprint.rail.cost_per_teu"] + back / 2
    )
    assert k["footprint.hub.co2e_kg_per_teu"] == pytest.approx(2 * 6.0)


def test_no_footprint_section_no_kpis() -> None:
    assert kpis(box(), sc=BASE.with_overrides({"footprint": None})) == {}


def test_factors_are_validated() -> None:
    with pytest.raises(ScenarioError):
        BASE.with_overrides({"footprint.road_g_co2e_per_tkm": -1.0})
    with pytest.raises(ScenarioError):
        BASE.with_overrides({"footprint.currency": "yuan"})
    with pytest.raises(ValueError, match="no emission intensity"):
        F.g_co2e_per_tkm("air")


def test_road_exceeds_rail_by_the_factors_times_the_distances_in_a_run() -> None:
    # rail versus road on one pair, one commodity class and no drayage, so that tonnes
    # per TEU are equal on both modes and only the intensity and the route km differ
    sc = g6.load_scenario("rail_vs_road").with_overrides(
        {
            "services.g60.demand.origins": {"songjiang": 1.0},
            "services.g60.demand.destinations": {"vientiane": 1.0},
            "services.g60.demand.commodities": {"general": 1.0},
            "services.shanghai_yunnan.demand.destinations": {"kunming": 1.0},
        }
    )
    res = g6.simulate(sc, days=12, seed=1)
    k = footprint_kpis(sc, delivery_groups(res.tables["containers"]))
    rail = k["footprint.rail.songjiang_vientiane.co2e_kg_per_teu"] - 2 * F.hub_kg_co2e_per_teu
    road = k["footprint.road.songjiang_vientiane.co2e_kg_per_teu"]
    assert rail == pytest.approx(12.0 * RAIL_KM * 17.0 / 1000.0)
    assert road / rail == pytest.approx((110.0 / 17.0) * (ROAD_KM / RAIL_KM))
    assert k["footprint.road.teu"] > 20 and k["footprint.rail.teu"] > 1000
    # every loaded TEU delivered is counted once, by its mode
    c = res.tables["containers"]
    done = c[c["t_delivered"].notna() & (c["commodity"] != "empty")]
    assert k["footprint.rail.teu"] + k["footprint.road.teu"] == done["teu"].sum()
    # the run's own KPIs, counted as boxes were delivered, agree with the table's
    for name, value in k.items():
        assert res.kpis[name] == pytest.approx(value, nan_ok=True), name
