"""Station figures draw the expected series and labels."""

from __future__ import annotations

import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from g60rail.model.station import StationRun, simulate_station
from g60rail.plot.station import (
    hall_occupancy,
    los_heatmap,
    pax_by_hour,
    wait_heatmap,
)
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import small_station


@pytest.fixture(scope="module")
def run() -> StationRun:
    spec = StationSpec.model_validate(small_station())
    return simulate_station(spec, start=datetime.datetime(2025, 3, 10), days=4, streams=Streams(1))


def test_hourly_profile(run: StationRun) -> None:
    fig = pax_by_hour(run)
    assert isinstance(fig, Figure)
    ax, ax2 = fig.axes
    assert len(ax.patches) == 24  # one bar per hour of day
    assert len(ax2.lines) == 2
    assert "[pax/h]" in ax.get_ylabel() and "[min]" in ax2.get_ylabel()
    assert "[h]" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["arrivals (mean)", "p95 wait (mean)", "p95 wait (worst day)"]
    heights = [p.get_height() for p in ax.patches]
    h = run.tables["pax_hourly"]
    assert heights == pytest.approx(h.groupby("hour_of_day")["arrivals"].mean().tolist())


def test_hall_occupancy_on_given_axes(run: StationRun) -> None:
    fig, ax = plt.subplots()
    out = hall_occupancy(run.tables, day=datetime.date(2025, 3, 11), ax=ax, capacity_pax=400)
    assert out is fig
    assert len(ax.lines) == 3  # mean, max, capacity
    assert "[pax]" in ax.get_ylabel()
    assert "2025-03-11" in ax.get_title()
    assert (
        np.nanmax(ax.lines[1].get_ydata())
        == run.tables["pax_hourly"]["hall_occupancy_max"][24:48].max()
    )
    plt.close(fig)


def test_hall_occupancy_defaults_to_the_busiest_day(run: StationRun) -> None:
    fig = hall_occupancy(run)
    h = run.tables["pax_hourly"]
    busiest = h.loc[h["hall_occupancy_max"].idxmax(), "time"].date()
    assert busiest.isoformat() in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) == 2


def test_wait_heatmap(run: StationRun) -> None:
    fig = wait_heatmap(run)
    ax, cbar = fig.axes
    image = ax.images[0]
    assert image.get_array().shape == (4, 24)
    assert "[min]" in cbar.get_ylabel()
    assert ax.get_yticklabels()[0].get_text() == "2025-03-10"
    assert "[h]" in ax.get_xlabel()


def test_los_heatmap_shows_the_worst_level_per_zone_and_hour(run: StationRun) -> None:
    fig = los_heatmap(run)
    ax, cbar = fig.axes
    grid = ax.images[0].get_array()
    los = run.tables["pax_los"]
    zones = list(los["zone"].cat.categories)
    assert grid.shape == (len(zones), 24)
    assert [t.get_text() for t in ax.get_yticklabels()] == zones
    assert [t.get_text() for t in cbar.get_yticklabels()] == list("ABCDEF")
    worst = (
        los.assign(h=los["time"].dt.hour).groupby(["zone", "h"], observed=True)["los_level"].max()
    )
    for (zone, hour), level in worst.items():
        assert grid[zones.index(zone), hour] == level
    assert "worst over the run" in ax.get_title()
    one = los_heatmap(run.tables, day=datetime.date(2025, 3, 11))
    assert "2025-03-11" in one.axes[0].get_title()
    assert "[h]" in ax.get_xlabel()


def test_los_heatmap_on_given_axes(run: StationRun) -> None:
    fig, ax = plt.subplots()
    assert los_heatmap(run, ax=ax) is fig
    plt.close(fig)


def test_rejects_other_inputs() -> None:
    with pytest.raises(ValueError, match="pax_hourly"):
        wait_heatmap({"containers": None})
    with pytest.raises(ValueError, match="pax_los"):
        los_heatmap({"pax_hourly": None})
