"""``g60rail sweep``, and the experiment options it shares with ``g60rail tune``
(:mod:`~g60rail.cli.tune`).

``g60rail sweep SCENARIO --grid hub.reach_stackers=2,3,4 --replications 5 --out DIR``
runs every point of the grid with common random numbers and writes ``runs.csv``,
``summary.csv`` (and Parquet), the checkpoint ``runs.jsonl`` and one PNG per plotted KPI.
Run it again with the same ``--out`` and only unfinished runs execute.  Values are TOML
values and may be lists: ``--grid 'services.g60.departures=["Tue 15:25"],["daily 15:25"]'``
(commas inside brackets, braces or quotes do not separate values).

Every input is checked before the first run: flags, keys and values, KPI names (of
``--plot-kpi``, against a short run of the scenario), the run's dates and the output
folder, which holds one sweep or study: another one's folder is refused unless
``--overwrite``.  Ctrl-C stops with status 130, keeping every finished run.

Executors (:func:`add_run_options`): local processes by default (``--workers W``,
default all cores), ``--serial``, ``--dask`` (a LocalCluster of ``--workers`` processes
on 127.0.0.1) or ``--scheduler tcp://host:port`` (an existing Dask cluster).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from g60rail.cli.common import (
    MAX_SEED,
    Interrupted,
    UserError,
    check_dates,
    int_at_least,
    key_value,
    nonneg_float,
    positive_days,
    seed_arg,
    split_values,
    toml_value,
    writable_dir,
)

__all__ = [
    "add_run_options",
    "executor_from",
    "file_safe",
    "kpi_problems",
    "parse_grid",
    "parse_point",
    "register",
    "resumable",
    "write_png",
]


# -- argument parsing -----------------------------------------------------------------
def parse_grid(items: Sequence[str] | None) -> dict[str, list[Any]]:
    """``["hub.reach_stackers=2,4"]`` -> ``{"hub.reach_stackers": [2, 4]}``.

    Values are TOML and may be lists or tables: the commas inside brackets, braces or
    quotes belong to a value.
    """
    grid: dict[str, list[Any]] = {}
    for item in items or ():
        key, raw = key_value("--grid", item)
        if key in grid:
            raise UserError(f"--grid {item!r}: key {key!r} given twice")
        parts = split_values(raw, "--grid")
        if any(not p for p in parts):
            raise UserError(f"--grid {item!r}: empty value in the list")
        grid[key] = [toml_value(key, p) for p in parts]
    return grid


def parse_point(text: str) -> dict[str, Any]:
    """``"hub.reach_stackers=2,hub.loading_tracks=3"`` -> a dict of overrides (values may
    be lists: ``'services.g60.departures=["daily 15:25"],hub.reach_stackers=3'``)."""
    point: dict[str, Any] = {}
    for part in split_values(text, "--point"):
        key, raw = key_value("--point", part)
        if key in point:
            raise UserError(f"--point {text!r}: key {key!r} given twice")
        point[key] = toml_value(key, raw)
    return point


def executor_from(args: argparse.Namespace) -> Any:
    """The executor chosen by the flags, started (a scheduler must be reachable)."""
    from g60rail.experiment.executors import DaskExecutor, Processes, Serial

    if args.serial:
        return Serial()
    if args.scheduler:
        ex = DaskExecutor(address=args.scheduler)
        try:
            ex.start()
        except (OSError, ValueError, TypeError) as exc:
            raise UserError(
                f"--scheduler {args.scheduler!r}: cannot connect to a Dask scheduler ({exc})"
            ) from None
        return ex
    if args.dask:
        import os

        return DaskExecutor(workers=args.workers or os.cpu_count() or 1)
    return Processes(args.workers)


@contextmanager
def resumable(out: Path) -> Iterator[None]:
    """Turn Ctrl-C into a one-line note (status 130): finished work is kept in ``out``."""
    try:
        yield
    except KeyboardInterrupt:
        print(file=sys.stderr)  # below a progress bar's line
        raise Interrupted(
            f"interrupted; finished runs are kept in {out}/ - run the same command again to resume"
        ) from None


def kpi_problems(scenario: Any, days: float, wanted: Sequence[tuple[str, str]]) -> None:
    """Refuse KPI names the runs do not report, before the first run (``wanted``: flag
    and name pairs)."""
    if not wanted:
        return
    from g60rail.experiment.kpinames import KpiNames

    names = KpiNames.of(scenario, days)
    for flag, kpi in wanted:
        problem = names.problem(kpi)
        if problem is not None:
            raise UserError(f"{flag} {kpi!r}: {problem}")


def write_png(fig: Any, path: Path) -> Path:
    """Write a matplotlib figure as a PNG at ``path``, atomically."""
    from g60rail.result import atomic_write

    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, dpi=110, format="png")
    return path


def file_safe(name: str) -> str:
    """``name`` (a KPI) with every character but letters, digits and ``._-`` as ``_``."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


# -- sweep ----------------------------------------------------------------------------
def _cmd_sweep(args: argparse.Namespace) -> int:
    import g60rail as g6
    from g60rail.cli.outdir import claim, remove_holding
    from g60rail.experiment.sweeps import expand_points, sweep
    from g60rail.plot.experiment import sweep_chart

    grid = parse_grid(args.grid)
    points = [parse_point(p) for p in args.point or ()]
    if not grid and not points:
        raise UserError("sweep needs at least one --grid KEY=V1,V2 or --point K=V,K=V")
    if args.warmup_days >= args.days:
        raise UserError(f"--warmup-days {args.warmup_days:g} must be below --days {args.days:g}")
    scenario = g6.load_scenario(args.scenario)
    check_dates(scenario, args.days)
    for p in expand_points(grid, points):
        scenario.with_overrides(p)  # every key exists and every value is valid
    kpis = args.plot_kpi or ["hub.dwell_h_mean"]
    kpi_problems(scenario, args.days, [("--plot-kpi", k) for k in kpis])
    out = Path(args.out)
    identity = {
        "scenario_hash": scenario.hash,
        "grid": grid,
        "points": expand_points(grid, points),
        "days": float(args.days),
        "seed": int(args.seed),
        "warmup_days": float(args.warmup_days),
    }
    held = claim(out, "sweep", overwrite=args.overwrite, settings=identity)
    writable_dir(out)
    if held is not None:
        remove_holding(out, held)
    with executor_from(args) as ex, resumable(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the skipped points are printed below
        res = sweep(
            scenario,
            grid,
            replications=args.replications,
            days=args.days,
            seed=args.seed,
            executor=ex,
            out=out,
            points=points,
            progress=False if args.quiet else None,
            warmup_days=args.warmup_days,
            skip_overloaded=not args.keep_overloaded,
        )
    varying = [p for p in res.params if res.runs[p].nunique() > 1] or res.params
    pngs = []
    for kpi in kpis:
        if kpi not in res.runs.columns:  # known to the runs of the scenario, not observed
            print(f"g60rail: note: no run observed {kpi}; no chart drawn", file=sys.stderr)
            continue
        fig = sweep_chart(res.summary, kpi, varying[0])
        pngs.append(write_png(fig, out / f"sweep_{file_safe(kpi)}.png"))
    table = res.summary[res.summary["kpi"].isin(kpis)]
    cols = ["point", *res.params, "kpi", "mean", "ci_low", "ci_high", "n"]
    print(
        f"g60rail sweep {scenario.meta.name}: {len(res.points)} points x "
        f"{args.replications} replications, {args.days:g} days, seed {args.seed}"
    )
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    for i, reason in res.skipped.items():
        print(f"point {i} {res.points[i]} not simulated: {reason}")
    for i, share in res.growing_backlog.items():
        print(
            f"g60rail: warning: point {i} {res.points[i]}: freight.backlog_growing in "
            f"{share:.0%} of its replications - no steady state, so its means describe "
            "the runs' length",
            file=sys.stderr,
        )
    files = [p.name for p in res.files] + ["runs.jsonl", "sweep.json"] + [p.name for p in pngs]
    print(f"\nwrote {out}/: {', '.join(files)}")
    return 0


# -- registration ---------------------------------------------------------------------
def add_run_options(p: argparse.ArgumentParser, days: float, replications: int) -> None:
    """Add what every experiment command takes: the scenario, replications, days,
    warm-up, seed, the executor flags, ``--out``, ``--overwrite`` and ``--quiet``."""
    p.add_argument("scenario", help="packaged scenario name or path to a .toml file")
    p.add_argument(
        "--replications",
        type=int_at_least("--replications", 1),
        default=replications,
        help=f"replications per configuration ({replications})",
    )
    p.add_argument(
        "--days", type=positive_days, default=days, help=f"simulated days per run ({days:g})"
    )
    p.add_argument(
        "--warmup-days",
        type=nonneg_float("--warmup-days"),
        default=0.0,
        help="days dropped from transit, dwell, clearance and yard KPIs (0)",
    )
    p.add_argument(
        "--seed", type=seed_arg, default=0, help=f"root random seed, 0 to {MAX_SEED} (0)"
    )
    p.add_argument(
        "--workers",
        type=int_at_least("--workers", 1),
        default=None,
        help="local worker processes, or Dask LocalCluster workers with --dask (all cores)",
    )
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--serial", action="store_true", help="run in this process only")
    ex.add_argument("--dask", action="store_true", help="a Dask LocalCluster on 127.0.0.1")
    ex.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--out", required=True, help="output folder (reused to resume)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace other results (a run, or other settings) in the output folder",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sweep`` to the ``g60rail`` parser."""
    sw = sub.add_parser(
        "sweep",
        help="replicate every point of a capacity grid (common random numbers)",
        description="Replicate every point of a capacity grid with common random numbers; "
        "resumable with the same --out.",
    )
    add_run_options(sw, days=90.0, replications=5)
    sw.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2",
        help="values of a dotted key; the grid is the full factorial (repeatable)",
    )
    sw.add_argument(
        "--point",
        action="append",
        metavar="K=V,K=V",
        help="an explicit point of overrides, added to the grid (repeatable)",
    )
    sw.add_argument(
        "--plot-kpi",
        action="append",
        metavar="KPI",
        help="KPI to plot against the first swept key (repeatable; hub.dwell_h_mean)",
    )
    sw.add_argument(
        "--keep-overloaded",
        action="store_true",
        help="simulate the points the preview proves overloaded too (by default they are "
        "left out and listed)",
    )
    sw.set_defaults(func=_cmd_sweep)
