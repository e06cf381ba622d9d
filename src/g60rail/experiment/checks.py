"""Checks every experiment makes before its first run, and its progress bar."""

from __future__ import annotations

import math
import warnings
from typing import Any

from g60rail.errors import ScenarioError
from g60rail.experiment.impact import closures_outside_run
from g60rail.scenario.base import LAST_DATE
from g60rail.scenario.schema import Scenario

__all__ = ["check_days", "check_run", "progress_bar", "tqdm_class"]


def check_days(days: float, warmup_days: float) -> None:
    """Raise ``ValueError`` unless ``days > 0`` and ``0 <= warmup_days < days``."""
    if not (isinstance(days, (int, float)) and math.isfinite(days) and days > 0):
        raise ValueError(f"days must be a positive number, got {days!r}")
    if not (math.isfinite(warmup_days) and 0 <= warmup_days < days):
        raise ValueError(f"warmup_days must be in [0, days), got {warmup_days!r}")


def check_run(scenario: Scenario, days: float) -> None:
    """Check that runs of ``scenario`` over ``days`` days fit their dates.

    Raises
    ------
    ScenarioError
        The run would end after the last date a run's tables can hold (``meta.start``).

    A closure the run never sees is reported with a warning.
    """
    start = scenario.meta.start
    if (LAST_DATE - start).total_seconds() < 86_400.0 * float(days):
        raise ScenarioError(
            f"a run of {float(days):g} days from this start ends after "
            f"{LAST_DATE:%Y-%m-%d}, the last date a run's tables can hold",
            field="meta.start",
            value=start.isoformat(),
        )
    for text in closures_outside_run(scenario, days):
        warnings.warn(f"{text}: it changes nothing", UserWarning, stacklevel=3)


def tqdm_class() -> Any:
    """tqdm's class for this session: notebook widgets when ipywidgets is installed (and
    the session is a notebook), else text bars (no "IProgress not found" warning)."""
    import importlib.util

    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm as text_bar

        return text_bar
    from tqdm.auto import tqdm as auto_bar

    return auto_bar


def progress_bar(
    total: int, initial: int, desc: str, progress: bool | None, unit: str = "run"
) -> Any:
    """A tqdm bar; ``progress=None`` shows it on a terminal or in a notebook only."""
    # None: shown on a terminal or in a notebook, hidden when output is redirected
    disable = None if progress is None else not progress
    return tqdm_class()(total=total, initial=initial, desc=desc, unit=unit, disable=disable)
