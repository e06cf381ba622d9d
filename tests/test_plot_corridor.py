"""The corridor map: legs by mode, places labelled, the G60 cities inset, lon/lat axes."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import pytest
from matplotlib.figure import Figure

import g60rail as g6
from g60rail.plot.corridor import MODE_STYLE, corridor_map, short_name

G60_CITIES = ["jiaxing", "hangzhou", "jinhua", "suzhou", "huzhou", "xuancheng", "wuhu", "hefei"]


@pytest.fixture(scope="module")
def scenario() -> g6.Scenario:
    return g6.load_scenario("baseline")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def leg_lines(ax, mode: str) -> list:
    color = mcolors.to_rgba(MODE_STYLE[mode]["color"])
    width = MODE_STYLE[mode]["linewidth"]
    return [
        ln
        for ln in ax.get_lines()
        if len(ln.get_xdata()) == 2
        and mcolors.to_rgba(ln.get_color()) == color
        and ln.get_linewidth() in (width, 0.8 * width)
    ]


def test_map_draws_every_leg_coloured_by_mode(scenario: g6.Scenario) -> None:
    fig = corridor_map(scenario)
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    ax = fig.axes[0]
    segments = [(leg.mode) for leg in scenario.legs] + [o.mode for o in scenario.onward]
    for line in scenario.lines.values():  # one segment between consecutive places
        stops = [st for st in line.stations if st.id in scenario.places]
        segments += [line.mode] * (len(stops) - 1)
    for mode in ("rail", "rail_metre", "road"):
        assert len(leg_lines(ax, mode)) == segments.count(mode), mode
    # road and rail between the same places are drawn side by side, not on top
    rail = {tuple(ln.get_xdata()) for ln in leg_lines(ax, "rail")}
    road = {tuple(ln.get_xdata()) for ln in leg_lines(ax, "road")}
    assert not rail & road
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"rail (standard gauge)", "rail (metre gauge)", "road", "hub", "border port"} <= set(
        legend
    )


def test_map_labels_places_and_has_lon_lat_axes(scenario: g6.Scenario) -> None:
    fig = corridor_map(scenario)
    ax = fig.axes[0]
    labels = " ".join(texts(ax))
    for name in ("Songjiang (CN)", "Kunming (CN)", "Mohan (CN) / Boten (LA)", "Vientiane (LA)"):
        assert name in labels
    assert "2,634 km" in labels  # published rail km beside the leg
    assert "to Alashankou (4,700 km)" in labels  # the far exit stays outside the frame
    assert ax.get_xlabel() == "longitude (°E)" and ax.get_ylabel() == "latitude (°N)"
    lo, hi = ax.get_ylim()
    assert lo < scenario.places["bangkok"].lat and hi > scenario.places["songjiang"].lat
    assert hi < scenario.places["alashankou"].lat
    assert ax.get_aspect() == pytest.approx(1 / math.cos(math.radians(24)), rel=0.1)


def test_inset_shows_the_g60_cities_and_trucking_to_the_hub(scenario: g6.Scenario) -> None:
    fig = corridor_map(scenario)
    ax = fig.axes[0]
    (inset,) = ax.child_axes
    labels = " ".join(texts(inset))
    for city in G60_CITIES:
        assert short_name(city) in labels
    origins = set()
    for spec in scenario.services.values():
        if spec.demand is not None and spec.route[0] == "songjiang":
            origins |= set(spec.demand.origins) - {"songjiang"}
    grey = [ln for ln in inset.get_lines() if ln.get_color() == "0.6"]
    assert len(grey) == len(origins) == 8
    assert "G60 cities" in inset.get_title()


def test_map_on_given_axes_without_inset(scenario: g6.Scenario) -> None:
    host = Figure()
    ax = host.add_subplot()
    assert corridor_map(scenario, ax, inset=False, km_labels=False) is host
    assert not ax.child_axes
    assert "2,634 km" not in texts(ax)
    assert "500 km" in texts(ax)  # the scale bar
    # the cities near the hub are still there, as small unlabelled dots
    dots = [ln for ln in ax.get_lines() if ln.get_markersize() == 2.5]
    assert len(dots) == len(G60_CITIES)


def test_map_of_a_small_scenario(tiny_scenario: g6.Scenario) -> None:
    fig = corridor_map(tiny_scenario)
    ax = fig.axes[0]
    assert len(leg_lines(ax, "rail")) == 1
    assert any("A (CN)" in t for t in texts(ax))
