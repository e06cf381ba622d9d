"""Peak memory of long runs: 1 and 10 simulated years of the baseline.

Each run happens in a fresh subprocess, so its peak resident set size (``ru_maxrss``) is
its own.  Two measures are printed per run:

``rss_peak_mb``
    Peak resident memory of the whole process (interpreter, numpy, pandas included).
``traced_peak_mb``
    Peak of the memory allocated during :func:`g60rail.simulate` itself, as counted by
    :mod:`tracemalloc` (numpy arrays included); this is what grows with the horizon if
    anything does.  Tracing slows the run about fourfold (``--no-trace`` skips it).

The runs use ``record_containers=False`` and ``record_trains=False`` (statistics only:
no per-box or per-train tables), the setting for long runs.
Target (issue 6): the 10-year peak within 1.5 times the 1-year peak.  With ``--top N``
each child also prints the ``N`` allocation sites holding the most memory at the end of
the run (tracemalloc snapshot, grouped by line), which names the structure that grows.

Usage: ``python benchmarks/bench_long.py [--years 1 10] [--no-station] [--top 8]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

TARGET_RATIO = 1.5


def child(days: float, station: bool, top: int, trace: bool) -> dict[str, object]:
    """Simulate the baseline for ``days`` days in this process and measure its memory."""
    import g60rail as g6

    sc = g6.load_scenario("baseline")
    if not station:
        sc = sc.with_overrides({"station": None})
    if trace:
        tracemalloc.start(1)  # the allocating line is enough to name the structure
    t0 = time.perf_counter()
    res = g6.simulate(sc, days=days, seed=0, record_containers=False, record_trains=False)
    seconds = time.perf_counter() - t0
    out: dict[str, object] = {
        "days": days,
        "seconds": seconds,
        "teu_created": res.kpis["freight.teu_created"],
        "passengers": res.kpis.get("pax.passengers", 0.0),
    }
    if trace:
        current, peak = tracemalloc.get_traced_memory()
        out["traced_peak_mb"] = peak / 2**20
        out["traced_end_mb"] = current / 2**20
        if top:
            snap = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            out["top"] = [
                f"{s.size / 2**20:9.1f} MB  {s.count:9d} blocks  {s.traceback.format()[-1].strip()}"
                for s in snap.statistics("lineno")[:top]
            ]
    # ru_maxrss is in kilobytes on Linux (bytes on macOS)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["rss_peak_mb"] = rss / (2**20 if sys.platform == "darwin" else 2**10)
    return out


def run_child(days: float, station: bool, top: int, trace: bool) -> dict[str, object]:
    """Run :func:`child` in a fresh interpreter and return its measurements."""
    cmd = [sys.executable, __file__, "--child", str(days), "--top", str(top)]
    if not station:
        cmd.append("--no-station")
    if not trace:
        cmd.append("--no-trace")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"the run of {days:g} days failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure each horizon in its own process and print peaks and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--no-station", action="store_true", help="freight only")
    ap.add_argument("--no-trace", action="store_true", help="skip tracemalloc (faster)")
    ap.add_argument("--top", type=int, default=0, help="print the N largest allocation sites")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    station, trace = not args.no_station, not args.no_trace
    if args.child is not None:
        print(json.dumps(child(args.child, station, args.top, trace)))
        return
    runs = [run_child(365.0 * y, station, args.top, trace) for y in args.years]
    print(
        f"baseline{'' if station else ' (freight only)'}, "
        "record_containers=False, record_trains=False"
    )
    for y, r in zip(args.years, runs, strict=True):
        traced = f"  traced_peak_mb: {r['traced_peak_mb']:8.1f}" if trace else ""
        print(
            f"years: {y:4g}  seconds: {r['seconds']:7.1f}  teu_created: {r['teu_created']:10.0f}"
            f"  passengers: {r['passengers']:12.0f}  rss_peak_mb: {r['rss_peak_mb']:8.1f}{traced}"
        )
        for line in r.get("top", []):
            print("      " + line)
    if len(runs) >= 2:
        first, last = runs[0], runs[-1]
        keys = ["rss_peak_mb", *(["traced_peak_mb"] if trace else [])]
        for key in keys:
            ratio = float(last[key]) / float(first[key])
            verdict = "ok" if ratio <= TARGET_RATIO else "NOT FLAT"
            print(
                f"ratio_{key}_{args.years[-1]:g}y_over_{args.years[0]:g}y: {ratio:.2f}  "
                f"(target <= {TARGET_RATIO}) {verdict}"
            )


if __name__ == "__main__":
    main()
