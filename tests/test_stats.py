"""Confidence intervals agree with SciPy and t tables; the relative-precision estimate
follows its definition; MSER-5 and warm-up KPIs do what they claim."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

import g60rail as g6
from g60rail.experiment.precision import (
    adjusted_relative_precision,
    relative_half_width,
    replications_for_relative_precision,
)
from g60rail.experiment.stats import (
    STAT_COLUMNS,
    independent_difference,
    littles_law_gap,
    paired_difference,
    summarize,
    t_interval,
    t_ppf,
)
from g60rail.experiment.warmup import mser5, suggest_warmup_days
from tests.conftest import songjiang_hub


@pytest.mark.parametrize("df", [1, 2, 3, 4.5, 9, 29, 100, 1e4])
@pytest.mark.parametrize("q", [1e-8, 0.005, 0.025, 0.3, 0.5, 0.6, 0.95, 0.975, 0.995, 0.999999])
def test_t_quantile_matches_scipy(q: float, df: float) -> None:
    assert t_ppf(q, df) == pytest.approx(scipy_stats.t.ppf(q, df), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5])
def test_t_quantile_rejects_bad_probability(q: float) -> None:
    with pytest.raises(ValueError, match="q must be"):
        t_ppf(q, 5)
    with pytest.raises(ValueError, match="df must be positive"):
        t_ppf(0.975, 0)


def test_t_quantile_matches_known_values() -> None:
    # t(0.975, 10) to full double precision
    assert t_ppf(0.975, 10) == pytest.approx(2.228138851986274, rel=1e-14)
    # printed Student-t tables (three decimals; e.g. Law & Kelton, Table T.1)
    table = {
        (0.95, 1): 6.314,
        (0.975, 2): 4.303,
        (0.999, 3): 10.215,
        (0.995, 5): 4.032,
        (0.975, 30): 2.042,
        (0.90, 120): 1.289,
    }
    for (q, df), value in table.items():
        assert t_ppf(q, df) == pytest.approx(value, abs=5e-4)
        assert t_ppf(1 - q, df) == pytest.approx(-value, abs=5e-4)  # symmetry
    assert t_ppf(0.5, 7) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=40
    ),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_t_interval_matches_scipy(values: list[float], confidence: float) -> None:
    x = np.asarray(values)
    ci = t_interval(x, confidence)
    sem = scipy_stats.sem(x)
    if sem == 0:
        assert ci.half_width == 0
        return
    low, high = scipy_stats.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=sem)
    scale = max(1.0, abs(x.mean()), sem)
    assert ci.low == pytest.approx(low, rel=1e-9, abs=1e-9 * scale)
    assert ci.high == pytest.approx(high, rel=1e-9, abs=1e-9 * scale)
    assert ci.n == len(x)


def test_summary_columns_and_values_match_scipy() -> None:
    rng = np.random.default_rng(3)
    runs = pd.DataFrame(
        {
            "replication": np.arange(12),
            "hub.dwell_h_mean": rng.normal(40, 2, 12),
            "freight.teu_created": rng.poisson(3000, 12).astype(float),
        }
    )
    runs.loc[3, "hub.dwell_h_mean"] = np.nan  # a KPI without observation in one run
    s = summarize(runs, ["hub.dwell_h_mean", "freight.teu_created"], confidence=0.9)
    assert list(s.columns) == list(STAT_COLUMNS)
    assert s.index.name == "kpi"
    for kpi in s.index:
        x = runs[kpi].dropna().to_numpy()
        low, high = scipy_stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=scipy_stats.sem(x))
        assert s.loc[kpi, "n"] == len(x)
        assert s.loc[kpi, "ci_low"] == pytest.approx(low, rel=1e-10)
        assert s.loc[kpi, "ci_high"] == pytest.approx(high, rel=1e-10)
        assert s.loc[kpi, "half_width"] == pytest.approx((high - low) / 2, rel=1e-9)
    assert s.loc["hub.dwell_h_mean", "n"] == 11


def test_single_observation_has_no_interval() -> None:
    ci = t_interval([5.0])
    assert ci.mean == 5.0
    assert math.isnan(ci.low) and math.isnan(ci.high) and ci.n == 1
    s = summarize(pd.DataFrame({"k": [1.0]}))
    assert math.isnan(s.loc["k", "ci_low"])


def test_paired_difference_matches_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(1)
    common = rng.normal(100, 10, 15)
    a, b = common + rng.normal(1, 0.5, 15), common + rng.normal(0, 0.5, 15)
    ci = paired_difference(a, b, 0.95)
    ref = scipy_stats.ttest_rel(a, b).confidence_interval(0.95)
    assert (ci.low, ci.high) == pytest.approx((ref.low, ref.high), rel=1e-10)
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference(a, b[:-1])


def test_independent_difference_matches_scipy_welch() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(10, 1, 9), rng.normal(9, 3, 14)
    ci = independent_difference(a, b, 0.95)
    ref = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (ci.low, ci.high) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert ci.mean == pytest.approx(a.mean() - b.mean())


# -- relative precision ---------------------------------------------------------------
def _needed_by_definition(mean: float, std: float, n: int, gamma: float) -> int:
    """Law & Kelton's n_r*(γ), by counting up from n."""
    target = gamma / (1 + gamma)
    i = n
    while t_ppf(0.975, i - 1) * std / math.sqrt(i) > target * abs(mean):
        i += 1
    return i


@pytest.mark.parametrize(
    ("mean", "std", "n"),
    [(10.0, 2.0, 3), (10.0, 2.0, 30), (-5.0, 4.0, 2), (100.0, 1.0, 5), (1.0, 0.3, 10)],
)
def test_replications_for_relative_precision_follow_law_and_kelton(
    mean: float, std: float, n: int
) -> None:
    needed = replications_for_relative_precision(mean, std, n, 0.05)
    assert needed == _needed_by_definition(mean, std, n, 0.05)
    assert needed is not None and needed >= n


def test_replications_for_relative_precision_edge_cases() -> None:
    assert replications_for_relative_precision(10.0, 0.0, 4, 0.05) == 4  # no spread
    assert replications_for_relative_precision(0.0, 1.0, 4, 0.05) is None  # zero mean
    assert replications_for_relative_precision(math.nan, 1.0, 4, 0.05) is None
    assert replications_for_relative_precision(1e-9, 1.0, 4, 0.05) is None  # beyond 1e12
    # a looser precision or confidence needs fewer replications
    tight = replications_for_relative_precision(10.0, 2.0, 5, 0.02)
    loose = replications_for_relative_precision(10.0, 2.0, 5, 0.10)
    low = replications_for_relative_precision(10.0, 2.0, 5, 0.02, confidence=0.8)
    assert tight is not None and loose is not None and low is not None
    assert loose < tight and low < tight
    with pytest.raises(ValueError, match="n must be >= 2"):
        replications_for_relative_precision(10.0, 2.0, 1, 0.05)
    with pytest.raises(ValueError, match="precision must be a positive number, got 0"):
        replications_for_relative_precision(10.0, 2.0, 5, 0)


def test_adjusted_and_relative_half_widths() -> None:
    assert adjusted_relative_precision(0.05) == pytest.approx(0.05 / 1.05)
    for bad in (0.0, -0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="precision"):
            adjusted_relative_precision(bad)
    assert relative_half_width(-20.0, 1.0) == 0.05
    assert relative_half_width(0.0, 0.0) == 0.0
    assert relative_half_width(0.0, 1.0) == math.inf
    assert math.isnan(relative_half_width(5.0, math.nan))


def _mser_brute(y: np.ndarray, batch: int = 5) -> int:
    k = len(y) // batch
    m = y[: k * batch].reshape(k, batch).mean(axis=1)
    d_max = min(k - 2, k // 2)  # at least two batches stay
    stats = [np.sum((m[d:] - m[d:].mean()) ** 2) / (k - d) ** 2 for d in range(d_max + 1)]
    return int(np.argmin(stats)) * batch


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=10, max_size=120))
def test_mser5_matches_its_definition(values: list[float]) -> None:
    y = np.asarray(values)
    assert mser5(y) == _mser_brute(y)


def test_mser5_finds_an_initial_transient() -> None:
    rng = np.random.default_rng(0)
    transient = np.linspace(0, 100, 25)  # an empty system filling up over 25 days
    steady = 100 + rng.normal(0, 5, 175)
    d = mser5(np.concatenate([transient, steady]))
    assert 15 <= d <= 40
    assert d % 5 == 0
    assert mser5(steady) <= 20  # little to cut from a stationary series
    assert mser5([1.0, 2.0, 3.0]) == 0  # shorter than two batches
    with pytest.raises(ValueError, match="NaN"):
        mser5([1.0, np.nan] * 10)


@pytest.fixture(scope="module")
def run() -> g6.Result:
    """25 days of the baseline's Songjiang services: the yard series the suggestion reads."""
    return g6.simulate(songjiang_hub(), days=25, seed=11)


def test_suggest_warmup_days_from_a_run(run: g6.Result) -> None:
    d = suggest_warmup_days(run)
    assert 0 <= d <= 25 // 2 and d % 5 == 0
    assert d == mser5(run.tables["timeseries"]["yard_teu_mean.songjiang"])
    with pytest.raises(KeyError):
        suggest_warmup_days(run, column="nope")


def test_littles_law_gap() -> None:
    assert littles_law_gap(100.0, 2.0, 50.0) == 0.0
    assert littles_law_gap(110.0, 2.0, 50.0) == pytest.approx(0.1)
    assert math.isnan(littles_law_gap(1.0, 0.0, 5.0))
