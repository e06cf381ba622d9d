"""What every ``g60rail`` subcommand shares: the user-error type, argument types, the
output folder check and the KPI table printed on the terminal."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from g60rail.scenario.io import parse_override

__all__ = [
    "EXIT_USER_ERROR",
    "MAX_DAYS",
    "UserError",
    "format_kpis",
    "int_at_least",
    "parse_sets",
    "positive_days",
    "seed_arg",
    "writable_dir",
]

EXIT_USER_ERROR = 2
MAX_DAYS = 36_500  # a century: longer runs are a typo, not a study


class UserError(Exception):
    """A problem with the command's input that the user can fix."""


def parse_sets(items: Sequence[str] | None) -> dict[str, Any]:
    """``["hub.reach_stackers=4"]`` -> ``{"hub.reach_stackers": 4}`` (values parsed as TOML)."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, value = parse_override(item)
        out[key] = value
    return out


def positive_days(text: str) -> float:
    """An argparse type: a number of days in ``(0, MAX_DAYS]``."""
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


seed_arg = int_at_least("--seed", 0)


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
