"""``g60rail run``: simulate a scenario and write its KPIs, tables and figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from g60rail.cli.common import format_kpis, parse_sets, positive_days, seed_arg, writable_dir

__all__ = ["HEADLINE", "register"]

HEADLINE = (
    "freight.teu_",
    "freight.trains_departed",
    "freight.train_fill_teu_mean",
    "freight.g60.",
    "hub.dwell",
    "hub.yard_teu_max",
    "hub.reach_stacker_utilization",
    "hub.gate_wait_h_mean",
    "border.mohan.clearance",
    "border.boten.clearance",
    "transit.songjiang_kunming.h_mean",
    "transit.kunming_vientiane.h_mean",
    "transit.songjiang_vientiane.h_mean",
    "road.songjiang_vientiane.h_mean",
    "pax.",
    "disruption.",
)


def _cmd_run(args: argparse.Namespace) -> int:
    import g60rail as g6
    from g60rail.plot.summary import write_run_figures

    out = writable_dir(Path(args.out))
    scenario = g6.load_scenario(args.scenario, overrides=parse_sets(args.set))
    result = g6.simulate(scenario, days=args.days, seed=args.seed)
    if scenario.disruptions.breakdowns or scenario.disruptions.closures:
        from g60rail.experiment.impact import disruption_cost

        # the same run without disruptions, same seed: the difference is their cost
        result.kpis.update(disruption_cost(scenario, args.days, args.seed, result=result))
    result.save(out)
    figures = write_run_figures(result, out, scenario=scenario)
    print(
        f"g60rail {scenario.meta.name}: {args.days:g} days from {scenario.meta.start:%Y-%m-%d}, "
        f"seed {args.seed}"
    )
    print(format_kpis(result.kpis, None if args.all_kpis else HEADLINE))
    print(
        f"\nwrote {out}/: kpis.json, manifest.json, "
        f"{', '.join(f'{n}.csv' for n in result.tables)}, "
        f"{', '.join(p.name for p in figures)}"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``run`` to the ``g60rail`` parser."""
    run = sub.add_parser("run", help="simulate a scenario and write KPIs, tables and plots")
    run.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        help="packaged scenario name or path to a .toml file (default: baseline)",
    )
    run.add_argument("--days", type=positive_days, default=90.0, help="simulated days (90)")
    run.add_argument("--seed", type=seed_arg, default=0, help="random seed (0)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a field, e.g. --set hub.reach_stackers=4 (repeatable)",
    )
    run.add_argument("--out", default="g60rail-out", help="output folder (./g60rail-out)")
    run.add_argument("--all-kpis", action="store_true", help="print every KPI")
    run.set_defaults(func=_cmd_run)
