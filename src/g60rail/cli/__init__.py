"""The ``g60rail`` command.

Exit status: 0 on success, 2 on bad input (one paragraph naming the file, the dotted
field and the value; never a traceback for a user's mistake).  Each subcommand lives in
its own module and registers itself on the parser: :mod:`~g60rail.cli.run`,
:mod:`~g60rail.cli.scenarios`, :mod:`~g60rail.cli.experiment`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from g60rail.cli import experiment, run, scenarios
from g60rail.cli.common import EXIT_USER_ERROR, UserError
from g60rail.errors import ScenarioError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``g60rail`` command."""
    parser = argparse.ArgumentParser(
        prog="g60rail",
        description="Simulate the G60 multimodal logistics corridor (Songjiang - Kunming - "
        "Vientiane) and the Songjiang HSR station.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (run, scenarios, experiment):
        module.register(sub)
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
