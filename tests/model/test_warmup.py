"""Warm-up: ``simulate(..., warmup_days=w)`` leaves the first ``w`` days out of the time
statistics and changes nothing else.

The reference is computed here from the tables of the same run: the boxes created at or
after the warm-up (door-to-door, transit, road, the main hub's dwell), the trains that
reached a port at or after it (clearance), and the yard's daily means and maxima from the
first whole day after it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import g60rail as g6
from g60rail.model.probes import RELATIVE_ACCURACY

DAYS, SEED, WARMUP = 25, 11, 10


@pytest.fixture(scope="module")
def runs() -> tuple[g6.Result, g6.Result]:
    sc = g6.load_scenario("baseline").with_overrides({"station": None})
    return (
        g6.simulate(sc, days=DAYS, seed=SEED),
        g6.simulate(sc, days=DAYS, seed=SEED, warmup_days=WARMUP),
    )


def _mean_p95_n(values: np.ndarray) -> tuple[float, float, float]:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan, 0.0
    return float(values.mean()), float(np.quantile(values, 0.95)), float(values.size)


def reference_kpis(result: g6.Result, warmup_days: float, hub: str) -> dict[str, float]:
    """The time statistics after ``warmup_days``, rebuilt from the run's tables."""
    w = 24.0 * warmup_days
    c = result.tables["containers"]
    c = c[c["t_created"] >= w]
    arrived = c[c["t_arrived"].notna()]
    rail = arrived[arrived["mode"] == "rail"]
    out: dict[str, float] = {}
    for family, frame, start in (
        ("door", rail, "t_created"),
        ("transit", rail, "t_departed"),
        ("road", arrived[arrived["mode"] == "road"], "t_created"),
    ):
        for (o, d), g in frame.groupby(["first_terminal", "destination"], sort=True):
            stats = _mean_p95_n((g["t_arrived"] - g[start]).to_numpy(float))
            for name, v in zip(("h_mean", "h_p95", "n"), stats, strict=True):
                out[f"{family}.{o}_{d}.{name}"] = v
    outbound = c[(c["first_terminal"] == hub) & c["t_loaded"].notna()]
    inbound = rail[(rail["destination"] == hub) & rail["t_delivered"].notna()]
    dwell = np.concatenate(
        [
            (outbound["t_loaded"] - outbound["t_gate_in"]).to_numpy(float),
            (inbound["t_delivered"] - inbound["t_arrived"]).to_numpy(float),
        ]
    )
    out["hub.dwell_h_mean"], out["hub.dwell_h_p95"], _ = _mean_p95_n(dwell)
    border = result.tables["border"]
    border = border[border["t_in"] >= w]
    for port, g in border.groupby("port"):
        mean, p95, n = _mean_p95_n(g["clearance_h"].to_numpy(float))
        out[f"border.{port}.clearance_h_mean"] = mean
        out[f"border.{port}.clearance_h_p95"] = p95
        out[f"border.{port}.trains"] = n
    ts = result.tables["timeseries"]
    keep = ts["day"] >= math.floor(warmup_days)
    lengths = np.minimum(24.0, 24.0 * DAYS - 24.0 * ts["day"].to_numpy(float))[keep]
    for col in [c for c in ts.columns if c.startswith("yard_teu_mean.")]:
        place = col.split(".", 1)[1]
        prefix = "hub" if place == hub else f"hub.{place}"
        out[f"{prefix}.yard_teu_mean"] = float((ts.loc[keep, col] * lengths).sum() / lengths.sum())
        out[f"{prefix}.yard_teu_max"] = float(ts.loc[keep, f"yard_teu_max.{place}"].max())
    return out


def test_warmup_changes_the_statistics_not_the_run(runs: tuple[g6.Result, g6.Result]) -> None:
    full, warm = runs
    for name in ("containers", "trains", "border", "timeseries"):
        pd.testing.assert_frame_equal(full.tables[name], warm.tables[name])
    for k in ("freight.teu_created", "freight.teu_delivered", "hub.reach_stacker_moves"):
        assert full.kpis[k] == warm.kpis[k], k
    assert warm.manifest["warmup_days"] == WARMUP
    door_n = [k for k in full.kpis if k.startswith("door.") and k.endswith(".n")]
    assert sum(warm.kpis[k] for k in door_n) < sum(full.kpis[k] for k in door_n)


@pytest.mark.parametrize("warmup", [0, WARMUP])
def test_warmup_statistics_match_the_tables(runs: tuple[g6.Result, g6.Result], warmup: int) -> None:
    result = runs[0] if warmup == 0 else runs[1]
    ref = reference_kpis(runs[0], warmup, hub="songjiang")
    assert len(ref) > 40
    for k, v in ref.items():
        # a quantile of many observations comes from the tally's histogram (exact within
        # RELATIVE_ACCURACY); counts and means are exact up to rounding
        rel = RELATIVE_ACCURACY if k.endswith("_p95") else 1e-9
        assert result.kpis[k] == pytest.approx(v, rel=rel, nan_ok=True), k


def test_warmup_must_be_inside_the_run() -> None:
    sc = g6.load_scenario("baseline")
    for bad in (-1.0, 5.0, math.inf):
        with pytest.raises(ValueError, match="warmup_days"):
            g6.simulate(sc, days=5, seed=0, warmup_days=bad)
