"""Wall time of one simulated year of the baseline freight corridor.

Measured in the same process, on the same machine and in the same minute as a reference:
one million bare SimPy timeouts.  The ratios are what to compare across machines and
changes: the year in millions of bare timeouts, and ``bare_timeouts_per_teu``, the
year's wall time per TEU created in units of one bare timeout (target: at most 40).
``model_compiled`` says whether the installed model is the compiled one (``setup.py``);
the reference is SimPy's own Python code in both cases.

Every repeat runs the same seed, so the fastest repeat and its TEU belong to one run.

Usage: ``python benchmarks/bench_freight.py [--days 365] [--repeat 3] [--seed 0]``
"""

from __future__ import annotations

import argparse
import os
import time

import simpy

import g60rail as g6
from g60rail.model import compiled


def bare_timeouts(n: int = 1_000_000) -> float:
    """Seconds for one process to yield ``n`` zero-cost timeouts."""
    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(proc())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def one_year(days: float, seed: int) -> tuple[float, dict[str, float]]:
    """Seconds to simulate the baseline (freight only) for ``days`` days."""
    sc = g6.load_scenario("baseline")
    if sc.station is not None:
        sc = g6.Scenario.model_validate({**sc.model_dump(by_alias=True), "station": None})
    t0 = time.perf_counter()
    res = g6.simulate(sc, days=days, seed=seed, record_containers=False)
    return time.perf_counter() - t0, res.kpis


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    ref, year = [], []
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits both
        ref.append(bare_timeouts())
        t, kpis = one_year(args.days, seed=args.seed)
        year.append(t)
    r, y = min(ref), min(year)
    print(f"load_average_1min: {load0:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"model_compiled: {int(compiled())}")
    print(f"simulated_days: {args.days:g}")
    print(f"teu_created: {kpis['freight.teu_created']:.0f}")
    print(f"bare_simpy_1e6_timeouts_s: {r:.3f}")
    print(f"simulated_year_s: {y:.3f}")
    print(f"ratio_year_per_1e6_timeouts: {y / r:.2f}")
    # the cost of one TEU's way through the corridor, in bare SimPy timeouts
    per_teu = y / kpis["freight.teu_created"] / (r / 1_000_000)
    print(f"bare_timeouts_per_teu: {per_teu:.1f}  (target <= 40)")


if __name__ == "__main__":
    main()
