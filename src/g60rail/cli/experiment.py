"""Command-line subcommands for experiments: ``g60rail sweep`` and ``g60rail tune``.

``g60rail sweep SCENARIO --grid hub.reach_stackers=2,3,4 --replications 5 --out DIR``
runs every point of the grid with common random numbers and writes ``runs.csv``,
``summary.csv`` (and Parquet), the checkpoint ``runs.jsonl`` and one PNG per plotted KPI.
Run it again with the same ``--out`` and only unfinished runs execute.  Values are TOML
values and may be lists: ``--grid 'services.g60.departures=["Tue 15:25"],["daily 15:25"]'``
(commas inside brackets, braces or quotes do not separate values).

``g60rail tune SCENARIO --space hub.reach_stackers=1:8 --cost hub.reach_stackers=450000
--constraint "hub.dwell_h_p95<=72" --trials 30 --out DIR`` searches the cheapest
capacities that meet the constraints and writes ``trials.csv``, ``best.json``,
``best_scenario.json`` and ``tuning.png``; the study lives in ``DIR/study.db`` and resumes
(a trial an interruption cut short is evaluated again).  Costs are in US dollars.

Every input is checked before the first run: flags, keys and values, KPI names (of
``--plot-kpi``, ``--constraint`` and ``--objective``, against a short run of the
scenario), the run's dates and the output folder, which holds one sweep or study: another
one's folder is refused unless ``--overwrite``.  Ctrl-C stops with status 130, keeping
every finished run.

Executors: local processes by default (``--workers W``, default all cores), ``--serial``,
``--dask`` (a LocalCluster of ``--workers`` processes on 127.0.0.1) or
``--scheduler tcp://host:port`` (an existing Dask cluster).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
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
    positive_days,
    seed_arg,
    writable_dir,
)
from g60rail.errors import ScenarioError
from g60rail.scenario.io import parse_override

__all__ = ["register"]


# -- argument types and parsing -------------------------------------------------------


def _nonneg_float(flag: str) -> Any:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a number, got {text!r}") from None
        if not math.isfinite(v) or v < 0:
            raise argparse.ArgumentTypeError(f"{flag} must be >= 0, got {text!r}")
        return v

    return parse


def _split_key(flag: str, text: str) -> tuple[str, str]:
    if "=" not in text:
        raise UserError(f"{flag} {text!r}: expected KEY=VALUE")
    key, raw = (s.strip() for s in text.split("=", 1))
    if not key or not raw:
        raise UserError(f"{flag} {text!r}: expected KEY=VALUE with both parts")
    return key, raw


def _value(key: str, raw: str) -> Any:
    return parse_override(f"{key}={raw}")[1]


_CLOSE = {"[": "]", "{": "}"}


def split_values(text: str, flag: str) -> list[str]:
    """Split ``text`` at the commas outside brackets, braces and quotes:
    ``'2,[1, 2],"a,b"'`` -> ``["2", "[1, 2]", '"a,b"']``."""
    parts: list[str] = []
    depth: list[str] = []
    quote: str | None = None
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"':
                i += 1  # an escaped character inside a basic string
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in _CLOSE:
            depth.append(_CLOSE[ch])
        elif ch in "]}":
            if not depth or depth.pop() != ch:
                raise UserError(f"{flag} {text!r}: unbalanced {ch!r}")
        elif ch == "," and not depth:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    if quote is not None or depth:
        raise UserError(f"{flag} {text!r}: an unclosed {quote or depth[-1]!r}")
    parts.append(text[start:].strip())
    return parts


def parse_grid(items: Sequence[str] | None) -> dict[str, list[Any]]:
    """``["hub.reach_stackers=2,4"]`` -> ``{"hub.reach_stackers": [2, 4]}``.

    Values are TOML and may be lists or tables: the commas inside brackets, braces or
    quotes belong to a value.
    """
    grid: dict[str, list[Any]] = {}
    for item in items or ():
        key, raw = _split_key("--grid", item)
        if key in grid:
            raise UserError(f"--grid {item!r}: key {key!r} given twice")
        parts = split_values(raw, "--grid")
        if any(not p for p in parts):
            raise UserError(f"--grid {item!r}: empty value in the list")
        grid[key] = [_value(key, p) for p in parts]
    return grid


def parse_point(text: str) -> dict[str, Any]:
    """``"hub.reach_stackers=2,hub.loading_tracks=3"`` -> a dict of overrides (values may
    be lists: ``'services.g60.departures=["daily 15:25"],hub.reach_stackers=3'``)."""
    point: dict[str, Any] = {}
    for part in split_values(text, "--point"):
        key, raw = _split_key("--point", part)
        if key in point:
            raise UserError(f"--point {text!r}: key {key!r} given twice")
        point[key] = _value(key, raw)
    return point


def parse_space(items: Sequence[str] | None) -> dict[str, tuple[Any, Any]]:
    """``["hub.reach_stackers=1:8", "x.y=0.5:2.0"]`` -> ranges (int when both ends are)."""
    space: dict[str, tuple[Any, Any]] = {}
    for item in items or ():
        key, raw = _split_key("--space", item)
        ends = raw.split(":")
        if len(ends) != 2:
            raise UserError(f"--space {item!r}: expected KEY=LOW:HIGH")
        lo_hi: tuple[float, ...]  # ints when both ends are
        try:
            lo_hi = tuple(int(e) for e in ends)
        except ValueError:
            try:
                lo_hi = tuple(float(e) for e in ends)
            except ValueError:
                raise UserError(f"--space {item!r}: LOW and HIGH must be numbers") from None
        if not all(math.isfinite(v) for v in lo_hi) or lo_hi[0] > lo_hi[1]:
            raise UserError(f"--space {item!r}: need finite LOW <= HIGH")
        space[key] = (lo_hi[0], lo_hi[1])
    return space


def parse_costs(items: Sequence[str] | None) -> dict[str, float]:
    """``["hub.reach_stackers=450000"]`` -> ``{"hub.reach_stackers": 450000.0}``."""
    costs: dict[str, float] = {}
    for item in items or ():
        key, raw = _split_key("--cost", item)
        try:
            v = float(raw.replace("_", ""))
        except ValueError:
            raise UserError(f"--cost {item!r}: the cost must be a number") from None
        if not math.isfinite(v) or v < 0:
            raise UserError(f"--cost {item!r}: the cost must be >= 0")
        costs[key] = v
    return costs


def _executor(args: argparse.Namespace) -> Any:
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
def _resumable(out: Path) -> Iterator[None]:
    """Turn Ctrl-C into a one-line note (status 130): finished work is kept in ``out``."""
    try:
        yield
    except KeyboardInterrupt:
        print(file=sys.stderr)  # below a progress bar's line
        raise Interrupted(
            f"interrupted; finished runs are kept in {out}/ - run the same command again to resume"
        ) from None


def _kpi_problems(scenario: Any, days: float, wanted: Sequence[tuple[str, str]]) -> None:
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


def _flag_error(exc: ScenarioError) -> UserError | None:
    """An experiment setting's error (constraint, objective, space) as the flag's error,
    not the scenario file's."""
    flags = {"constraint": "--constraint", "objective": "--objective", "space": "--space"}
    if exc.field not in flags:
        return None
    value = f" {exc.value!r}" if exc.has_value else ""
    return UserError(f"{flags[exc.field]}{value}: {exc.message}")


def _write_png(fig: Any, path: Path) -> Path:
    from g60rail.result import atomic_write

    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, dpi=110, format="png")
    return path


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


# -- sweep ----------------------------------------------------------------------------
def _cmd_sweep(args: argparse.Namespace) -> int:
    import g60rail as g6
    from g60rail.cli.outdir import claim, remove_holding
    from g60rail.experiment.replications import expand_points, sweep
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
    _kpi_problems(scenario, args.days, [("--plot-kpi", k) for k in kpis])
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
    with _executor(args) as ex, _resumable(out):
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
        )
    varying = [p for p in res.params if res.runs[p].nunique() > 1] or res.params
    pngs = []
    for kpi in kpis:
        if kpi not in res.runs.columns:  # known to the runs of the scenario, not observed
            print(f"g60rail: note: no run observed {kpi}; no chart drawn", file=sys.stderr)
            continue
        fig = sweep_chart(res.summary, kpi, varying[0])
        pngs.append(_write_png(fig, out / f"sweep_{_safe(kpi)}.png"))
    table = res.summary[res.summary["kpi"].isin(kpis)]
    cols = ["point", *res.params, "kpi", "mean", "ci_low", "ci_high", "n"]
    print(
        f"g60rail sweep {scenario.meta.name}: {len(res.points)} points x "
        f"{args.replications} replications, {args.days:g} days, seed {args.seed}"
    )
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    files = [p.name for p in res.files] + ["runs.jsonl", "sweep.json"] + [p.name for p in pngs]
    print(f"\nwrote {out}/: {', '.join(files)}")
    return 0


# -- tune -----------------------------------------------------------------------------
def _cmd_tune(args: argparse.Namespace) -> int:
    import g60rail as g6
    from g60rail.cli.outdir import claim, remove_holding
    from g60rail.experiment.replications import write_table
    from g60rail.experiment.tuning import (
        CURRENCY,
        check_tune,
        parse_constraint,
        scenario_costs,
        tune,
    )
    from g60rail.plot.experiment import tuning_chart
    from g60rail.result import atomic_write
    from g60rail.scenario.io import save_scenario

    space = parse_space(args.space)
    if not space:
        raise UserError("tune needs at least one --space KEY=LOW:HIGH")
    if args.warmup_days >= args.days:
        raise UserError(f"--warmup-days {args.warmup_days:g} must be below --days {args.days:g}")
    constraints = []
    for text in args.constraint or ():
        try:
            constraints.append(parse_constraint(text))
        except ScenarioError as exc:
            raise UserError(f"--constraint {text!r}: {exc.message}") from None
    scenario = g6.load_scenario(args.scenario)
    check_dates(scenario, args.days)
    costs = {**scenario_costs(scenario), **parse_costs(args.cost)}
    for key in space:
        if args.objective == "cost" and key not in costs:
            raise UserError(f"--space {key}: no cost per unit; add --cost {key}=VALUE (USD)")
    out = Path(args.out)
    identity = {
        "scenario_hash": scenario.hash,
        "space": {k: list(v) for k, v in space.items()},
        "objective": args.objective,
        "constraints": [str(c) for c in constraints],
        "costs": {k: costs[k] for k in sorted(space) if k in costs},
        "replications": args.replications,
        "days": float(args.days),
        "seed": int(args.seed),
        "warmup_days": float(args.warmup_days),
        "study_name": args.study_name,
    }
    try:
        # every input (space, costs, KPI names, seed) before anything is written
        check_tune(
            scenario,
            space,
            objective=args.objective,
            constraints=constraints,
            costs=costs,
            days=args.days,
            seed=args.seed,
        )
    except ScenarioError as exc:
        err = _flag_error(exc)
        if err is None:
            raise
        raise err from None
    held = claim(out, "tune", overwrite=args.overwrite, settings=identity)
    writable_dir(out)
    if held is not None:
        remove_holding(out, held)
    with atomic_write(out / "tune.json") as fh:
        json.dump({"scenario": scenario.meta.name, **identity}, fh, indent=2, default=str)
    with _executor(args) as ex, _resumable(out):
        res = tune(
            scenario,
            space,
            objective=args.objective,
            constraints=constraints,
            n_trials=args.trials,
            replications=args.replications,
            days=args.days,
            seed=args.seed,
            executor=ex,
            progress=False if args.quiet else None,
            costs=costs,
            out=out,
            warmup_days=args.warmup_days,
            study_name=args.study_name,
        )
    files = [p.name for p in write_table(res.trials, out, "trials")]
    if len(res.trials):
        files.append(_write_png(tuning_chart(res.trials), out / "tuning.png").name)
    best = {
        "scenario": scenario.meta.name,
        "study": res.study_name,
        "constraints": [str(c) for c in constraints],
        "best_params": res.best_params,
        "objective": None if math.isnan(res.best_value) else res.best_value,
        "objective_unit": CURRENCY if args.objective == "cost" else args.objective,
        "currency": CURRENCY,
        "kpis": {c.kpi: res.best_kpis.get(c.kpi) for c in constraints},
    }
    with atomic_write(out / "best.json") as fh:
        json.dump(best, fh, indent=2, default=str)
    files.append("best.json")
    print(f"g60rail tune {scenario.meta.name}: {len(res.trials)} trials ({res.study_name})")
    if res.best_scenario is None:
        print("no trial met every constraint; see trials.csv (column 'violation')")
        print(f"\nwrote {out}/: {', '.join(files)}, study.db")
        return 1
    save_scenario(res.best_scenario, out / "best_scenario.json")
    files.append("best_scenario.json")
    if args.objective == "cost":
        value = f"life-cycle cost {res.best_value:,.0f} {CURRENCY}"
    else:
        value = f"objective {res.best_value:,.3f}"
    print(f"cheapest feasible: {res.best_params}  {value}")
    for c in constraints:
        print(f"  {c}: {res.best_kpis.get(c.kpi, math.nan):,.3f}")
    print(f"\nwrote {out}/: {', '.join(files)}, study.db")
    return 0


# -- registration ---------------------------------------------------------------------
def _add_common(p: argparse.ArgumentParser, days: float, replications: int) -> None:

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
        type=_nonneg_float("--warmup-days"),
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
    """Add the experiment subcommands to the ``g60rail`` parser."""
    sw = sub.add_parser(
        "sweep",
        help="replicate every point of a capacity grid (common random numbers)",
        description="Replicate every point of a capacity grid with common random numbers; "
        "resumable with the same --out.",
    )
    _add_common(sw, days=90.0, replications=5)
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
    sw.set_defaults(func=_cmd_sweep)

    tu = sub.add_parser(
        "tune",
        help="find the cheapest capacities that meet service levels (Optuna)",
        description="Search capacities that meet KPI constraints at least capital cost; "
        "the study is stored in OUT/study.db and resumes.",
    )
    _add_common(tu, days=30.0, replications=3)
    tu.add_argument(
        "--space",
        action="append",
        metavar="KEY=LOW:HIGH",
        help="range of a capacity (integers when both ends are) (repeatable)",
    )
    tu.add_argument(
        "--cost",
        action="append",
        metavar="KEY=VALUE",
        help="life-cycle cost per unit of a capacity, USD (default: the scenario's [costs], "
        "then estimates for hub.reach_stackers, hub.loading_tracks, hub.gate_lanes, "
        "hub.yard_teu)",
    )
    tu.add_argument(
        "--constraint",
        action="append",
        metavar="KPI<=X",
        help='service level on a KPI mean, e.g. "hub.dwell_h_p95<=72" (repeatable)',
    )
    tu.add_argument(
        "--objective",
        default="cost",
        help="cost (default: life-cycle cost of the capacities, USD), min:KPI or max:KPI",
    )
    tu.add_argument(
        "--trials", type=int_at_least("--trials", 1), default=30, help="total trials (30)"
    )
    tu.add_argument("--study-name", default=None, help="Optuna study name (derived)")
    tu.set_defaults(func=_cmd_tune)
