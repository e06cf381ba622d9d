"""The tally's statistics: exact while small, within their stated accuracy once folded;
busy time counted from the warm-up."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from g60rail.model.probes import EXACT_LIMIT, RELATIVE_ACCURACY, BusyTime, Tally

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)


def _tally(values: np.ndarray) -> Tally:
    t = Tally()
    for v in values:
        t.add(float(v))
    return t


def _check_folded(t: Tally, values: np.ndarray) -> None:
    """Every quantile within the relative accuracy of the two order statistics it
    interpolates (an absolute 1e-9 h for magnitudes the tally counts as zero)."""
    s = np.sort(values)
    for q in QUANTILES:
        rank = q * (len(s) - 1)
        scale = max(abs(s[math.floor(rank)]), abs(s[math.ceil(rank)]))
        exact = float(np.quantile(values, q))
        assert abs(t.quantile(q) - exact) <= RELATIVE_ACCURACY * scale * (1 + 1e-9) + 1e-9, q
    assert t.mean() == pytest.approx(float(np.mean(values)), rel=1e-12, abs=1e-12)


def test_a_small_tally_is_exact() -> None:
    rng = np.random.default_rng(1)
    values = rng.exponential(3.0, EXACT_LIMIT - 1)
    t = _tally(values)
    assert t.exact and len(t) == len(values)
    assert np.array_equal(t.values, values)
    assert t.mean() == float(values.mean())
    for q in QUANTILES:
        assert t.quantile(q) == float(np.quantile(values, q))


def test_a_large_tally_folds_and_keeps_its_accuracy() -> None:
    rng = np.random.default_rng(2)
    # waits: a third zero, the rest lognormal over five decades
    values = np.where(
        rng.random(3 * EXACT_LIMIT) < 1 / 3, 0.0, rng.lognormal(0.0, 2.5, 3 * EXACT_LIMIT)
    )
    t = _tally(values)
    assert not t.exact and len(t) == len(values)
    _check_folded(t, values)
    with pytest.raises(ValueError, match="folded"):
        _ = t.values


def test_folded_memory_does_not_grow_with_observations() -> None:
    rng = np.random.default_rng(3)
    t = Tally()
    sizes = []
    for _ in range(4):
        for v in rng.gamma(2.0, 5.0, 100_000):
            t.add(float(v))
        sizes.append(t.nbytes)
    # past the first 100,000 (800 kB as they are): a block of 4,096 observations waiting
    # to be folded and a few new buckets in the tails at most
    assert max(sizes[1:]) <= sizes[0] + 8 * 4096 + 8 * 2000
    assert max(sizes) < 8 * 100_000 / 8


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.one_of(st.just(0.0), st.floats(-1e4, 1e5, allow_nan=False)),
        min_size=1,
        max_size=300,
    ),
    st.integers(0, 3),
)
def test_merged_tallies_agree_with_one_tally_of_all(xs: list[float], repeat: int) -> None:
    """Merging, folding and the order of observations change nothing beyond rounding:
    merged tallies give the quantiles of one tally of all the values."""
    values = np.array(xs * (1 + repeat * (EXACT_LIMIT // max(len(xs), 1) // 2)), dtype=float)
    half = len(values) // 2
    a, b = _tally(values[:half]), _tally(values[half:])
    m, whole = a.merged(b), _tally(values)
    assert len(m) == len(values)
    if m.exact:
        assert np.array_equal(m.values, values)
    else:
        _check_folded(m, values)
        for q in QUANTILES:
            assert m.quantile(q) == pytest.approx(whole.quantile(q), rel=1e-12, abs=1e-12)


def test_an_empty_tally_has_no_statistics() -> None:
    t = Tally()
    assert len(t) == 0 and math.isnan(t.mean()) and math.isnan(t.quantile(0.5))


def test_a_folded_tally_with_a_nan_has_nan_statistics_as_numpy() -> None:
    values = np.arange(2.0 * EXACT_LIMIT)
    values[5] = math.nan
    t = _tally(values)
    assert not t.exact
    assert math.isnan(t.quantile(0.5)) and math.isnan(float(np.quantile(values, 0.5)))
    assert math.isnan(t.mean())


@given(
    st.lists(st.tuples(st.floats(0.0, 100.0), st.floats(0.0, 10.0)), min_size=0, max_size=30),
    st.floats(0.0, 100.0),
)
def test_busy_time_counts_the_part_of_each_interval_after_its_start(
    intervals: list[tuple[float, float]], from_h: float
) -> None:
    busy = BusyTime(from_h)
    for start, hours in intervals:
        busy.add(start, hours)
    # the overlap of [start, start + hours] with [from_h, inf), interval by interval
    expected = sum(max(0.0, s + h - max(s, from_h)) for s, h in intervals)
    assert busy.h == pytest.approx(expected, abs=1e-9)
    horizon = from_h + 50.0
    assert busy.utilization(2, horizon) == pytest.approx(expected / 100.0, abs=1e-9)


def test_busy_time_without_server_hours_has_no_utilisation() -> None:
    assert math.isnan(BusyTime(5.0).utilization(0, 24.0))
    assert math.isnan(BusyTime(24.0).utilization(3, 24.0))


def test_a_tally_of_waits_counts_those_that_began_after_the_warm_up() -> None:
    waits = Tally(from_h=5.0)
    waits.add_wait(4.0, 9.0)  # began before the warm-up ended: left out
    waits.add_wait(5.0, 7.5)
    waits.add_wait(6.0, 6.0)
    assert list(waits.values) == [2.5, 0.0]
