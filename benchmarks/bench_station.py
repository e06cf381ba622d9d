"""Station model: a full year of passengers against the per-passenger SimPy reference.

Run ``python benchmarks/bench_station.py``.  In one run it

1. compiles the kernels in a fresh subprocess with an empty numba cache (what the first
   run after an install does) and reports how long the compilation took;
2. simulates a full year of the packaged station section (≈ 12.5 million departing and
   12.5 million arriving passengers) in another fresh subprocess, which reports its wall
   time (after a one-day warm-up that loads the compiled kernels) and its peak resident
   memory (``ru_maxrss``, the whole process);
3. runs the per-passenger SimPy reference (tests/model/station_reference.py) on the
   sampled passengers of one day, departing and arriving, checks that it agrees with the
   fast path to the last digit, and
4. prints ``speedup_vs_simpy_reference``: the reference's seconds per passenger divided by
   the full year's seconds per passenger, both counting departing plus arriving
   passengers (targets: >= 300, and < 1 GB for the year).

The year and the reference day each run ``--repeat`` times (default 3) and the fastest run
of each counts (the usual estimate on a shared machine: other load only slows a run
down); the medians are printed too.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
try:
    import g60rail  # noqa: F401
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

from g60rail.model.station import simulate_station  # noqa: E402
from g60rail.random import Streams  # noqa: E402
from g60rail.scenario.station_spec import StationSpec  # noqa: E402

SECTION = ROOT / "src" / "g60rail" / "scenario" / "data" / "baseline.toml"
YEAR_START = datetime.datetime(2025, 1, 1)
REF_DAY = datetime.date(2025, 3, 14)
SEED = 7


def load_spec() -> StationSpec:
    """The packaged baseline's station section."""
    with SECTION.open("rb") as f:
        return StationSpec.model_validate(tomllib.load(f)["station"])


def compile_worker() -> None:
    """Time the first run of a day in this process (cold numba cache: compilation)."""
    t0 = time.perf_counter()
    from g60rail.model.station import simulate_station as sim

    spec = load_spec()
    t1 = time.perf_counter()
    sim(spec, start=YEAR_START, days=1, streams=Streams(SEED + 1))
    first = time.perf_counter() - t1
    t2 = time.perf_counter()
    sim(spec, start=YEAR_START, days=1, streams=Streams(SEED + 1))
    second = time.perf_counter() - t2
    print(json.dumps({"import_s": t1 - t0, "first_day_s": first, "second_day_s": second}))


def year_worker(repeat: int) -> None:
    """Simulate a year in this (fresh) process ``repeat`` times; print the seconds of each,
    the passengers, KPIs and the peak RSS (the first run's, before any repeat)."""
    spec = load_spec()
    t0 = time.perf_counter()
    simulate_station(spec, start=YEAR_START, days=1, streams=Streams(SEED + 1))
    warm_s = time.perf_counter() - t0
    times = []
    peak_mb = 0.0
    kpis: dict[str, float] = {}
    for i in range(repeat):
        t0 = time.perf_counter()
        run = simulate_station(spec, start=YEAR_START, days=365, streams=Streams(SEED))
        times.append(time.perf_counter() - t0)
        if i == 0:
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB
            kpis = run.kpis
        del run
    print(
        json.dumps(
            {
                "times": times,
                "warm_s": warm_s,
                "departing": kpis["pax.passengers"],
                "arriving": kpis["pax.arriving"],
                "departures": kpis["pax.departures"],
                "peak_rss_mb": peak_mb,
                "kpis": kpis,
            }
        )
    )


def _worker(flag: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, flag, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        cold = _worker("--compile-worker", env={**os.environ, "NUMBA_CACHE_DIR": cache})
    year = _worker("--year-worker", "--repeat", str(repeat))

    from tests.model.station_reference import reference_day

    spec = load_spec()
    ref_times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ref, _ = reference_day(spec, REF_DAY, SEED)
        ref_times.append(time.perf_counter() - t0)
    n_ref = ref.start_h.size + ref.exit_start_h.size
    fast = simulate_station(
        spec,
        start=datetime.datetime.combine(REF_DAY, datetime.time()),
        days=1,
        streams=Streams(SEED),
        record_passengers=True,
    )
    pax = fast.tables["passengers"]
    same = (
        np.array_equal(pax["security_start_h"], ref.start_h)
        and np.array_equal(pax["gate_pass_h"], ref.gate_pass_h, equal_nan=True)
        and np.array_equal(pax["rebooked_gate_pass_h"], ref.gate_pass2_h, equal_nan=True)
        and np.array_equal(fast.tables["arriving_passengers"]["exit_start_h"], ref.exit_start_h)
    )

    n_year = year["departing"] + year["arriving"]
    year_s, ref_s = min(year["times"]), min(ref_times)
    fast_us = 1e6 * year_s / n_year
    ref_us = 1e6 * ref_s / n_ref
    compile_s = cold["first_day_s"] - cold["second_day_s"]
    k = year["kpis"]
    print(f"compile_seconds_first_run_after_install: {compile_s:.2f}")
    print(f"first_day_seconds_cold_cache: {cold['first_day_s']:.2f}")
    print(f"first_day_seconds_warm_cache: {year['warm_s']:.2f}")
    print(f"full_year_departing_passengers: {year['departing']:.0f}")
    print(f"full_year_arriving_passengers: {year['arriving']:.0f}")
    print(f"full_year_departures: {year['departures']:.0f}")
    print(f"full_year_mean_passengers_per_day: {n_year / 365:.0f}")
    print(f"full_year_missed_share: {k['pax.missed_share']:.4%}")
    print(f"full_year_seconds: {year_s:.2f} (of {repeat}: {_fmt(year['times'])})")
    print(f"full_year_us_per_passenger: {fast_us:.3f}")
    print(f"full_year_passengers_per_second: {n_year / year_s / 1e6:.1f} million")
    print(
        f"reference_passengers: {n_ref} ({ref.start_h.size} departing, "
        f"{ref.exit_start_h.size} arriving; {REF_DAY.isoformat()})"
    )
    print(f"reference_seconds: {ref_s:.2f} (of {repeat}: {_fmt(ref_times)})")
    print(f"reference_us_per_passenger: {ref_us:.2f}")
    print(f"reference_equal_to_the_last_digit: {same}")
    print(f"speedup_vs_simpy_reference: {ref_us / fast_us:.0f}")
    med = statistics.median(ref_times) / n_ref / (statistics.median(year["times"]) / n_year)
    print(f"speedup_vs_simpy_reference_of_medians: {med:.0f}")
    print(f"peak_memory_full_year_mb: {year['peak_rss_mb']:.0f}")


def _fmt(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compile-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the year and of the reference day"
    )
    args = parser.parse_args()
    if args.year_worker:
        year_worker(args.repeat)
    elif args.compile_worker:
        compile_worker()
    else:
        main(args.repeat)
