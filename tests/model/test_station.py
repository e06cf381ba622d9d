"""Station model: spec validation, tables and conservation, the gate rule and rebooking
checked on the passenger records, levels of service, common random numbers, the security
kernel compiled and interpreted (the gate kernel: test_station_gates.py)."""

from __future__ import annotations

import copy
import datetime
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from g60rail.model.station import kernel as K
from g60rail.model.station import simulate_station
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec
from tests.model.station_reference import small_station

MONDAY = datetime.datetime(2025, 3, 10)
WALK = 2.0 / 60  # small_station's walk to the gates [h]
OPEN, CLOSE = 20.0 / 60, 5.0 / 60  # small_station's gate window [h before departure]


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
        ("entrances.0.queue_area_m2", 0.0, "greater than 0"),
        ("gates.open_min_before_departure", 5.0, "greater than close"),
        ("gates.groups", 0, "greater than or equal to 1"),
        ("gates.queue_area_m2", -1.0, "greater than 0"),
        ("services", [], "at least 1"),
        ("services.0.last_departure_h", 5.0, "last_departure_h"),
        ("services.0.first_departure_h", 24.0, "less than 24"),
        ("services.0.load_factor", 1.5, "less than or equal to 1"),
        ("services.1.departure_times_h", [1.0, 2.0], "lists 2 times"),
        ("services.1.departure_times_h", [1.0, 2.0, 25.0], "[0, 24)"),
        ("services.1.max_load_factor", 0.2, "must not exceed max_load_factor"),
        ("services.1.alighting_load_factor", 1.5, "alighting_load_factor"),
        ("services.0.train_type", "maglev", "'hsr' or 'conventional'"),
        ("hall_capacity_pax", 0, "greater than 0"),
        ("hall_area_m2", 0.0, "greater than 0"),
        ("arrival_lead_min", {"dist": "lognormal", "mean": 30.0, "cv": float("nan")}, "finite"),
        ("arrival_lead_floor_min", 300.0, "must be below"),
        ("late_arrival_share", 1.5, "less than or equal to 1"),
        ("rebooking", {"delay_min": -1.0}, "greater than or equal to 0"),
        ("rebooking", {"same_day": False}, "Extra inputs"),
        ("exits", {"gates": 0, "passengers_per_min": 10.0}, "greater than or equal to 1"),
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
    assert spec.hall_area == 6000.0  # 1.2 m² per design passenger
    assert spec.exits is not None and len(spec.entrances) == 3


# --- tables and conservation -----------------------------------------------------------


@pytest.fixture(scope="module")
def small_run() -> Any:
    spec = StationSpec.model_validate(small_station())
    return simulate_station(spec, start=MONDAY, days=3, streams=Streams(11), record_passengers=True)


def test_every_passenger_is_accounted_for(small_run: Any) -> None:
    k, dep, pax = small_run.kpis, small_run.tables["pax_departures"], small_run.tables["passengers"]
    assert k["pax.passengers"] == len(pax) == dep["passengers"].sum()
    assert k["pax.boarded"] + k["pax.missed_departures"] == k["pax.passengers"]
    causes = ["missed_late_arrival", "missed_due_to_security", "missed_at_gate"]
    assert sum(k[f"pax.{c}"] for c in causes) == k["pax.missed_departures"]
    assert k["pax.rebooked"] + dep["stranded_no_seat"].sum() == k["pax.missed_departures"]
    assert k["pax.stranded"] == dep["stranded_no_seat"].sum() + dep["rebooked_missed"].sum()
    assert (
        k["pax.boarded_after_rebooking"]
        == dep["rebooked_boarded"].sum()
        == (pax["boarded_rebooked"].sum())
    )
    assert k["pax.stranded"] == pax["stranded"].sum()
    assert (dep["boarded"] + dep["missed"] == dep["passengers"]).all()
    assert (dep[causes].sum(axis=1) == dep["missed"]).all()
    assert (dep["rebooked_boarded"] + dep["rebooked_missed"] == dep["rebooked_in"]).all()
    assert k["pax.departures"] == len(dep) == 3 * 15
    assert (
        k["pax.arriving"] == dep["alighting"].sum() == len(small_run.tables["arriving_passengers"])
    )
    for c in ("missed_late_arrival", "missed_due_to_security", "missed_at_gate"):
        assert k[f"pax.{c}"] > 0, c  # the small station exercises every cause
    assert k["pax.rebooked"] > 0 and k["pax.stranded"] > 0


def test_the_gate_decides(small_run: Any) -> None:
    """Nobody boards after the gate closed; a miss has a cause that the times show."""
    pax = small_run.tables["passengers"]
    close = pax["departure_h"] - CLOSE
    reach = pax["security_exit_h"] + WALK
    b = pax["boarded"]
    assert (pax.loc[b, "gate_pass_h"] <= close[b]).all()
    assert (pax.loc[b, "gate_pass_h"] >= pax.loc[b, "departure_h"] - OPEN + 1 / (60 * 15)).all()
    assert (pax.loc[b, "gate_pass_h"] > pax.loc[b, "gate_arrival_h"]).all()
    cause = pax["miss_cause"].astype(str)
    before = cause.isin(["late_arrival", "security"])
    assert (reach[before] > close[before]).all()  # the gates had closed
    gate = cause == "gate"
    assert (reach[gate] <= close[gate]).all() and pax.loc[gate, "gate_pass_h"].isna().all()
    zero_wait = pax["arrival_h"] + (pax["security_exit_h"] - pax["security_start_h"]) + WALK
    assert ((zero_wait > close) == (cause == "late_arrival"))[before].all()
    assert (
        pax.loc[b | gate, "gate_arrival_h"]
        == np.maximum(reach, pax["departure_h"] - OPEN)[b | gate]
    ).all()


def test_rebooking_follows_the_rule(small_run: Any) -> None:
    """Rebooked onto a later train of the same day to the same destination, with a seat,
    through its gate in time; the rebooked wait in the hall until then."""
    pax, dep = small_run.tables["passengers"], small_run.tables["pax_departures"]
    r = pax[pax["rebooked"]]
    assert len(r) > 0
    old, new = dep.loc[r["departure"]], dep.loc[r["rebooked_departure"]]
    assert (new["time_h"].to_numpy() > old["time_h"].to_numpy()).all()
    assert (new["destination"].to_numpy() == old["destination"].to_numpy()).all()
    assert (new["time"].dt.date.to_numpy() == old["time"].dt.date.to_numpy()).all()
    ok = r["boarded_rebooked"]
    assert (r.loc[ok, "rebooked_gate_pass_h"] <= r.loc[ok, "rebooked_departure_h"] - CLOSE).all()
    assert (r["rebooked_gate_arrival_h"] >= r["rebooked_departure_h"] - OPEN).all()
    # seats: own passengers plus those rebooked in never exceed seats * max_load_factor
    cap = np.floor(dep["seats"] * np.where(dep["train_type"] == "conventional", 1.2, 1.0))
    assert (dep["passengers"] + dep["rebooked_in"] <= cap).all()
    # stranded: no seat was left on any later same-day train to that destination
    s = pax[pax["stranded"] & ~pax["rebooked"]]
    for row in s.head(20).itertuples():
        d = dep.loc[row.departure]
        later = dep[
            (dep["destination"] == d["destination"])
            & (dep["time_h"] > d["time_h"])
            & (dep["time"].dt.date == d["time"].date())
            & (dep["time_h"] - CLOSE >= row.left_hall_h + 4.0 / 60)
        ]
        cap_l = np.floor(later["seats"] * (1.2 if d["train_type"] == "conventional" else 1.0))
        assert ((later["passengers"] + later["rebooked_in"]) >= cap_l).all()


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
        "gate_queue_max",
        "lanes_open",
        "departures",
        "boarded",
        "missed",
        "missed_at_gate",
        "arriving",
        "los_worst",
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


def _peaks(up: np.ndarray, down: np.ndarray, n_slots: int) -> np.ndarray:
    """Hourly maxima of a count with +1 at ``up`` and -1 at ``down``, as the model defines
    them: at equal times leaving comes first, and a slot's maximum is the largest level
    that holds for a while inside it, or is reached by someone joining inside it."""
    keep = down > up
    up, down = up[keep], down[keep]
    t = np.concatenate((down, up))
    step = np.concatenate((-np.ones(down.size), np.ones(up.size)))
    order = np.lexsort((step, t))
    t, step = t[order], step[order]
    level = np.cumsum(step)
    last_of_time = np.append(t[1:] != t[:-1], True)  # the level then holds a while
    counts = (step > 0) | last_of_time
    out = np.zeros(n_slots)
    for k in range(n_slots):
        inside = (t >= k) & (t < k + 1)
        best = level[inside & counts].max(initial=0.0)
        if not (t == k).any():  # the level from before the slot holds into it
            before = level[t < k]
            best = max(best, before[-1] if before.size else 0.0)
        out[k] = best
    return out


def test_queues_hall_and_levels_of_service_match_the_records(small_run: Any) -> None:
    """Hourly peaks of every zone from the passengers' own times; Fruin's levels."""
    pax, los = small_run.tables["passengers"], small_run.tables["pax_los"]
    h = small_run.tables["pax_hourly"]
    spec = StationSpec.model_validate(small_station())
    # hall: from the end of screening until leaving for good (leaving first at equal times)
    hall = _peaks(pax["security_exit_h"].to_numpy(), pax["left_hall_h"].to_numpy(), 72)
    assert np.array_equal(hall, h["hall_occupancy_max"].to_numpy())
    assert hall.max() == small_run.kpis["pax.hall_occupancy_max"]
    # security queue per entrance: from arrival until screening starts
    for name in ("north", "south"):
        p = pax[pax["entrance"] == name]
        q = _peaks(p["arrival_h"].to_numpy(), p["security_start_h"].to_numpy(), 72)
        got = los[los["zone"] == f"security:{name}"]["occupancy_max"].to_numpy()
        assert np.array_equal(q, got), name
    # gate queues: from joining until being served (or the gate closing), own train and
    # rebooked train, per gate group
    dep = small_run.tables["pax_departures"]
    s_gate = 1 / (60 * 15)
    rows = []
    for dcol, arr, passed in (
        ("departure", "gate_arrival_h", "gate_pass_h"),
        ("rebooked_departure", "rebooked_gate_arrival_h", "rebooked_gate_pass_h"),
    ):
        p = pax[pax[arr].notna()]
        d = p[dcol].to_numpy()
        served = p[passed].to_numpy() - s_gate
        left = np.where(np.isnan(served), dep["time_h"].to_numpy()[d] - CLOSE, served)
        rows.append((dep["gate_group"].to_numpy()[d], p[arr].to_numpy(), left))
    g = np.concatenate([r[0] for r in rows])
    up = np.concatenate([r[1] for r in rows])
    down = np.concatenate([r[2] for r in rows])
    for grp in range(3):
        q = _peaks(up[g == grp], down[g == grp], 72)
        got = los[los["zone"] == f"gate:{grp}"]["occupancy_max"].to_numpy()
        assert np.array_equal(q, got), grp
    assert small_run.kpis["pax.gate_queue_max"] == los[los["kind"] == "gate"]["occupancy_max"].max()
    # levels of service: area per person at the hourly peak, Fruin's thresholds
    per = los["m2_per_pax"].to_numpy()
    expected = np.select(
        [per >= 1.2, per >= 0.9, per >= 0.6, per >= 0.3, per >= 0.2], list("ABCDE"), "F"
    )
    assert (los["los"].astype(str).to_numpy() == expected).all()
    assert np.allclose(
        per[los["occupancy_max"] > 0],
        (los["area_m2"] / los["occupancy_max"])[los["occupancy_max"] > 0],
    )
    hall_area = los[los["zone"] == "hall"]["area_m2"].iloc[0]
    assert hall_area == spec.hall_area == 1.2 * 400
    worst = los.groupby(los["time"])["los_level"].max().to_numpy()
    assert (h["los_worst"].cat.codes.to_numpy() + 1 == worst).all()
    k = small_run.kpis
    assert k["pax.los_f_hours"] == (los["los"] == "F").sum()
    assert k["pax.los_worst"] == los["los_level"].max()
    assert k["pax.los_worst"] >= 4  # the small station's gate queues are crowded


# --- runs ------------------------------------------------------------------------------


def test_days_do_not_depend_on_the_start_of_the_run() -> None:
    spec = StationSpec.model_validate(small_station())
    one = simulate_station(
        spec, start=MONDAY + datetime.timedelta(days=1), days=1, streams=Streams(5)
    )
    two = simulate_station(spec, start=MONDAY, days=2, streams=Streams(5))
    d1, d2 = one.tables["pax_departures"], two.tables["pax_departures"].iloc[15:]
    for col in ("passengers", "alighting", "time"):
        assert d1[col].tolist() == d2[col].tolist(), col


def test_capacity_does_not_shift_the_arrivals() -> None:
    """Common random numbers: gate, lane and exit capacity leave every draw in place, and
    the same seed gives the same run."""
    base = small_station()
    spec = StationSpec.model_validate(base)
    changed = _set(base, "gates.passengers_per_min", 4.0)
    changed = _set(changed, "entrances.0.security_lanes_per_hour", [1] * 24)
    changed = _set(changed, "exits", {"gates": 1, "passengers_per_min": 5.0})
    other = StationSpec.model_validate(changed)
    runs = [
        simulate_station(s, start=MONDAY, days=2, streams=Streams(4), record_passengers=True)
        for s in (spec, other, spec)
    ]
    a, b = runs[0].tables["passengers"], runs[1].tables["passengers"]
    for col in ("arrival_h", "departure", "entrance"):
        assert a[col].equals(b[col]), col
    svc_a = a["security_exit_h"] - a["security_start_h"]
    svc_b = b["security_exit_h"] - b["security_start_h"]
    np.testing.assert_allclose(svc_a, svc_b, rtol=1e-9, atol=1e-12)
    ra, rb = runs[0].tables["arriving_passengers"], runs[1].tables["arriving_passengers"]
    assert ra["exit_reach_h"].equals(rb["exit_reach_h"])
    assert runs[1].kpis["pax.missed_at_gate"] > runs[0].kpis["pax.missed_at_gate"]
    assert runs[0].kpis == runs[2].kpis
    for t in runs[0].tables:
        assert runs[0].tables[t].equals(runs[2].tables[t]), t


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
    with pytest.raises(ValueError, match="window_days"):
        simulate_station(spec, start=MONDAY, days=1, streams=Streams(1), window_days=0)


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
