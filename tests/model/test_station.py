"""Station model: spec validation, calibration, tables, exactness of the kernels."""

from __future__ import annotations

import copy
import datetime
import math
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from g60rail.model import station_kernel as K
from g60rail.model.station import simulate_station
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import small_station

MONDAY = datetime.datetime(2025, 3, 10)


def packaged_station() -> StationSpec:
    text = (resources.files("g60rail") / "scenario" / "data" / "baseline.toml").read_text(
        encoding="utf-8"
    )
    return StationSpec.model_validate(tomllib.loads(text)["station"])


# --- spec validation -------------------------------------------------------------------


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("entrances.0.security_lanes_per_hour", [0] * 24, "at least one hour"),
        ("entrances.0.security_lanes_per_hour", [1] * 23, "at least 24"),
        ("entrances.0.security_lanes_per_hour", [-1] + [1] * 23, "lanes per hour"),
        ("entrances.0.share", 1.2, "less than or equal to 1"),
        ("entrances.1.share", 0.5, "sum to 1"),
        ("entrances.1.name", "north", "unique"),
        ("gates.open_min_before_departure", 5.0, "greater than close"),
        ("gates.groups", 0, "greater than or equal to 1"),
        ("services", [], "at least 1"),
        ("services.0.last_departure_h", 5.0, "last_departure_h"),
        ("services.0.first_departure_h", 24.0, "less than 24"),
        ("services.0.load_factor", 1.5, "less than or equal to 1"),
        ("services.1.departure_times_h", [1.0, 2.0], "lists 2 times"),
        ("services.1.departure_times_h", [1.0, 2.0, 25.0], "[0, 24)"),
        ("services.1.max_load_factor", 0.2, "must not exceed max_load_factor"),
        ("services.0.train_type", "maglev", "'hsr' or 'conventional'"),
        ("hall_capacity_pax", 0, "greater than 0"),
        ("arrival_lead_min", {"dist": "lognormal", "mean": 30.0, "cv": float("nan")}, "finite"),
        ("weekday_multipliers", [1.0] * 6, "at least 7"),
        ("hall_capacity", 10, "Extra inputs"),
    ],
)
def test_invalid_specs_are_rejected(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        StationSpec.model_validate(_set(small_station(), path, value))
    assert message in str(err.value)


def test_peak_period_must_be_ordered_and_multiplies() -> None:
    period = {
        "name": "x",
        "first_day": "2025-01-10",
        "last_day": "2025-01-01",
        "passenger_multiplier": 1.2,
    }
    with pytest.raises(ValidationError, match="must not be before"):
        StationSpec.model_validate(small_station(peak_periods=[period]))
    period["last_day"] = "2025-01-20"
    spec = StationSpec.model_validate(
        small_station(peak_periods=[period], weekday_multipliers=[1, 1, 1, 1, 2, 1, 1])
    )
    assert spec.day_multiplier(datetime.date(2025, 1, 10)) == pytest.approx(2.4)  # a Friday
    assert spec.day_multiplier(datetime.date(2025, 1, 21)) == 1.0


def test_packaged_section_validates_and_has_the_timetable() -> None:
    spec = packaged_station()
    assert spec.departures_per_day == 190
    assert sum(s.departures_per_day for s in spec.services if s.train_type == "hsr") == 113
    assert spec.gates.groups == 14
    assert spec.hall_capacity_pax == 5000


# --- calibration -----------------------------------------------------------------------


def test_packaged_station_day_is_calibrated() -> None:
    run = simulate_station(
        packaged_station(), start=datetime.datetime(2025, 3, 12), days=1, streams=Streams(3)
    )
    assert 60_000 <= run.kpis["pax.passengers"] <= 77_000
    assert run.kpis["pax.departures"] == 190
    assert run.kpis["pax.security_wait_min_p95"] < 10.0
    assert run.kpis["pax.hall_occupancy_max"] < 5000


# --- tables and conservation -----------------------------------------------------------


@pytest.fixture(scope="module")
def small_run() -> Any:
    spec = StationSpec.model_validate(small_station())
    return simulate_station(spec, start=MONDAY, days=3, streams=Streams(11), record_passengers=True)


def test_every_passenger_boards_or_misses(small_run: Any) -> None:
    k, dep, pax = small_run.kpis, small_run.tables["pax_departures"], small_run.tables["passengers"]
    assert k["pax.passengers"] == len(pax) == dep["passengers"].sum()
    assert k["pax.boarded"] + k["pax.missed_departures"] == k["pax.passengers"]
    assert (dep["boarded"] + dep["missed"] == dep["passengers"]).all()
    assert k["pax.departures"] == len(dep) == 3 * 15
    # missed exactly when the gates were reached after closing
    late = pax["security_exit_h"] + 2.0 / 60 > pax["departure_h"] - 5.0 / 60
    assert (late == pax["missed"]).all()
    assert pax.loc[pax["boarded"], "gate_pass_h"].notna().all()
    gate_ok = pax["gate_pass_h"] >= pax["departure_h"] - 20.0 / 60 + 1 / (60 * 15) - 1e-12
    assert gate_ok[pax["boarded"]].all()


def test_hourly_table_matches_passenger_records(small_run: Any) -> None:
    h, pax = small_run.tables["pax_hourly"], small_run.tables["passengers"]
    assert len(h) == 72
    expected = {
        "time",
        "hour_of_day",
        "arrivals",
        "queue",
        "wait_p50_min",
        "wait_p95_min",
        "hall_occupancy",
        "lanes_open",
        "departures",
        "boarded",
        "missed",
    }
    assert expected <= set(h.columns)
    slot = np.floor(pax["arrival_h"]).astype(int)
    inside = pax[(slot >= 0) & (slot < 72)]
    groups = inside.groupby(np.floor(inside["arrival_h"]).astype(int))["security_wait_min"]
    p95 = groups.quantile(0.95)
    np.testing.assert_allclose(h.loc[p95.index, "wait_p95_min"], p95, rtol=0, atol=1e-12)
    assert (h.loc[p95.index, "arrivals"] == groups.size()).all()
    # the whole-run p95 is streamed (a histogram of 1/6000-min bins, WaitHistogram): it is
    # within one bin width (0.01 s) of the exact quantile, not bit-exact like the hourly ones
    assert small_run.kpis["pax.security_wait_min_p95"] == pytest.approx(
        np.quantile(pax["security_wait_min"], 0.95), abs=1 / 6000 + 1e-9
    )
    assert small_run.kpis["pax.security_wait_min_max"] == pax["security_wait_min"].max()
    assert small_run.kpis["pax.security_wait_min_mean"] == pytest.approx(
        pax["security_wait_min"].mean(), rel=1e-12
    )
    lanes = np.add(*[e["security_lanes_per_hour"] for e in small_station()["entrances"]])
    assert h["lanes_open"].tolist() == lanes.tolist() * 3
    assert h["time"].iloc[25] == datetime.datetime(2025, 3, 11, 1)


def test_queue_and_hall_statistics_match_event_counts(small_run: Any) -> None:
    pax = small_run.tables["passengers"]
    # hall: from the end of screening until the gate (or the closed gate)
    leave = np.where(pax["missed"], pax["security_exit_h"] + 2.0 / 60, pax["gate_pass_h"])
    times = np.concatenate([leave, pax["security_exit_h"]])
    steps = np.concatenate([-np.ones(len(pax)), np.ones(len(pax))])
    order = np.lexsort((steps, times))  # departures first at equal times
    assert np.cumsum(steps[order]).max() == small_run.kpis["pax.hall_occupancy_max"]
    # time-average queue over the run: total waiting time / horizon
    h = small_run.tables["pax_hourly"]
    wait_h = (pax["security_start_h"] - pax["arrival_h"]).clip(lower=0)
    inside = np.clip(pax["security_start_h"], 0, 72) - np.clip(pax["arrival_h"], 0, 72)
    assert h["queue"].sum() == pytest.approx(inside.sum(), rel=1e-9)
    assert wait_h.sum() >= inside.sum()


def test_days_do_not_depend_on_the_start_of_the_run() -> None:
    spec = StationSpec.model_validate(small_station())
    one = simulate_station(
        spec, start=MONDAY + datetime.timedelta(days=1), days=1, streams=Streams(5)
    )
    two = simulate_station(spec, start=MONDAY, days=2, streams=Streams(5))
    d1, d2 = one.tables["pax_departures"], two.tables["pax_departures"].iloc[15:]
    assert d1["passengers"].tolist() == d2["passengers"].tolist()
    assert d1["time"].tolist() == d2["time"].tolist()


def test_start_in_mid_day_and_fractional_days() -> None:
    spec = StationSpec.model_validate(small_station())
    run = simulate_station(
        spec, start=MONDAY + datetime.timedelta(hours=12, minutes=30), days=0.5, streams=Streams(2)
    )
    dep = run.tables["pax_departures"]
    tod = [t for sv in spec.services for t in sv.times_of_day_h()]
    expected = sum(t >= 12.5 for t in tod) + sum(t < 0.5 for t in tod)  # 12:30 to 00:30
    assert dep["time_h"].between(0, 12).all() and len(dep) == expected == 8
    assert len(run.tables["pax_hourly"]) == 12
    assert "passengers" not in run.tables


def test_bad_run_arguments() -> None:
    spec = StationSpec.model_validate(small_station())
    with pytest.raises(ValueError, match="days"):
        simulate_station(spec, start=MONDAY, days=0, streams=Streams(1))


# --- kernels ---------------------------------------------------------------------------


def test_compiled_kernels_equal_interpreted_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(-2, 50, 3000))
    svc = rng.exponential(0.05, 3000)
    lanes = rng.integers(0, 4, 24)
    lanes[3] = 5
    nxt = K.next_open_table(lanes)
    fast = K.security_fifo(a, svc, lanes, nxt, 6.25, np.full(5, -np.inf))
    slow = K.security_fifo.py_func(a, svc, lanes, nxt, 6.25, np.full(5, -np.inf))
    assert np.array_equal(fast, slow)
    grp = rng.integers(0, 3, 3000)
    o = np.lexsort((a, grp))
    assert np.array_equal(
        K.gate_fifo(a[o], grp[o], 0.01, np.full(3, -np.inf)),
        K.gate_fifo.py_func(a[o], grp[o], 0.01, np.full(3, -np.inf)),
    )


def test_gate_queue_order_is_a_lexsort() -> None:
    rng = np.random.default_rng(8)
    for _ in range(20):
        n = int(rng.integers(1, 2000))
        dep = np.sort(rng.integers(0, 40, n))
        dep_time = np.cumsum(rng.random(40) * 0.3)[dep]
        reach = dep_time - rng.lognormal(np.log(0.5), 0.8, n)
        gate = np.maximum(reach, dep_time - 0.33)
        grp = dep % 7
        order = K.gate_queue_order(np.argsort(reach), grp, dep, gate, reach, 7)
        assert np.array_equal(order, np.lexsort((reach, gate, grp)))


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    terms = sum(a**k / math.factorial(k) for k in range(c))
    last = a**c / math.factorial(c) / (1 - rho)
    return last / (terms + last) / (c * mu - lam)


@pytest.mark.parametrize(
    ("rho", "c", "size"), [(0.5, 2, 25_000), (0.8, 4, 50_000), (0.95, 8, 200_000)]
)
def test_constant_lanes_match_erlang_c(rho: float, c: int, size: int) -> None:
    """Poisson arrivals, exponential screening, c lanes all day: mean wait = Erlang C.

    Batch means over 40 batches of ``size`` passengers after a warm-up of 100,000.  The
    queue forgets its past within about 1/(c mu (1 - sqrt rho)^2) service times (~200 at
    rho = 0.95, c = 8, i.e. ~1,500 passengers), far less than a batch, so the batch means
    are nearly independent and normal.  Erlang C must lie inside the 99.9 % t-interval of
    the batch means (a false alarm has probability 0.1 % per case; the seed is fixed), and
    the interval must be narrower than 10 % of the mean for the check to mean something.
    """
    mu = 1.0 / 0.01  # 36 s screening, per hour
    lam = rho * c * mu
    rng = Streams(2024).rng("pax.security.erlang")
    n_warm, n_batches = 100_000, 40
    n = n_warm + n_batches * size
    a = np.cumsum(rng.exponential(1 / lam, n))
    svc = rng.exponential(1 / mu, n)
    lanes = np.full(24, c, dtype=np.int64)
    start = K.security_fifo(a, svc, lanes, K.next_open_table(lanes), 0.0, np.full(c, -np.inf))
    batches = (start - a)[n_warm:].reshape(n_batches, size).mean(axis=1)
    mean = batches.mean()
    half = stats.t.ppf(0.9995, n_batches - 1) * batches.std(ddof=1) / math.sqrt(n_batches)
    exact = erlang_c_wait(lam, mu, c)
    assert abs(mean - exact) <= half, (mean, exact, half)
    assert half < 0.1 * exact  # the interval is informative
