"""The ``g60rail`` command.

Exit status: 0 on success, 2 on bad input (one paragraph naming the file, the dotted
field and the value; never a traceback for a user's mistake), 130 when interrupted with
Ctrl-C (one line; nothing half-written), 141 when the reader of its output went away
(``g60rail validate baseline | head -3``; nothing is printed).  A file that cannot be
written (a full disk, no permission) is a one-line error with status 2 as well.  Each
subcommand lives in its own module and registers itself on the parser:
:mod:`~g60rail.cli.run`, :mod:`~g60rail.cli.scenarios`, :mod:`~g60rail.cli.experiment`
(``sweep``), :mod:`~g60rail.cli.tune`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from g60rail.cli import experiment, run, scenarios, tune
from g60rail.cli.common import EXIT_INTERRUPTED, EXIT_USER_ERROR, Interrupted, UserError
from g60rail.errors import ScenarioError

__all__ = ["EXIT_BROKEN_PIPE", "build_parser", "main"]

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command cut off by `head`


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("g60rail")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``g60rail`` command."""
    parser = argparse.ArgumentParser(
        prog="g60rail",
        description="Simulate the G60 multimodal logistics corridor (Songjiang - Kunming - "
        "Vientiane) and the Songjiang HSR station.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (run, scenarios, experiment, tune):
        module.register(sub)
    return parser


def _stdout_gone() -> None:
    """Point standard output at the null device: the reader has gone, and Python would
    otherwise report the broken pipe again when it flushes at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _say(message: str) -> None:
    with contextlib.suppress(OSError):  # stderr gone too: nothing to tell
        print(f"g60rail: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``g60rail`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()
        return status
    except ScenarioError as exc:
        source = getattr(args, "scenario", None) or getattr(args, "file", None)
        if exc.file is None and source:
            exc = exc.with_file(str(source))
        _say(f"error: {exc.describe()}")
        return EXIT_USER_ERROR
    except UserError as exc:
        _say(f"error: {exc}")
        return EXIT_USER_ERROR
    except Interrupted as exc:
        _say(str(exc))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"error: {where}{exc.strerror or exc}")
        return EXIT_USER_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
