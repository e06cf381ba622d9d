"""Station model: a full year of passengers against the per-passenger SimPy reference.

Run ``python benchmarks/bench_station.py``.  In one run it

1. simulates a full year of the packaged station section (~25 million passengers) in a
   fresh subprocess, which reports its wall time (after a one-day warm-up that compiles
   the kernels) and its peak resident memory (``ru_maxrss``, the whole process);
2. runs the per-passenger SimPy reference (tests/model/station_reference.py) on the
   sampled passengers of one day, checks it agrees with the fast path, and
3. prints ``speedup_vs_simpy_reference``: reference seconds per passenger divided by the
   full year's seconds per passenger (targets: >= 100, and < 1 GB for the year).
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

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


def year_worker() -> None:
    """Simulate a year in this (fresh) process; print seconds, passengers, peak RSS."""
    spec = load_spec()
    t0 = time.perf_counter()
    simulate_station(spec, start=YEAR_START, days=1, streams=Streams(SEED + 1))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = simulate_station(spec, start=YEAR_START, days=365, streams=Streams(SEED))
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    print(
        json.dumps(
            {
                "seconds": seconds,
                "compile_seconds": compile_s,
                "passengers": run.kpis["pax.passengers"],
                "departures": run.kpis["pax.departures"],
                "hourly_rows": len(run.tables["pax_hourly"]),
                "peak_rss_mb": peak_mb,
                "kpis": run.kpis,
            }
        )
    )


def main() -> None:
    proc = subprocess.run(
        [sys.executable, __file__, "--year-worker"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    year = json.loads(proc.stdout.strip().splitlines()[-1])

    from tests.model.station_reference import reference_day

    spec = load_spec()
    t0 = time.perf_counter()
    ref, _ = reference_day(spec, REF_DAY, SEED)
    ref_s = time.perf_counter() - t0
    n_ref = ref.start_h.size
    fast = simulate_station(
        spec,
        start=datetime.datetime.combine(REF_DAY, datetime.time()),
        days=1,
        streams=Streams(SEED),
        record_passengers=True,
    )
    diff = float(np.max(np.abs(fast.tables["passengers"]["security_start_h"] - ref.start_h)))

    fast_us = 1e6 * year["seconds"] / year["passengers"]
    ref_us = 1e6 * ref_s / n_ref
    print(f"full_year_passengers: {year['passengers']:.0f}")
    print(f"full_year_departures: {year['departures']:.0f}")
    print(f"full_year_seconds: {year['seconds']:.2f}")
    print(f"full_year_compile_seconds: {year['compile_seconds']:.2f}")
    print(f"full_year_us_per_passenger: {fast_us:.3f}")
    print(f"full_year_mean_passengers_per_day: {year['passengers'] / 365:.0f}")
    print(f"reference_passengers: {n_ref} (one day, {REF_DAY.isoformat()})")
    print(f"reference_seconds: {ref_s:.2f}")
    print(f"reference_us_per_passenger: {ref_us:.2f}")
    print(f"reference_max_abs_diff_start_h: {diff:.3g}")
    print(f"speedup_vs_simpy_reference: {ref_us / fast_us:.0f}")
    print(f"peak_memory_full_year_mb: {year['peak_rss_mb']:.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year-worker", action="store_true", help=argparse.SUPPRESS)
    if parser.parse_args().year_worker:
        year_worker()
    else:
        main()
