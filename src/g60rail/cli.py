"""The ``g60rail`` command.

Exit status: 0 on success, 2 on bad input (one paragraph naming the file, the dotted
field and the value; never a traceback for a user's mistake).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from g60rail.errors import ScenarioError

__all__ = ["main"]

EXIT_USER_ERROR = 2
MAX_DAYS = 36_500  # a century: longer runs are a typo, not a study


class UserError(Exception):
    """A problem with the command's input that the user can fix."""


def _parse_sets(items: Sequence[str] | None) -> dict[str, Any]:
    from g60rail.scenario.io import parse_override

    out: dict[str, Any] = {}
    for item in items or ():
        key, value = parse_override(item)
        out[key] = value
    return out


def _positive_days(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days must be a number, got {text!r}") from None
    if not math.isfinite(v) or v <= 0 or v > MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"--days must be a number of days in (0, {MAX_DAYS}], got {text!r}"
        )
    return v


def int_at_least(flag: str, low: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low``, errors naming ``flag``."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"{flag} must be >= {low}, got {text!r}")
        return v

    return parse


_seed = int_at_least("--seed", 0)


def writable_dir(path: Path) -> Path:
    """Create ``path`` if needed and check that files can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".g60rail-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"output folder {str(path)!r} cannot be written: {exc.strerror}") from None
    return path


def format_kpis(kpis: dict[str, float], prefixes: Sequence[str] | None = None) -> str:
    """A two-column text table of KPIs (optionally only names with given prefixes)."""
    rows = [
        (k, v) for k, v in sorted(kpis.items()) if prefixes is None or k.startswith(tuple(prefixes))
    ]
    width = max((len(k) for k, _ in rows), default=10)
    lines = [f"{'kpi':<{width}}  value", f"{'-' * width}  {'-' * 12}"]
    for k, v in rows:
        text = "nan" if v != v else f"{v:,.3f}" if abs(v) < 1e6 else f"{v:,.0f}"
        lines.append(f"{k:<{width}}  {text:>12}")
    return "\n".join(lines)


_HEADLINE = (
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
    scenario = g6.load_scenario(args.scenario, overrides=_parse_sets(args.set))
    result = g6.simulate(scenario, days=args.days, seed=args.seed)
    if scenario.disruptions.breakdowns or scenario.disruptions.closures:
        from g60rail.impact import disruption_cost

        # the same run without disruptions, same seed: the difference is their cost
        result.kpis.update(disruption_cost(scenario, args.days, args.seed, result=result))
    result.save(out)
    figures = write_run_figures(result, out, scenario=scenario)
    print(
        f"g60rail {scenario.meta.name}: {args.days:g} days from {scenario.meta.start:%Y-%m-%d}, "
        f"seed {args.seed}"
    )
    print(format_kpis(result.kpis, None if args.all_kpis else _HEADLINE))
    print(
        f"\nwrote {out}/: kpis.json, manifest.json, "
        f"{', '.join(f'{n}.csv' for n in result.tables)}, "
        f"{', '.join(p.name for p in figures)}"
    )
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from g60rail.scenario.io import packaged_scenarios

    for name, desc in packaged_scenarios().items():
        print(f"{name:<24} {desc}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from g60rail.geo import leg_table
    from g60rail.scenario.io import load_scenario

    sc = load_scenario(args.file)
    print(f"{args.file}: valid scenario {sc.meta.name!r} (hash {sc.hash})")
    print(
        f"  {len(sc.places)} places, {len(sc.legs)} legs, {len(sc.services)} services, "
        f"{len(sc.borders)} border ports, station: {'yes' if sc.station else 'no'}"
    )
    for g in leg_table(sc):
        flag = "" if g.circuity >= 1.0 else "   <- route km shorter than the geodesic!"
        print(
            f"  leg {g.from_:>12} - {g.to:<12} {g.mode:<10} {g.km:8.0f} km "
            f"(geodesic {g.geodesic_km:7.0f} km){flag}"
        )
    if args.calibration:
        import g60rail as g6
        from g60rail.calibration import calibration_table, format_calibration

        print(
            f"\ncalibration: {args.days:g} days, seed {args.seed} "
            "(targets from shared/corridor-facts.md)"
        )
        result = g6.simulate(sc, days=args.days, seed=args.seed)
        print(format_calibration(calibration_table(result)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``g60rail`` command."""
    parser = argparse.ArgumentParser(
        prog="g60rail",
        description="Simulate the G60 multimodal logistics corridor (Songjiang - Kunming - "
        "Vientiane) and the Songjiang HSR station.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario and write KPIs, tables and plots")
    run.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        help="packaged scenario name or path to a .toml file (default: baseline)",
    )
    run.add_argument("--days", type=_positive_days, default=90.0, help="simulated days (90)")
    run.add_argument("--seed", type=_seed, default=0, help="random seed (0)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a field, e.g. --set hub.reach_stackers=4 (repeatable)",
    )
    run.add_argument("--out", default="g60rail-out", help="output folder (./g60rail-out)")
    run.add_argument("--all-kpis", action="store_true", help="print every KPI")
    run.set_defaults(func=_cmd_run)

    sc = sub.add_parser("scenarios", help="list packaged scenarios")
    sc.set_defaults(func=_cmd_scenarios)

    val = sub.add_parser("validate", help="check a scenario file and say what is wrong")
    val.add_argument("file", help="path to a .toml scenario file (or a packaged name)")
    val.add_argument(
        "--calibration",
        action="store_true",
        help="also simulate and compare with the published calibration targets",
    )
    val.add_argument(
        "--days", type=_positive_days, default=365.0, help="simulated days for --calibration (365)"
    )
    val.add_argument("--seed", type=_seed, default=0, help="random seed for --calibration (0)")
    val.set_defaults(func=_cmd_validate)

    from g60rail.cli_experiment import register

    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``g60rail`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        source = getattr(args, "scenario", None) or getattr(args, "file", None)
        if exc.file is None and source:
            exc = exc.with_file(str(source))
        print(f"g60rail: error: {exc.describe()}", file=sys.stderr)
        return EXIT_USER_ERROR
    except UserError as exc:
        print(f"g60rail: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
