"""Speed-up of replications on local worker processes and on a Dask LocalCluster.

Runs the same ``--runs`` replications of the baseline (default 8 runs of 90 days) one
after another in this process, on ``--workers`` local processes and on a Dask
LocalCluster with as many single-threaded workers, all in one invocation, and prints the
wall-clock times and the speed-up over serial.  "start" is the time to start the
workers and import the model in them; the speed-up is given for the runs alone (what a
long sweep sees) and including the start.  Every executor must give identical KPIs.

    python benchmarks/bench_parallel.py [--runs 8] [--workers 2] [--days 90]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from typing import Any

import g60rail as g6
from g60rail.experiment.executors import DaskExecutor, Processes, Serial, Task
from g60rail.experiment.replications import replication_seeds


def _timed(executor: Any, tasks: list[Task]) -> tuple[float, float, dict[str, dict]]:
    """(start seconds, run seconds, KPIs by task key) of ``tasks`` on ``executor``."""
    t0 = time.perf_counter()
    with executor as ex:
        if hasattr(ex, "start"):
            ex.start()
            if isinstance(ex, DaskExecutor):
                ex.client.wait_for_workers(ex.workers)
                ex.client.run(lambda: __import__("g60rail.model.run"))
        t1 = time.perf_counter()
        results = dict((t.key, k) for t, k in ex.run(tasks))
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, results


def _same(a: dict[str, dict], b: dict[str, dict]) -> bool:
    """Equal KPIs run by run, NaN equal to NaN (a KPI without observations)."""
    return a.keys() == b.keys() and all(
        a[k].keys() == b[k].keys()
        and all(
            x == y or (math.isnan(x) and math.isnan(y))
            for x, y in ((a[k][n], b[k][n]) for n in a[k])
        )
        for k in a
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=float, default=90.0)
    args = parser.parse_args()

    scenario = g6.load_scenario("baseline").to_dict()
    seeds = replication_seeds(0, args.runs)
    tasks = [Task(f"r{i}", scenario, {}, args.days, s) for i, s in enumerate(seeds)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.runs} runs of the baseline, {args.days:g} days each; "
        f"{args.workers} workers; {os.cpu_count()} cores; load average {load:.2f} before"
    )
    _, serial_s, reference = _timed(Serial(), tasks)
    rows = [("serial", 0.0, serial_s)]
    for name, ex in (
        (f"processes ({args.workers})", Processes(args.workers)),
        (f"dask LocalCluster ({args.workers})", DaskExecutor(workers=args.workers)),
    ):
        start_s, run_s, results = _timed(ex, tasks)
        assert _same(results, reference), f"{name} gave different KPIs than serial"
        rows.append((name, start_s, run_s))

    print(f"{'executor':<26} {'start s':>8} {'runs s':>8} {'speed-up':>9} {'with start':>11}")
    for name, start_s, run_s in rows:
        print(
            f"{name:<26} {start_s:8.2f} {run_s:8.2f} {serial_s / run_s:8.2f}x "
            f"{serial_s / (start_s + run_s):10.2f}x"
        )
    print("identical KPIs on every executor: yes")
    if hasattr(os, "getloadavg"):
        print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the machine slows it)")


if __name__ == "__main__":
    main()
