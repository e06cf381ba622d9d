"""Speed-up of replications on local worker processes and on a Dask LocalCluster.

Runs the same ``--runs`` replications of the baseline (default 8 runs of 90 days) one
after another in this process, on ``--workers`` local processes and on a Dask
LocalCluster with as many single-threaded workers, all in one invocation, and prints the
wall-clock times and the speed-up over serial.  Other work on the machine changes its
speed from minute to minute, so the runs go in rounds of ``--workers`` runs, each round
on every executor in turn (the order changes from round to round; the pools stay open,
idle while another executor runs): the speed-up is the median of the rounds' speed-ups,
next to the ratio of the total times.  "start" is the time to start the workers and
import the model in them; "with start" adds it to the total time.  Every executor must
give identical KPIs.

Then one ``--ratio-days`` run at a time, ``--ratio-reps`` times in alternation, in a
plain worker process and in a Dask worker (each alone on its single-worker pool), timed
inside the worker: ``dask_worker_run_ratio`` is the median of the Dask / plain ratios of
the wall-clock time (``dask_worker_cpu_ratio`` of the running thread's CPU time).

    python benchmarks/bench_parallel.py [--runs 8] [--workers 2] [--days 90]
                                        [--ratio-days 30] [--ratio-reps 5]

The last two lines are ``processes_speedup: X`` and ``dask_speedup: Y``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import g60rail as g6
from g60rail.experiment.executors import DaskExecutor, Processes, Serial, Task, run_task
from g60rail.experiment.replications import replication_seeds

Results = dict[str, dict[str, float]]


def _timed_run(
    scenario: dict[str, Any], overrides: dict[str, Any], days: float, seed: int, warmup: float
) -> dict[str, float]:
    """:func:`run_task`, with its wall-clock and thread CPU seconds in the worker."""
    t0, c0 = time.perf_counter(), time.thread_time()
    kpis = run_task(scenario, overrides, days, seed, warmup)
    return {**kpis, "_run_s": time.perf_counter() - t0, "_cpu_s": time.thread_time() - c0}


def _opened(
    make: Callable[[], Any], scenario: dict[str, Any], fn: Any = run_task, start: bool = True
) -> tuple[Any, float]:
    """An executor entered, its workers started and the model imported (start seconds),
    then a 1-day run on each worker (the first run of a process loads compiled kernels).

    Without ``start`` the processes of a :class:`Processes` pool start with the first
    run, able to import this script (where :func:`_timed_run` lives).
    """
    t0 = time.perf_counter()
    ex = make().__enter__()
    n = 1
    if isinstance(ex, Processes):
        n = ex.workers
        if start:
            ex.start()
    elif isinstance(ex, DaskExecutor):
        n = ex.workers or 1
        ex.client.wait_for_workers(n)
        ex.client.run(lambda: __import__("g60rail.model.run"))
    start_s = time.perf_counter() - t0
    list(ex.run([Task(f"warm{i}", scenario, {}, 1.0, i) for i in range(n)], fn=fn))
    return ex, start_s


def _same(a: Results, b: Results) -> bool:
    """Equal KPIs run by run, NaN equal to NaN (a KPI without observations)."""
    return a.keys() == b.keys() and all(
        a[k].keys() == b[k].keys()
        and all(
            x == y or (math.isnan(x) and math.isnan(y))
            for x, y in ((a[k][n], b[k][n]) for n in a[k])
        )
        for k in a
    )


def _load() -> float:
    """One-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def _kpis(kpis: dict[str, float]) -> dict[str, float]:
    return {n: v for n, v in kpis.items() if not n.startswith("_")}


def _worker_ratio(scenario: dict[str, Any], days: float, reps: int) -> tuple[float, float]:
    """Median Dask-worker / plain-process ratios (wall, CPU) of one run at a time."""
    tasks = [Task(f"q{i}", scenario, {}, days, s) for i, s in enumerate(replication_seeds(1, reps))]
    plain, _ = _opened(lambda: Processes(1), scenario, _timed_run, start=False)
    dask, _ = _opened(lambda: DaskExecutor(workers=1), scenario, _timed_run)
    walls: list[float] = []
    cpus: list[float] = []
    try:
        for i, task in enumerate(tasks):
            order = (plain, dask) if i % 2 == 0 else (dask, plain)
            out = {ex.name: next(iter(ex.run([task], fn=_timed_run)))[1] for ex in order}
            p, d = out[plain.name], out[dask.name]
            assert _same({"r": _kpis(p)}, {"r": _kpis(d)}), "Dask and plain KPIs differ"
            walls.append(d["_run_s"] / p["_run_s"])
            cpus.append(d["_cpu_s"] / p["_cpu_s"])
            print(
                f"  {days:g}-day run {i}: plain {p['_run_s']:6.2f} s, Dask worker "
                f"{d['_run_s']:6.2f} s (x{walls[-1]:.2f}; CPU x{cpus[-1]:.2f})",
                flush=True,
            )
    finally:
        dask.__exit__(None, None, None)
        plain.__exit__(None, None, None)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--ratio-days", type=float, default=30.0)
    parser.add_argument("--ratio-reps", type=int, default=5)
    args = parser.parse_args()

    scenario = g6.load_scenario("baseline").to_dict()
    seeds = replication_seeds(0, args.runs)
    tasks = [Task(f"r{i}", scenario, {}, args.days, s) for i, s in enumerate(seeds)]
    print(
        f"{args.runs} runs of the baseline, {args.days:g} days each; "
        f"{args.workers} workers; {os.cpu_count()} cores; load average {_load():.2f} before"
    )
    names = ["serial", f"processes ({args.workers})", f"dask LocalCluster ({args.workers})"]
    serial, _ = _opened(Serial, scenario)
    procs, procs_start = _opened(lambda: Processes(args.workers), scenario)
    dask, dask_start = _opened(lambda: DaskExecutor(workers=args.workers), scenario)
    executors = dict(zip(names, (serial, procs, dask), strict=True))
    starts = dict(zip(names, (0.0, procs_start, dask_start), strict=True))
    rounds: dict[str, list[float]] = {n: [] for n in names}
    results: dict[str, Results] = {n: {} for n in names}
    try:
        for r in range(0, args.runs, args.workers):
            batch = tasks[r : r + args.workers]
            i = r // args.workers
            order = names[i % 3 :] + names[: i % 3]
            for name in order[::-1] if i % 2 else order:
                t0 = time.perf_counter()
                results[name].update((t.key, k) for t, k in executors[name].run(batch))
                rounds[name].append(time.perf_counter() - t0)
            print(
                f"  round {i}: "
                + ", ".join(f"{n.split()[0]} {rounds[n][-1]:6.2f} s" for n in names)
                + f"; load average {_load():.2f}",
                flush=True,
            )
    finally:
        dask.__exit__(None, None, None)
        procs.__exit__(None, None, None)
    reference = results["serial"]
    for name in names:
        assert _same(results[name], reference), f"{name} gave different KPIs than serial"

    serial_s = sum(rounds["serial"])
    speedups: dict[str, float] = {}
    print(
        f"{'executor':<26} {'start s':>8} {'runs s':>8} {'speed-up':>9} {'of totals':>10} "
        f"{'with start':>11}"
    )
    for name in names:
        total = sum(rounds[name])
        speedups[name] = statistics.median(
            a / b for a, b in zip(rounds["serial"], rounds[name], strict=True)
        )
        print(
            f"{name:<26} {starts[name]:8.2f} {total:8.2f} {speedups[name]:8.2f}x "
            f"{serial_s / total:9.2f}x {serial_s / (starts[name] + total):10.2f}x"
        )
    print("identical KPIs on every executor: yes")

    print(f"one run at a time, plain worker process vs Dask worker ({args.ratio_days:g} days):")
    wall_ratio, cpu_ratio = _worker_ratio(scenario, args.ratio_days, args.ratio_reps)
    print(f"load average after: {_load():.2f} (other work on the machine slows it)")
    print(f"dask_worker_cpu_ratio: {cpu_ratio:.2f}")
    print(f"dask_worker_run_ratio: {wall_ratio:.2f}")
    print(f"processes_speedup: {speedups[names[1]]:.2f}")
    print(f"dask_speedup: {speedups[names[2]]:.2f}")


if __name__ == "__main__":
    main()
