"""Sweep and tuning charts draw what the tables say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure

from g60rail.plot.experiment import sweep_chart, tuning_chart


def _summary() -> pd.DataFrame:
    rows = []
    point = 0
    for tracks in (2, 4):
        for stackers in (1, 2, 3):
            for kpi, base in (("hub.dwell_h_mean", 40.0), ("hub.gate_wait_h_mean", 0.1)):
                mean = base + 5.0 / stackers + tracks
                rows.append(
                    {
                        "point": point,
                        "hub.reach_stackers": stackers,
                        "hub.loading_tracks": tracks,
                        "kpi": kpi,
                        "mean": mean,
                        "std": 1.0,
                        "n": 5,
                        "ci_low": mean - 1.2,
                        "ci_high": mean + 1.2,
                        "half_width": 1.2,
                    }
                )
            point += 1
    return pd.DataFrame(rows)


def test_sweep_chart_one_line_and_band_per_other_combination() -> None:
    fig = sweep_chart(_summary(), "hub.dwell_h_mean", "hub.reach_stackers")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2  # loading_tracks 2 and 4
    assert {ln.get_label() for ln in lines} == {"hub.loading_tracks=2", "hub.loading_tracks=4"}
    first = next(ln for ln in lines if ln.get_label() == "hub.loading_tracks=2")
    assert list(first.get_xdata()) == [1, 2, 3]
    assert np.allclose(first.get_ydata(), [40 + 5 / s + 2 for s in (1, 2, 3)])
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(40 + 5 / 3 + 2 - 1.2)
    assert ax.get_xlabel() == "hub.reach_stackers"
    assert ax.get_ylabel() == "hub.dwell_h_mean"
    assert "n=5" in ax.get_title()


def test_sweep_chart_draws_on_given_axes_and_single_parameter() -> None:
    s = _summary()
    s = s[s["hub.loading_tracks"] == 2].drop(columns="hub.loading_tracks")
    fig = Figure()
    ax = fig.add_subplot()
    assert sweep_chart(s, "hub.gate_wait_h_mean", "hub.reach_stackers", ax=ax) is fig
    assert len(ax.get_lines()) == 1
    with pytest.raises(KeyError, match="not a swept parameter"):
        sweep_chart(s, "hub.gate_wait_h_mean", "hub.gate_lanes")
    with pytest.raises(KeyError, match="no KPI"):
        sweep_chart(s, "hub.nope", "hub.reach_stackers")


def _trials() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3],
            "hub.reach_stackers": [1, 2, 3, 4],
            "objective": [0.45e6, 0.9e6, 1.35e6, 1.8e6],
            "cost": [0.45e6, 0.9e6, 1.35e6, 1.8e6],
            "feasible": [False, True, True, True],
            "violation": [0.08, -0.01, -0.04, -0.05],
            "hub.reach_stacker_utilization": [0.18, 0.09, 0.06, 0.05],
        }
    )
    df.attrs["constraints"] = ["hub.reach_stacker_utilization <= 0.1"]
    df.attrs["params"] = ["hub.reach_stackers"]
    return df


def test_tuning_chart_marks_feasible_trials_and_the_bound() -> None:
    fig = tuning_chart(_trials())
    ax = fig.axes[0]
    scatters = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
    assert len(scatters["feasible"].get_offsets()) == 3
    assert len(scatters["infeasible"].get_offsets()) == 1
    assert tuple(scatters["infeasible"].get_offsets()[0]) == (0.18, 0.45e6)
    assert tuple(scatters["cheapest feasible"].get_offsets()[0]) == (0.09, 0.9e6)
    bound = [ln for ln in ax.get_lines() if "<=" in str(ln.get_label())]
    assert len(bound) == 1 and list(bound[0].get_xdata()) == [0.1, 0.1]
    assert ax.get_xlabel().startswith("hub.reach_stacker_utilization")
    assert ax.get_ylabel() == "cost"


def test_tuning_chart_without_constraints_or_feasible_trials() -> None:
    df = _trials()
    df["feasible"] = False
    df.attrs = {"params": ["hub.reach_stackers"]}
    fig = tuning_chart(df)
    ax = fig.axes[0]
    labels = {c.get_label() for c in ax.collections}
    assert "cheapest feasible" not in labels
    assert ax.get_xlabel().startswith("hub.reach_stacker_utilization")
    with pytest.raises(KeyError, match="no KPI"):
        tuning_chart(df, kpi="pax.nope")
