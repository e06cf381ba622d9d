"""Freight figures and the run summary: what is drawn, with units and real dates."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import g60rail as g6
from g60rail.cli import main as cli_main
from g60rail.plot import freight, trains
from g60rail.plot.summary import kpi_table, scenario_of, summary_figure, write_run_figures

DAYS = 35


@pytest.fixture(scope="module")
def scenario() -> g6.Scenario:
    # freight only: the station (if the baseline has one) is covered by its own tests
    return g6.load_scenario("baseline").model_copy(update={"station": None})


@pytest.fixture(scope="module")
def result(scenario: g6.Scenario) -> g6.Result:
    return g6.simulate(scenario, days=DAYS, seed=3)


def render(fig: Figure) -> None:
    """Draw headless (Agg) so tick labels and layout exist."""
    fig.savefig(io.BytesIO(), format="png", dpi=50)


def train_lines(ax):
    """The train graph's train paths (one per train; dots and place lines excluded)."""
    return [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("train ")]


def assert_date_axis(ax, start: pd.Timestamp, days: float) -> None:
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    assert start - pd.Timedelta(days=3) <= lo <= start + pd.Timedelta(days=3)
    assert hi <= start + pd.Timedelta(days=days + 40)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels, "date ticks are labelled"
    assert ax.get_xlabel() == "date"


def start_of(result: g6.Result) -> pd.Timestamp:
    return pd.Timestamp(result.manifest["start"])


# ------------------------------------------------------------------ throughput ------
def test_teu_per_day_draws_one_line_per_service_and_direction(result: g6.Result) -> None:
    fig = freight.teu_per_day(result)
    render(fig)
    ax = fig.axes[0]
    cols = [c for c in result.tables["timeseries"] if c.startswith("teu_departed.")]
    assert len(cols) == len(result.tables["trains"]["service"].unique()) == 12  # services
    assert sorted(ln.get_label() for ln in ax.get_lines()) == sorted(c.split(".")[1] for c in cols)
    assert "TEU" in ax.get_ylabel() and "7-day" in ax.get_ylabel()
    assert_date_axis(ax, start_of(result), DAYS)
    # a service and its return share a colour; the return is dashed
    by = {ln.get_label(): ln for ln in ax.get_lines()}
    assert by["g60"].get_color() == by["g60_return"].get_color()
    assert by["g60"].get_linestyle() == "-" and by["g60_return"].get_linestyle() == "--"


def test_teu_per_day_accepts_tables_and_axes(result: g6.Result) -> None:
    host = Figure()
    ax = host.add_subplot()
    fig = freight.teu_per_day(result.tables, ax, rolling_days=1)
    assert fig is host
    ts = result.tables["timeseries"]
    g60 = next(ln for ln in ax.get_lines() if ln.get_label() == "g60")
    np.testing.assert_allclose(g60.get_ydata(), ts["teu_departed.g60"].to_numpy())


def test_cumulative_teu_ends_at_the_run_totals(result: g6.Result) -> None:
    fig = freight.cumulative_teu(result)
    render(fig)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {
        "booked (TEU created)",
        "departed by train (all legs)",
        "delivered to consignee",
    }
    assert lines["booked (TEU created)"].get_ydata()[-1] == result.kpis["freight.teu_created"]
    assert lines["delivered to consignee"].get_ydata()[-1] == result.kpis["freight.teu_delivered"]
    shaded = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(shaded) == 1 and shaded[0].get_label() == "in the system"
    assert ax.get_ylabel() == "cumulative TEU"
    assert_date_axis(ax, start_of(result), DAYS)


def test_yard_and_gate_draws_yard_capacity_and_gate_queue(result: g6.Result) -> None:
    fig = freight.yard_and_gate(result, "kunming")
    render(fig)
    ax, gate = fig.axes
    assert len(ax.get_lines()) == 3 and len(gate.get_lines()) == 1
    assert ax.get_ylabel() == "yard occupancy (TEU)"
    assert "trucks" in gate.get_ylabel()
    cap = next(ln for ln in ax.get_lines() if ln.get_label() == "yard capacity")
    assert set(cap.get_ydata()) == {20000.0}
    assert_date_axis(ax, start_of(result), DAYS)


# ------------------------------------------------------------------ resources -------
def test_utilization_has_one_bar_per_kpi_in_percent(result: g6.Result) -> None:
    fig = freight.utilization(result)
    render(fig)
    ax = fig.axes[0]
    kpis = {k: v for k, v in result.kpis.items() if k.endswith("_utilization") and v == v}
    bars = ax.patches
    # 3 terminals x 4 resources (gate, stackers, loading and A/D tracks) + 2 border ports
    # + the baseline's 5 train-set pools
    assert len(bars) == len(kpis) == 19
    assert sorted(round(b.get_width(), 6) for b in bars) == sorted(
        round(100 * v, 6) for v in kpis.values()
    )
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "songjiang: reach stackers"  # the hub first (on top)
    assert "mohan: customs officers" in labels
    assert labels.index("mohan: customs officers") < labels.index("g60: train sets")
    assert "%" in ax.get_xlabel()


def test_utilization_takes_a_kpi_dict_and_shows_station_resources() -> None:
    fig = freight.utilization({"hub.gate_utilization": 0.5, "pax.security_lane_utilization": 0.9})
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["songjiang: gate lanes", "HSR station: security lane"]


# ------------------------------------------------------------ distributions -------
def test_transit_ecdf_one_curve_per_service_end_to_end(result: g6.Result) -> None:
    fig = freight.transit_ecdf(result)
    render(fig)
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert len(labels) == 12  # one per service
    g60 = next(ln for ln in ax.get_lines() if ln.get_label().startswith("g60 "))
    c = result.tables["containers"]
    mine = c.query("service == 'g60' and mode == 'rail' and destination == 'vientiane'")
    mine = mine[mine["t_arrived"].notna()]
    assert f"n={len(mine)}" in g60.get_label()
    x = g60.get_xdata()
    longest = (mine["t_arrived"] - mine["t_departed"]).max()
    assert np.nanmax(x[np.isfinite(x)]) == pytest.approx(longest)
    assert ax.get_xlabel().endswith("(h)")
    assert "share of boxes" in ax.get_ylabel()
    assert freight.transit_ecdf(result, days=True).axes[0].get_xlabel().endswith("(d)")


@pytest.mark.parametrize("stage", ["origin", "destination"])
def test_dwell_ecdf_by_service(result: g6.Result, stage: str) -> None:
    fig = freight.dwell_ecdf(result, stage=stage)
    ax = fig.axes[0]
    rail = result.tables["containers"].query("mode == 'rail'")
    assert len(ax.get_lines()) == rail["service"].nunique()
    assert stage in ax.get_title() and ax.get_xlabel().endswith("(h)")


def test_dwell_ecdf_rejects_an_unknown_stage(result: g6.Result) -> None:
    with pytest.raises(ValueError, match="stage"):
        freight.dwell_ecdf(result, stage="border")  # type: ignore[arg-type]


# ------------------------------------------------------------------ train graph -----
def test_train_graph_one_line_per_train_on_the_route(
    result: g6.Result, scenario: g6.Scenario
) -> None:
    fig = trains.train_graph(result, scenario, days=None)
    render(fig)
    ax = fig.axes[0]
    sections = result.tables["sections"]
    km = trains.route_km(scenario, ["songjiang", "kunming", "mohan", "boten", "vientiane"])
    assert {p: km[p] for p in ("songjiang", "kunming", "mohan", "boten", "vientiane")} == {
        "songjiang": 0.0,
        "kunming": 2634.0,
        "mohan": 3247.0,
        "boten": 3250.0,
        "vientiane": 3669.0,
    }
    on_route = sections[sections["from"].isin(km) & sections["to"].isin(km)]
    assert len(train_lines(ax)) == on_route["tid"].nunique() > 20
    ys = np.concatenate([ln.get_ydata() for ln in train_lines(ax)])
    assert set(np.unique(ys)) <= set(km.values())
    assert "km" in ax.get_ylabel()
    assert_date_axis(ax, start_of(result), DAYS)
    right = next(a for a in ax.child_axes)  # the secondary axis naming the places
    names = [t.get_text() for t in right.get_yticklabels()]
    assert names == ["songjiang", "kunming", "mohan / boten", "vientiane"]


def test_train_graph_follows_the_recorded_sections_in_its_window(
    result: g6.Result, scenario: g6.Scenario
) -> None:
    host = Figure()
    ax = host.add_subplot()
    trains.train_graph(
        result, scenario, ax, services=["lmx"], passenger_trains=False, days=3, first_day=7
    )
    lines = train_lines(ax)
    sec = result.tables["sections"]
    lmx = sec[(sec["service"] == "lmx") & (sec["t_exit"] >= 168) & (sec["t_enter"] <= 240)]
    assert len(lines) == lmx["tid"].nunique() >= 2
    first = lmx[lmx["tid"] == lmx["tid"].min()].sort_values("t_enter")
    km = trains.route_km(scenario, trains.default_route(scenario))
    hours = np.column_stack([first["t_enter"], first["t_exit"]]).ravel()
    x = mdates.date2num(pd.Timestamp(result.manifest["start"])) + hours / 24.0
    line = next(ln for ln in lines if ln.get_gid() == f"train {first['tid'].iloc[0]}")
    np.testing.assert_allclose(mdates.date2num(line.get_xdata()), x, atol=1e-6)
    y = np.column_stack([first["from"].map(km), first["to"].map(km)]).ravel()
    np.testing.assert_allclose(line.get_ydata(), y)
    # the window is the axis: days 7 to 10; maintenance windows shaded inside it
    lo, hi = ax.get_xlim()
    start = mdates.date2num(pd.Timestamp(result.manifest["start"]))
    assert (lo - start, hi - start) == pytest.approx((7.0, 10.0))
    assert len(ax.collections) >= 3


def test_service_style_is_stable_for_unknown_services() -> None:
    a, b = freight.service_style("new_line"), freight.service_style("new_line_return")
    assert a["color"] == b["color"] == freight.service_style("new_line")["color"]
    assert (a["linestyle"], b["linestyle"]) == ("-", "--")


# ------------------------------------------------------------------ summary ---------
def test_summary_figure_has_the_key_panels_and_the_kpi_table(
    result: g6.Result, scenario: g6.Scenario
) -> None:
    fig = summary_figure(result, scenario)
    render(fig)
    titles = [ax.get_title() for ax in fig.axes]
    for part in (
        "Train graph",
        "Corridor map",
        "Cumulative TEU",
        "Yard and gate",
        "Resource utilisation",
        "Rail transit",
        "Headline KPIs",
    ):
        assert any(t.startswith(part) for t in titles), part
    table = next(ax for ax in fig.axes if ax.get_title() == "Headline KPIs").tables[0]
    cells = {c.get_text().get_text() for c in table.get_celld().values()}
    assert "TEU delivered" in cells and f"{result.kpis['freight.teu_delivered']:,.0f}" in cells
    assert "holds" in cells  # conservation line


def test_kpi_table_skips_missing_kpis() -> None:
    fig = kpi_table({"hub.dwell_h_mean": 40.25, "hub.reach_stacker_utilization": 0.5})
    cells = [c.get_text().get_text() for c in fig.axes[0].tables[0].get_celld().values()]
    assert "40.2" in cells and "50.0" in cells and "TEU booked" not in cells


def test_write_run_figures_with_and_without_scenario(
    result: g6.Result, scenario: g6.Scenario, tmp_path: Path
) -> None:
    names = {p.name for p in write_run_figures(result, tmp_path, dpi=40, scenario=scenario)}
    assert {
        "summary.png",
        "train_graph.png",
        "corridor_map.png",
        "teu_per_day.png",
        "cumulative_teu.png",
        "yard_gate.png",
        "utilization.png",
        "transit.png",
        "dwell.png",
    } == names  # no station tables: no station figures
    for n in names:
        assert (tmp_path / n).read_bytes()[:4] == b"\x89PNG"
    # without a scenario, and none packaged with this hash: no map or train graph
    assert scenario_of(result) is None  # the station-free copy is not the packaged baseline
    (tmp_path / "b").mkdir()
    names2 = {p.name for p in write_run_figures(result, tmp_path / "b", dpi=40)}
    assert "summary.png" in names2
    assert not {"train_graph.png", "corridor_map.png"} & names2


def test_scenario_of_finds_the_packaged_scenario_by_name_and_hash() -> None:
    packaged = g6.load_scenario("baseline")
    same = g6.Result({}, {}, {"scenario": "baseline", "scenario_hash": packaged.hash})
    assert scenario_of(same) == packaged
    changed = g6.Result({}, {}, {"scenario": "baseline", "scenario_hash": "0" * 16})
    assert scenario_of(changed) is None
    assert scenario_of(g6.Result({}, {}, {"scenario": "my_file"})) is None


def test_cli_run_writes_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["run", "--days", "2", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "summary.png").stat().st_size > 10_000
    assert "summary.png" in capsys.readouterr().out
