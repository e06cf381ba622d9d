"""What every ``g60rail`` subcommand shares: the user-error and interruption types,
argument types, ``KEY=VALUE`` items and comma-separated values, the checks of a scenario
against a run's dates, the output folder check and the KPI table printed on the
terminal."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from g60rail.errors import ScenarioError
from g60rail.scenario.io import parse_override
from g60rail.scenario.schema import Scenario

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_USER_ERROR",
    "MAX_DAYS",
    "MAX_SEED",
    "Interrupted",
    "UserError",
    "check_dates",
    "format_kpis",
    "int_at_least",
    "key_value",
    "nonneg_float",
    "parse_sets",
    "positive_days",
    "positive_float",
    "seed_arg",
    "split_values",
    "toml_value",
    "writable_dir",
]

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
MAX_DAYS = 36_500  # a century: longer runs are a typo, not a study
MAX_SEED = 2**32 - 1  # what every command, tune's Optuna samplers included, can take


class UserError(Exception):
    """A problem with the command's input that the user can fix."""


class Interrupted(Exception):
    """Ctrl-C: the command stops with this one-line message and exit status 130."""


def parse_sets(items: Sequence[str] | None) -> dict[str, Any]:
    """``["hub.reach_stackers=4"]`` -> ``{"hub.reach_stackers": 4}`` (values parsed as TOML)."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, value = parse_override(item)
        out[key] = value
    return out


def key_value(flag: str, text: str) -> tuple[str, str]:
    """Split a ``KEY=VALUE`` item of ``flag`` into its stripped key and raw value.

    Raises
    ------
    UserError
        No ``=``, or an empty key or value, naming the flag and the item.
    """
    if "=" not in text:
        raise UserError(f"{flag} {text!r}: expected KEY=VALUE")
    key, raw = (s.strip() for s in text.split("=", 1))
    if not key or not raw:
        raise UserError(f"{flag} {text!r}: expected KEY=VALUE with both parts")
    return key, raw


def toml_value(key: str, raw: str) -> Any:
    """The value of ``raw`` (a TOML value) for the dotted ``key``, as ``--set`` reads it."""
    return parse_override(f"{key}={raw}")[1]


_CLOSE = {"[": "]", "{": "}"}


def split_values(text: str, flag: str) -> list[str]:
    """Split ``text`` at the commas outside brackets, braces and quotes:
    ``'2,[1, 2],"a,b"'`` -> ``["2", "[1, 2]", '"a,b"']``.

    Raises
    ------
    UserError
        Unbalanced brackets or braces, or an unclosed quote, naming ``flag``.
    """
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


def _number(flag: str, text: str) -> float:
    """``text`` as a float, or an argparse error naming ``flag``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{flag} must be a number, got {text!r}") from None


def nonneg_float(flag: str) -> Callable[[str], float]:
    """An argparse type: a finite number >= 0, errors naming ``flag``."""

    def parse(text: str) -> float:
        v = _number(flag, text)
        if not math.isfinite(v) or v < 0:
            raise argparse.ArgumentTypeError(f"{flag} must be >= 0, got {text!r}")
        return v

    return parse


def positive_float(flag: str) -> Callable[[str], float]:
    """An argparse type: a finite number > 0, errors naming ``flag``."""

    def parse(text: str) -> float:
        v = _number(flag, text)
        if not (math.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(f"{flag} must be a number > 0, got {text!r}")
        return v

    return parse


def positive_days(text: str) -> float:
    """An argparse type: a number of days in ``(0, MAX_DAYS]``."""
    v = _number("--days", text)
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


def seed_arg(text: str) -> int:
    """An argparse type: a seed, an integer in ``[0, MAX_SEED]``."""
    v = int_at_least("--seed", 0)(text)
    if v > MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"--seed must be an integer in [0, {MAX_SEED}] (32 bits), got {text!r}"
        )
    return v


def check_dates(scenario: Scenario, days: float) -> None:
    """Check a scenario against the dates of a run of ``days`` days.

    Raises
    ------
    ScenarioError
        The run would end after the last date a run's tables can hold, or a closure lies
        wholly outside the run (it would change nothing: a wrong year, or a run too
        short), naming the field, its window and the run's dates.
    """
    import datetime as dt
    import warnings

    from g60rail.experiment.checks import check_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # closures: an error here, below
        check_run(scenario, days)
    start = scenario.meta.start
    end = start + dt.timedelta(days=float(days))
    for i in scenario.disruptions.closures_outside(start, end):
        c = scenario.disruptions.closures[i]
        need = math.ceil((c.end - start).total_seconds() / 86_400.0)
        hint = f"a run of at least --days {need}" if c.end > end else "a closure inside the run"
        raise ScenarioError(
            f"the closure lies outside the run ({start:%Y-%m-%d %H:%M} to "
            f"{end:%Y-%m-%d %H:%M}) and would change nothing; give {hint}, or move or "
            "remove the closure",
            field=f"disruptions.closures.{i}",
            value=f"{c.start.isoformat()} to {c.end.isoformat()}",
        )


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
