"""The baseline against the published calibration targets, over a year (seed 3).

Every target lies in its accepted range; at least five of them are ``held_out``: no input
was chosen to meet them (see each target's ``basis`` in
:data:`g60rail.experiment.calibration.TARGETS`, and its source).  The same year checks
that nothing is lost (conservation) and that the backlog does not keep growing.
"""

from __future__ import annotations

import json
import math

import pytest

import g60rail as g6
from g60rail.cli import main
from g60rail.experiment.calibration import (
    HELD_OUT,
    TARGETS,
    calibration_records,
    calibration_table,
    format_calibration,
)
from g60rail.result import Result


@pytest.fixture(scope="module")
def year() -> Result:
    """One simulated year of the packaged baseline (seasons and weekdays average out)."""
    return g6.simulate(g6.load_scenario("baseline"), days=365, seed=3, record_containers=False)


def test_baseline_meets_every_target(year: Result) -> None:
    df = calibration_table(year)
    print("\n" + format_calibration(df))  # shown with pytest -s: the calibration document
    assert list(df.columns[:8]) == [
        "quantity",
        "target",
        "low",
        "high",
        "unit",
        "kpi",
        "value",
        "ok",
    ]
    assert {t.kpi for t in TARGETS} == set(df["kpi"])  # the station's rows included
    for row in df.itertuples(index=False):
        assert math.isfinite(row.value), row.kpi
        assert row.ok, f"{row.quantity}: {row.value:,.1f} {row.unit} not in {row.target}"
    assert (df["kind"] == HELD_OUT).sum() >= 5
    text = format_calibration(df)
    for q in df["quantity"]:
        assert q in text
    assert f"{len(df)} of {len(df)} targets met" in text


def test_the_year_loses_nothing_and_reaches_a_steady_state(year: Result) -> None:
    k = year.kpis
    assert k["freight.teu_created"] == k["freight.teu_delivered"] + k["freight.teu_in_system_end"]
    assert k["freight.tonnes_created"] == pytest.approx(
        k["freight.tonnes_delivered"] + k["freight.tonnes_in_system_end"]
    )
    assert k["freight.backlog_growing"] == 0.0
    assert k["freight.teu_empty"] > 0


def test_calibration_json_lists_every_target(year: Result) -> None:
    records = calibration_records(calibration_table(year))
    assert json.loads(json.dumps(records)) == records  # plain JSON values only
    for r in records:
        assert {"quantity", "kpi", "low", "high", "value", "kind", "ok"} <= set(r)
        assert r["kind"] in {"fitted", HELD_OUT} and r["ok"] is True


def test_validate_json_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "baseline", "--calibration", "--json", "--days", "3"]) == 0
    out = capsys.readouterr()
    records = json.loads(out.out)  # standard output holds the JSON alone
    assert [r["kpi"] for r in records] == [t.kpi for t in TARGETS]
    assert all(isinstance(r["ok"], bool) for r in records)
    assert "valid scenario" in out.err


def test_missing_kpis_are_reported_not_hidden() -> None:
    """A run without a KPI shows NaN and ``ok`` False; station rows need ``pax.*``."""
    res = Result(kpis={"transit.songjiang_kunming.h_mean": 81.0}, manifest={"days": 10.0})
    df = calibration_table(res).set_index("kpi")
    assert bool(df.loc["transit.songjiang_kunming.h_mean", "ok"])
    assert math.isnan(df.loc["border.mohan.clearance_h_mean", "value"])
    assert not bool(df.loc["border.mohan.clearance_h_mean", "ok"])
    assert "pax.departures_per_day" not in df.index
    res.kpis.update(
        {"pax.passengers": 342_500.0, "pax.arriving": 342_500.0, "pax.departures": 1_900.0}
    )
    df = calibration_table(res).set_index("kpi")
    assert df.loc["pax.station_passengers_per_day", "value"] == pytest.approx(68_500.0)
    assert df.loc["pax.departures_per_day", "value"] == pytest.approx(190.0)
    assert "n/a" in format_calibration(df.reset_index())
