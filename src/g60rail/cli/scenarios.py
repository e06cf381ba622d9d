"""``g60rail scenarios`` and ``g60rail validate``: what is packaged, and whether a
scenario file is valid (optionally against the calibration targets)."""

from __future__ import annotations

import argparse

from g60rail.cli.common import positive_days, seed_arg

__all__ = ["register"]


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
    for g in leg_table(sc.places, sc.legs):
        flag = "" if g.circuity >= 1.0 else "   <- route km shorter than the geodesic!"
        print(
            f"  leg {g.from_:>12} - {g.to:<12} {g.mode:<10} {g.km:8.0f} km "
            f"(geodesic {g.geodesic_km:7.0f} km){flag}"
        )
    if args.calibration:
        import g60rail as g6
        from g60rail.experiment.calibration import calibration_table, format_calibration

        print(
            f"\ncalibration: {args.days:g} days, seed {args.seed} "
            "(targets from shared/corridor-facts.md)"
        )
        result = g6.simulate(sc, days=args.days, seed=args.seed)
        print(format_calibration(calibration_table(result)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``scenarios`` and ``validate`` to the ``g60rail`` parser."""
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
        "--days", type=positive_days, default=365.0, help="simulated days for --calibration (365)"
    )
    val.add_argument("--seed", type=seed_arg, default=0, help="random seed for --calibration (0)")
    val.set_defaults(func=_cmd_validate)
