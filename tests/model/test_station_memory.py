"""Station model over long runs: streamed whole-run wait statistics and flat memory."""

from __future__ import annotations

import datetime
import tracemalloc

import numpy as np
import pytest

from g60rail.model.station import StationRun, simulate_station
from g60rail.model.station.records import WaitHistogram
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import small_station

MONDAY = datetime.datetime(2025, 3, 10)
BIN = 1.0 / 6000.0  # the documented error bound of the whole-run p95 [min] (0.01 s)
QS = [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0]


def mixed_waits(rng: np.random.Generator, n: int) -> np.ndarray:
    """Waits [min] with many exact zeros, a lognormal body and ties."""
    w = rng.lognormal(0.0, 1.2, n)
    w[rng.random(n) < 0.4] = 0.0
    w[:50] = 1.234  # ties inside one bin
    return rng.permutation(w)


def fill(h: WaitHistogram, w: np.ndarray, chunks: int = 7) -> WaitHistogram:
    for part in np.array_split(w, chunks):
        h.extend(part)
    return h


def test_histogram_quantiles_are_within_one_bin_of_numpy() -> None:
    rng = np.random.default_rng(1)
    w = mixed_waits(rng, 200_000)
    h = fill(WaitHistogram(), w)
    assert h.n == w.size and h.n_zero == int(np.count_nonzero(w == 0.0))
    assert h.max == w.max()
    assert h.total / h.n == pytest.approx(w.mean(), rel=1e-12)
    for q in QS:
        assert abs(h.quantile(q) - np.quantile(w, q)) <= BIN + 1e-12, q
    assert h.quantile(0.0) == 0.0  # zeros are exact
    # memory follows the longest wait, not the number of waits
    assert h.counts.size <= 2 * int(w.max() / BIN) + 1
    assert not h.over


def test_histogram_keeps_waits_above_the_cap_exactly() -> None:
    rng = np.random.default_rng(2)
    w = mixed_waits(rng, 50_000)
    h = fill(WaitHistogram(cap_min=2.0), w)
    assert h.counts.size == h.n_bins == 12_000  # the cap bounds the bins
    above = np.sort(w[w >= 2.0])
    assert np.array_equal(np.sort(np.concatenate(h.over)), above)
    assert int(h.counts.sum()) + h.n_zero + above.size == w.size
    for q in QS:
        exact = np.quantile(w, q)
        got = h.quantile(q)
        assert abs(got - exact) <= BIN + 1e-12, q
        vi = (w.size - 1) * q
        if np.sort(w)[int(np.floor(vi))] >= 2.0:  # both order statistics above the cap
            assert got == exact, q
    # a run where every wait is above the (default) cap: the p95 is exact
    long = 240.0 + rng.exponential(30.0, 1_000)
    h = fill(WaitHistogram(), long)
    assert h.quantile(0.95) == np.quantile(long, 0.95)
    assert h.counts.sum() == 0


def test_histogram_of_nothing_and_of_zeros() -> None:
    h = WaitHistogram()
    assert h.quantile(0.95) == 0.0
    h.extend(np.zeros(10))
    h.extend(np.empty(0))
    assert (h.n, h.n_zero, h.quantile(0.95), h.max) == (10, 10, 0.0, 0.0)


@pytest.fixture(scope="module")
def short_run() -> StationRun:
    """A 2-day run of the small (overloaded) station with passenger records."""
    spec = StationSpec.model_validate(small_station())
    return simulate_station(spec, start=MONDAY, days=2, streams=Streams(7), record_passengers=True)


def test_run_p95_is_within_one_bin_of_the_exact_quantile(short_run: StationRun) -> None:
    run = short_run
    wait = run.tables["passengers"]["security_wait_min"].to_numpy()
    assert (wait >= 240.0).any()  # the small station also exercises the waits above the cap
    k = run.kpis
    assert abs(k["pax.security_wait_min_p95"] - np.quantile(wait, 0.95)) <= BIN + 1e-9
    assert k["pax.security_wait_min_max"] == wait.max()
    assert k["pax.security_wait_min_mean"] == pytest.approx(wait.mean(), rel=1e-12)
    assert k["pax.passengers"] == wait.size


def traced_run(days: float) -> tuple[StationRun, int]:
    spec = StationSpec.model_validate(small_station())
    tracemalloc.start()
    try:
        run = simulate_station(spec, start=MONDAY, days=days, streams=Streams(3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return run, peak


def test_memory_is_flat_in_the_horizon_and_departures_append_correctly() -> None:
    simulate_station(  # compile the kernels outside the traced runs
        StationSpec.model_validate(small_station()), start=MONDAY, days=1, streams=Streams(3)
    )
    short, peak_short = traced_run(10)
    long, peak_long = traced_run(90)  # 1,350 departures: the departure buffers grow
    assert long.kpis["pax.passengers"] > 8 * short.kpis["pax.passengers"]
    assert peak_long <= 1.5 * peak_short, (peak_short, peak_long)
    # the first days do not depend on the later ones (the last day of the short run can:
    # early passengers of the next day's departures share its evening queue)
    d_short = short.tables["pax_departures"].iloc[: 15 * 9]
    d_long = long.tables["pax_departures"].iloc[: 15 * 9]
    cols = ["time_h", "destination", "gate_group", "seats", "passengers", "missed"]
    assert d_short[cols].equals(d_long[cols])
    dep = long.tables["pax_departures"]
    assert len(dep) == 90 * 15 and dep["time_h"].is_monotonic_increasing
    assert dep["missed"].sum() == long.kpis["pax.missed_departures"]
    assert dep["passengers"].sum() == long.kpis["pax.passengers"]
