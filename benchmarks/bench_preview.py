"""Wall time of :func:`g60rail.preview`, the offered load of every resource computed from
a scenario alone (target: under 50 ms).

Per scenario it prints the first call (``preview_first_ms``: the modules imported, nothing
computed yet) and the best of ``--repeat`` calls after it (``preview_ms``).

Usage: ``python benchmarks/bench_preview.py [--repeat 20]``
"""

from __future__ import annotations

import argparse
import time

import g60rail as g6

SCENARIOS = ("baseline", "songjiang_design")


def timed_ms(sc: g6.Scenario) -> float:
    """Milliseconds for one preview of ``sc``."""
    t0 = time.perf_counter()
    g6.preview(sc)
    return 1000.0 * (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    g6.preview  # noqa: B018  (imports g60rail.experiment, outside the timings)
    for name in SCENARIOS:
        sc = g6.load_scenario(name)
        first = timed_ms(sc)
        best = min(timed_ms(sc) for _ in range(args.repeat))
        print(f"scenario: {name}")
        print(f"preview_first_ms: {first:.1f}")
        print(f"preview_ms: {best:.1f}")


if __name__ == "__main__":
    main()
