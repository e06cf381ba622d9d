"""``g60rail tune``: the cheapest capacities that meet service levels, or the Pareto front
of life-cycle cost against service KPIs.

``g60rail tune SCENARIO --space hub.reach_stackers=1:8 --cost hub.reach_stackers=450000
--constraint "hub.dwell_h_p95<=72" --trials 30 --out DIR`` searches the cheapest
capacities that meet the constraints and writes ``trials.csv``, ``pareto.csv`` (the
cheapest feasible trials), ``best.json``, ``best_scenario.json`` and ``tuning.png``; the
study lives in ``DIR/study.db`` and resumes (a trial an interruption cut short is
evaluated again).  Costs are life-cycle costs in US dollars
(:data:`~g60rail.experiment.tuning.CURRENCY`).

With ``--service hub.truck_turnaround_h_p95`` (repeatable; ``max:KPI`` for a KPI to
maximise) the study is multi-objective: it prints and writes (``pareto.csv``) the Pareto
front of the feasible trials, cost against the service KPI means, then picks one
configuration from its cheap end on more replications (``--confirm-replications``; KN
within ``--indifference`` among equally cheap ones: see
:mod:`g60rail.experiment.tuning_choice`), prints it with its cost, and writes it to
``best.json`` (``chosen``, with the final step's rounds) and ``best_scenario.json``.

Every input is checked before the first run (flags, keys and values, KPI names of
``--constraint``, ``--objective`` and ``--service`` against a short run of the scenario,
the run's dates and the output folder).  A configuration whose backlog keeps growing is
infeasible (:data:`~g60rail.experiment.tuning.STEADY_STATE`, printed with the
constraints) unless ``--allow-growing-backlog`` is given.  Exit status 1 when no
configuration met every constraint.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from g60rail.cli.common import (
    UserError,
    check_dates,
    int_at_least,
    key_value,
    positive_float,
    writable_dir,
)
from g60rail.cli.experiment import add_run_options, executor_from, resumable, write_png
from g60rail.errors import ScenarioError

if TYPE_CHECKING:  # the experiment package is imported when the command runs
    import pandas as pd

    from g60rail.experiment.tuning import TuneResult

__all__ = ["format_front", "parse_costs", "parse_space", "register"]

_FLAGS = {
    "constraint": "--constraint",
    "objective": "--objective",
    "space": "--space",
    "service": "--service",
}


# -- argument parsing -----------------------------------------------------------------
def parse_space(items: Sequence[str] | None) -> dict[str, tuple[Any, Any]]:
    """``["hub.reach_stackers=1:8", "x.y=0.5:2.0"]`` -> ranges (int when both ends are)."""
    space: dict[str, tuple[Any, Any]] = {}
    for item in items or ():
        key, raw = key_value("--space", item)
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
    """``["hub.reach_stackers=450000"]`` -> ``{"hub.reach_stackers": 450000.0}`` (USD)."""
    costs: dict[str, float] = {}
    for item in items or ():
        key, raw = key_value("--cost", item)
        try:
            v = float(raw.replace("_", ""))
        except ValueError:
            raise UserError(f"--cost {item!r}: the cost must be a number") from None
        if not math.isfinite(v) or v < 0:
            raise UserError(f"--cost {item!r}: the cost must be >= 0")
        costs[key] = v
    return costs


def _confidence(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0.5 < v < 1:
        raise argparse.ArgumentTypeError(f"--confidence must be in (0.5, 1), got {text!r}")
    return v


def _confirm_replications(text: str) -> int:
    v = int_at_least("--confirm-replications", 0)(text)
    if v == 1:
        raise argparse.ArgumentTypeError("--confirm-replications must be 0 (skip) or >= 2")
    return v


def _flag_error(exc: ScenarioError) -> UserError | None:
    """An experiment setting's error (constraint, objective, space, service) as the
    flag's error, not the scenario file's."""
    if exc.field not in _FLAGS:
        return None
    value = f" {exc.value!r}" if exc.has_value else ""
    return UserError(f"{_FLAGS[exc.field]}{value}: {exc.message}")


# -- what it prints -------------------------------------------------------------------
def format_front(front: pd.DataFrame, params: Sequence[str]) -> str:
    """The Pareto front as a text table: the parameters, the cost in its currency, then
    the KPI means (3 decimals)."""
    currency = str(front.attrs["currency"])
    shown = front.drop(columns=["currency"], errors="ignore").rename(
        columns={"cost": f"cost ({currency})"}
    )
    cost_col = f"cost ({currency})"
    formatters: dict[str, Any] = {cost_col: lambda v: f"{v:,.0f}"}
    formatters.update({p: str for p in params})
    return shown.to_string(index=False, formatters=formatters, float_format=lambda v: f"{v:,.3f}")


def _final_note(res: TuneResult) -> str:
    rounds = res.confirmation
    if not len(rounds):
        return "on the trials' means"
    last = rounds[rounds["round"] == rounds["round"].max()]
    n = int(last.loc[last["picked"], "replications"].iloc[0])
    if res.selection is not None:
        sel = res.selection
        return (
            f"selected by KN among {len(last)} equally cheap configurations on "
            f"{sel.kpi} (indifference {sel.indifference:g}, confidence {sel.confidence:g}, "
            f"{sel.reason}) and confirmed on {n} replications"
        )
    return f"the only one at its cost, confirmed on {n} replications"


def _best_json(res: TuneResult, scenario_name: str, objective: str) -> dict[str, Any]:
    kpis = list(
        dict.fromkeys([*(s.kpi for s in res.service_kpis), *(c.kpi for c in res.constraints)])
    )
    best: dict[str, Any] = {
        "scenario": scenario_name,
        "study": res.study_name,
        "constraints": [str(c) for c in res.constraints],
        "best_params": res.best_params,
        "objective": None if math.isnan(res.best_value) else res.best_value,
        "objective_unit": res.currency if objective == "cost" else objective,
        "currency": res.currency,
        "kpis": {c.kpi: res.best_kpis.get(c.kpi) for c in res.constraints},
        "chosen": res.chosen,
    }
    if res.service_kpis:
        best["service"] = [str(s) for s in res.service_kpis]
        best["chosen_kpis"] = {k: res.chosen_kpis.get(k) for k in kpis}
        if res.selection is not None:
            s = res.selection
            best["selection"] = {
                "kpi": s.kpi,
                "indifference": s.indifference,
                "confidence": s.confidence,
                "reason": s.reason,
                "points": s.points,
                "replications": s.replications,
                "best": s.best,
            }
        best["confirmation"] = json.loads(res.confirmation.to_json(orient="records"))
    return best


# -- the command ----------------------------------------------------------------------
def _cmd_tune(args: argparse.Namespace) -> int:
    import g60rail as g6
    from g60rail.cli.outdir import claim, remove_holding
    from g60rail.experiment.sweeps import write_table
    from g60rail.experiment.tuning import (
        CURRENCY,
        ServiceKpi,
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
    try:
        constraints = [parse_constraint(t) for t in args.constraint or ()]
        services = [ServiceKpi.parse(t) for t in args.service or ()]
    except ScenarioError as exc:
        err = _flag_error(exc)
        raise (err or exc) from None
    scenario = g6.load_scenario(args.scenario)
    check_dates(scenario, args.days)
    costs = {**scenario_costs(scenario), **parse_costs(args.cost)}
    for key in space:
        if args.objective == "cost" and key not in costs:
            raise UserError(f"--space {key}: no cost per unit; add --cost {key}=VALUE (USD)")
    out = Path(args.out)
    identity: dict[str, Any] = {
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
    if services:  # a study without them keeps the settings it always had
        identity["service"] = [str(s) for s in services]
    if args.allow_growing_backlog:
        identity["steady_state"] = False
    final = {
        "indifference": args.indifference,
        "confidence": args.confidence,
        "confirm_replications": args.confirm_replications,
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
            service_kpis=services,
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
        record = {"scenario": scenario.meta.name, **identity, "final_step": final}
        json.dump(record, fh, indent=2, default=str)
    with executor_from(args) as ex, resumable(out):
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
            service_kpis=services,
            steady_state=not args.allow_growing_backlog,
            **final,
        )
    files = [p.name for p in write_table(res.trials, out, "trials")]
    files += [p.name for p in write_table(res.pareto, out, "pareto")]
    simulated = res.trials[res.trials["skipped"] == ""] if "skipped" in res.trials else res.trials
    if len(simulated):  # a chart of trials the preview ruled out would have no KPIs
        kpi = services[0].kpi if services and services[0].kpi in res.trials else None
        files.append(write_png(tuning_chart(res.trials, kpi=kpi), out / "tuning.png").name)
    with atomic_write(out / "best.json") as fh:
        json.dump(_best_json(res, scenario.meta.name, args.objective), fh, indent=2, default=str)
    files.append("best.json")
    print(f"g60rail tune {scenario.meta.name}: {len(res.trials)} trials ({res.study_name})")
    skipped = res.trials[res.trials["skipped"] != ""] if "skipped" in res.trials else None
    if skipped is not None and len(skipped):
        print(f"{len(skipped)} not simulated: the preview shows them overloaded, e.g.")
        first = skipped.iloc[0]
        print(f"  {dict((k, first[k]) for k in space)}: {first['skipped']}")
    if services and len(res.pareto):
        against = ", ".join(f"{s.kpi} ({'min' if s.minimize else 'max'}imised)" for s in services)
        print(f"\nPareto front, life-cycle cost ({CURRENCY}) against {against} (feasible trials):")
        print(format_front(res.pareto, list(space)))
    chosen = res.chosen_scenario if services else res.best_scenario
    if chosen is None:
        print("no trial met every constraint; see trials.csv (column 'violation')")
        print(f"\nwrote {out}/: {', '.join(files)}, study.db")
        return 1
    save_scenario(chosen, out / "best_scenario.json")
    files.append("best_scenario.json")
    if services:
        print(f"\nchosen: {res.chosen}  life-cycle cost {res.chosen_cost:,.0f} {CURRENCY}")
        print(f"  ({_final_note(res)})")
        for k in dict.fromkeys([*(s.kpi for s in services), *(c.kpi for c in res.constraints)]):
            print(f"  {k}: {res.chosen_kpis.get(k, math.nan):,.3f}")
    else:
        if args.objective == "cost":
            value = f"life-cycle cost {res.best_value:,.0f} {CURRENCY}"
        else:
            value = f"objective {res.best_value:,.3f}"
        print(f"cheapest feasible: {res.best_params}  {value}")
        for c in res.constraints:
            print(f"  {c}: {res.best_kpis.get(c.kpi, math.nan):,.3f}")
    print(f"\nwrote {out}/: {', '.join(files)}, study.db")
    return 0


# -- registration ---------------------------------------------------------------------
def register(sub: argparse._SubParsersAction) -> None:
    """Add ``tune`` to the ``g60rail`` parser."""
    tu = sub.add_parser(
        "tune",
        help="find the cheapest capacities that meet service levels (Optuna)",
        description="Search capacities that meet KPI constraints at least life-cycle cost "
        "(USD), or with --service the Pareto front of cost against service KPIs and a "
        "configuration chosen from its cheap end on more replications; the study is "
        "stored in OUT/study.db and resumes.",
    )
    add_run_options(tu, days=30.0, replications=3)
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
        "--allow-growing-backlog",
        action="store_true",
        help="accept configurations whose backlog keeps growing (freight.backlog_growing: "
        "1 in a replication); by default they are infeasible, as their KPIs describe the "
        "run's length",
    )
    tu.add_argument(
        "--objective",
        default="cost",
        help="cost (default: life-cycle cost of the capacities, USD), min:KPI or max:KPI",
    )
    tu.add_argument(
        "--service",
        action="append",
        metavar="KPI",
        help="a service KPI to set beside the cost (minimised; max:KPI to maximise): the "
        "study finds the Pareto front (repeatable)",
    )
    tu.add_argument(
        "--indifference",
        type=positive_float("--indifference"),
        default=None,
        help="with --service: the difference in the first service KPI (its unit) not worth "
        "telling apart among equally cheap configurations (5%% of its mean)",
    )
    tu.add_argument(
        "--confidence",
        type=_confidence,
        default=0.95,
        help="with --service: probability of a correct final selection (0.95)",
    )
    tu.add_argument(
        "--confirm-replications",
        type=_confirm_replications,
        default=10,
        help="with --service: replications that confirm the chosen configuration, KN's "
        "first stage (10; 0 skips the final step)",
    )
    tu.add_argument(
        "--trials", type=int_at_least("--trials", 1), default=30, help="total trials (30)"
    )
    tu.add_argument("--study-name", default=None, help="Optuna study name (derived)")
    tu.set_defaults(func=_cmd_tune)
