"""One output folder, one run: what a folder holds, and when a command may write into it.

``g60rail run`` writes a run (``manifest.json`` lists its files), ``g60rail sweep`` a
sweep (``sweep.json``, ``runs.jsonl``, tables and charts) and ``g60rail tune`` a study
(``tune.json``, ``study.db``, trials, best configuration).  A command refuses a folder
that holds another kind of result, or a sweep or study with other settings, unless it is
given ``--overwrite``: then what the previous command wrote is removed (and nothing else:
files of the user's own are left alone).  A sweep or study with the same settings resumes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from g60rail.cli.common import UserError
from g60rail.result import previous_outputs

__all__ = ["SWEEP_FILES", "TUNE_FILES", "Holding", "claim", "holding", "remove_holding"]

SWEEP_FILES = (
    "sweep.json",
    "runs.jsonl",
    "runs.csv",
    "runs.parquet",
    "summary.csv",
    "summary.parquet",
    "sweep_*.png",
)
"""What ``g60rail sweep`` writes into its folder."""

TUNE_FILES = (
    "tune.json",
    "study.db",
    "trials.csv",
    "trials.parquet",
    "pareto.csv",
    "pareto.parquet",
    "tuning.png",
    "best.json",
    "best_scenario.json",
)
"""What ``g60rail tune`` writes into its folder."""


@dataclass(frozen=True)
class Holding:
    """What an output folder holds.

    Attributes
    ----------
    kind
        ``"run"``, ``"sweep"`` or ``"tune"``.
    what
        In words, for messages: ``"a run of scenario baseline (30 days, seed 0)"``.
    settings
        The sweep's or study's settings file, parsed (``{}`` for a run or unreadable).
    files
        The files it consists of, present in the folder.
    """

    kind: str
    what: str
    settings: dict[str, Any]
    files: tuple[str, ...]


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _present(folder: Path, patterns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({p.name for pat in patterns for p in folder.glob(pat) if p.is_file()}))


def holding(folder: Path) -> Holding | None:
    """What ``folder`` holds of g60rail's, or None (missing, empty, or only other files)."""
    if not folder.is_dir():
        return None
    run = previous_outputs(folder)
    if run is not None:
        m = _json(folder / "manifest.json")
        days = m.get("days")
        detail = f" ({days:g} days, seed {m.get('seed')})" if isinstance(days, int | float) else ""
        what = f"a run of scenario {m.get('scenario', '?')}{detail}"
        return Holding("run", what, {}, tuple(n for n in run if (folder / n).is_file()))
    sweep = _present(folder, SWEEP_FILES)
    if "sweep.json" in sweep or "runs.jsonl" in sweep:
        settings = _json(folder / "sweep.json")
        what = f"a sweep of scenario {settings.get('scenario', '?')}"
        return Holding("sweep", what, settings, sweep)
    tune = _present(folder, TUNE_FILES)
    if "tune.json" in tune or "study.db" in tune:
        settings = _json(folder / "tune.json")
        what = f"a tuning study of scenario {settings.get('scenario', '?')}"
        return Holding("tune", what, settings, tune)
    return None


def remove_holding(folder: Path, held: Holding) -> None:
    """Remove the files of what ``folder`` held (``--overwrite``)."""
    for name in held.files:
        (folder / name).unlink(missing_ok=True)


def claim(
    folder: Path, kind: str, *, overwrite: bool, settings: dict[str, Any] | None = None
) -> Holding | None:
    """Check that a command of ``kind`` may write into ``folder``.

    Parameters
    ----------
    folder
        The output folder (``--out``).
    kind
        ``"run"``, ``"sweep"`` or ``"tune"``.
    overwrite
        ``--overwrite`` was given.
    settings
        A sweep's or study's settings: a folder holding the same kind with these same
        settings is resumed, not refused.

    Returns
    -------
    Holding or None
        What the folder holds that is to be replaced (``--overwrite``), else None.  A run
        replaces a previous run when it is saved; the caller removes anything else
        (:func:`remove_holding`) when it is about to write.

    Raises
    ------
    UserError
        The folder holds other results and ``overwrite`` is false.
    """
    held = holding(folder)
    if held is None:
        return None
    if held.kind == kind and kind != "run" and settings is not None:
        if all(held.settings.get(k) == _plain(v) for k, v in settings.items()):
            return None  # the same sweep or study: it resumes
        differ = [k for k, v in settings.items() if held.settings.get(k) != _plain(v)]
        detail = f" with other settings ({', '.join(differ)})"
    else:
        detail = ""
    if overwrite:
        return held
    raise UserError(
        f"output folder {str(folder)!r} holds {held.what}{detail}; an output folder holds one "
        "run: choose another --out, or give --overwrite to replace what is there"
    )


def _plain(value: Any) -> Any:
    """``value`` as it reads back from a JSON settings file."""
    return json.loads(json.dumps(value, default=str))
