"""Capacity sweeps: replications of every point of a grid, with common random numbers.

Replication ``i`` of every point runs with the same seed
(:func:`~g60rail.experiment.replications.replication_seeds`), so the difference between
two points is measured with a paired interval (:meth:`SweepResult.difference`).

A sweep with an output folder appends one JSON line per finished run to ``runs.jsonl``
(flushed and fsynced), so a sweep that is interrupted loses nothing that finished; run it
again with the same folder and only the missing runs execute.  Tuning keeps its Optuna
study in ``study.db`` (SQLite) in the output folder and resumes the same way.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from g60rail.errors import ScenarioError
from g60rail.experiment.checks import check_days, check_run, progress_bar
from g60rail.experiment.executors import Task
from g60rail.experiment.preview import overload
from g60rail.experiment.replications import (
    META_COLUMNS,
    KPIs,
    growing_backlog,
    kpi_columns,
    replication_seeds,
    run_key,
    run_tasks,
)
from g60rail.experiment.stats import Interval, paired_difference, summarize
from g60rail.result import atomic_write
from g60rail.scenario.schema import Scenario

__all__ = [
    "SweepResult",
    "expand_points",
    "sweep",
    "table_value",
    "write_table",
]


def _lookup(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def expand_points(
    grid: Mapping[str, Sequence[Any]] | None, points: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """The points of a sweep: the full factorial of ``grid``, then the explicit ``points``.

    Duplicates are dropped (first occurrence kept); with neither, the base scenario is the
    only point.
    """
    out: list[dict[str, Any]] = []
    if grid:
        keys = list(grid)
        for key in keys:
            values = grid[key]
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise ScenarioError("grid values must be a list", field=key, value=values)
            if len(values) == 0:
                raise ScenarioError("grid needs at least one value", field=key)
        out.extend(
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(grid[k] for k in keys))
        )
    for p in points or ():
        out.append(dict(p))
    if not out:
        out.append({})
    unique: list[dict[str, Any]] = []
    seen: set[str] = set()
    for p in out:
        sig = json.dumps(p, sort_keys=True, default=str)
        if sig not in seen:
            seen.add(sig)
            unique.append(p)
    return unique


def table_value(value: Any) -> Any:
    """A parameter's value as a cell of the runs and summary tables: scalars as they are,
    lists and tables (``services.g60.departures``) as compact JSON text."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return value


class _Checkpoint:
    """``runs.jsonl``: one JSON record per finished run, appended durably."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, KPIs]:
        """Finished runs by key; a partly written last line (a crash) is cut off."""
        if not self.path.exists():
            return {}
        raw = self.path.read_bytes()
        end = raw.rfind(b"\n") + 1
        if end < len(raw):
            with open(self.path, "r+b") as fh:
                fh.truncate(end)
                fh.flush()
                os.fsync(fh.fileno())
        done: dict[str, KPIs] = {}
        for line in raw[:end].decode("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                done[rec["key"]] = {k: float(v) for k, v in rec["kpis"].items()}
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line is simply run again
        return done

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def write_table(df: pd.DataFrame, out: Path, stem: str) -> list[Path]:
    """Write ``df`` as ``<stem>.csv`` (and ``.parquet`` with pyarrow) in ``out``, atomically."""
    paths = [out / f"{stem}.csv"]
    with atomic_write(paths[0]) as fh:
        df.to_csv(fh, index=False)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return paths
    paths.append(out / f"{stem}.parquet")
    with atomic_write(paths[1], "wb") as fh:
        df.to_parquet(fh, index=False)
    return paths


@dataclass
class SweepResult:
    """Replications of every point of a sweep.

    Attributes
    ----------
    runs
        One row per (point, replication): ``point``, ``replication``, ``seed``, one column
        per swept parameter (dotted key), then every KPI.
    summary
        One row per (point, KPI): ``point``, the parameters, ``kpi`` and ``mean``, ``std``,
        ``n``, ``ci_low``, ``ci_high``, ``half_width``.
    params
        The swept parameters (dotted keys), in column order.
    points
        The overrides of each point, by point number.
    out
        The output folder, if any.
    skipped
        Points not simulated, by point number: why the preview proves them overloaded.
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    params: list[str]
    points: list[dict[str, Any]]
    confidence: float = 0.95
    out: Path | None = None
    files: list[Path] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)

    @property
    def growing_backlog(self) -> dict[int, float]:
        """Points simulated without a steady state: the share of their replications
        whose backlog kept growing, by point number (see
        :func:`~g60rail.experiment.replications.growing_backlog`)."""
        return growing_backlog(self.runs)

    def difference(self, kpi: str, a: int, b: int) -> Interval:
        """Paired confidence interval of ``kpi`` at point ``a`` minus point ``b``.

        Replication ``i`` of both points ran with the same seed (common random numbers).
        """
        ra = self.runs[self.runs["point"] == a].sort_values("replication")
        rb = self.runs[self.runs["point"] == b].sort_values("replication")
        return paired_difference(ra[kpi].to_numpy(), rb[kpi].to_numpy(), self.confidence)


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]] | None = None,
    replications: int = 5,
    days: float = 90,
    seed: int = 0,
    executor: Any = None,
    out: str | os.PathLike[str] | None = None,
    points: Sequence[Mapping[str, Any]] | None = None,
    progress: bool | None = None,
    *,
    warmup_days: float = 0,
    confidence: float = 0.95,
    skip_overloaded: bool = True,
) -> SweepResult:
    """Run ``replications`` of every point of a capacity grid with common random numbers.

    A point whose :func:`~g60rail.experiment.preview.preview` shows a resource offered
    as much work as it can do or more (no steady state) is not simulated: it is listed
    in :attr:`SweepResult.skipped` with the reason, and a warning says so.

    Parameters
    ----------
    scenario
        The base scenario.
    grid
        Dotted keys to lists of values, e.g. ``{"hub.reach_stackers": [2, 3, 4],
        "hub.loading_tracks": [2, 4]}``; every combination is a point.
    replications
        Replications per point; replication ``i`` of every point uses the same seed.
    days
        Simulated days per run.
    seed
        Root seed (see :func:`~g60rail.experiment.replications.replication_seeds`).
    executor
        As for :func:`~g60rail.experiment.replications.replicate`.
    out
        Output folder: ``runs.jsonl`` (checkpoint, appended as runs finish),
        ``sweep.json`` (settings), and at the end ``runs.csv`` / ``summary.csv`` (and
        ``.parquet``), written atomically.  Finished runs found in ``runs.jsonl`` are not
        run again.
    points
        Explicit points (dicts of dotted overrides), added after the grid's points.
    progress
        Progress bar: ``True``, ``False`` or ``None`` (automatic).
    warmup_days
        As for :func:`~g60rail.experiment.replications.replicate`.
    confidence
        Confidence level of the intervals.
    skip_overloaded
        Leave out the points the preview proves overloaded (``False``: simulate them too,
        e.g. to watch a backlog build over a peak).

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        A key does not exist in the scenario or a value is invalid (checked before any
        run starts).
    """
    check_days(days, warmup_days)
    check_run(scenario, days)
    pts = expand_points(grid, points)
    seeds = replication_seeds(seed, replications)
    base = scenario.to_dict()
    params: list[str] = []
    for p in pts:
        params.extend(k for k in p if k not in params)
    # validate every point up front, and identify each run by its configuration
    variants = [scenario.with_overrides(p) if p else scenario for p in pts]
    skipped: dict[int, str] = {}
    if skip_overloaded:
        for i, v in enumerate(variants):
            reason = overload(v, days)
            if reason is not None:
                skipped[i] = reason
                warnings.warn(f"sweep: point {i} {pts[i]} not simulated: {reason}", stacklevel=2)
        if len(skipped) == len(pts):
            raise ScenarioError(
                "the preview shows every point overloaded (no steady state): pass "
                "skip_overloaded=False to simulate them anyway",
                field="points",
                value=skipped[0],
            )
    cells = [
        (i, r, s, run_key(v.hash, days, s, warmup_days))
        for i, v in enumerate(variants)
        if i not in skipped
        for r, s in enumerate(seeds)
    ]
    tasks_by_key: dict[str, Task] = {}
    for i, _r, s, key in cells:
        tasks_by_key.setdefault(key, Task(key, base, pts[i], float(days), s, float(warmup_days)))

    outdir = Path(out) if out is not None else None
    checkpoint = None
    done: dict[str, KPIs] = {}
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
        checkpoint = _Checkpoint(outdir / "runs.jsonl")
        done = {k: v for k, v in checkpoint.load().items() if k in tasks_by_key}
        settings = {
            "scenario": scenario.meta.name,
            "scenario_hash": scenario.hash,
            "grid": {k: list(v) for k, v in (grid or {}).items()},
            "points": pts,
            "replications": replications,
            "days": float(days),
            "seed": int(seed),
            "seeds": seeds,
            "warmup_days": float(warmup_days),
            "skipped": {str(i): r for i, r in skipped.items()},
        }
        with atomic_write(outdir / "sweep.json") as fh:
            json.dump(settings, fh, indent=2, default=str)

    def record(task: Task, kpis: KPIs) -> None:
        if checkpoint is not None:
            checkpoint.append(
                {
                    "key": task.key,
                    "overrides": task.overrides,
                    "days": task.days,
                    "seed": task.seed,
                    "warmup_days": task.warmup_days,
                    "kpis": kpis,
                }
            )

    todo = [t for k, t in tasks_by_key.items() if k not in done]
    with progress_bar(len(tasks_by_key), len(tasks_by_key) - len(todo), "sweep", progress) as bar:
        done.update(run_tasks(todo, executor, bar, record))

    kpi_names = kpi_columns(done[key] for *_, key in cells)
    clash = set(kpi_names) & set(params)
    if clash:
        raise ScenarioError("a swept key has the name of a KPI", field=sorted(clash)[0])
    defaults = {k: _lookup(base, k) for k in params}
    rows = []
    for i, r, s, key in cells:
        values = {k: table_value(pts[i].get(k, defaults[k])) for k in params}
        rows.append({"point": i, "replication": r, "seed": s, **values, **done[key]})
    runs = pd.DataFrame(rows, columns=[*META_COLUMNS, *params, *kpi_names])
    summary = _summary_by_point(runs, params, kpi_names, confidence)
    result = SweepResult(runs, summary, params, pts, confidence, outdir, skipped=skipped)
    if outdir is not None:
        result.files = write_table(runs, outdir, "runs") + write_table(summary, outdir, "summary")
    return result


def _summary_by_point(
    runs: pd.DataFrame, params: list[str], kpis: list[str], confidence: float
) -> pd.DataFrame:
    parts = []
    for point, g in runs.groupby("point", sort=True):
        s = summarize(g, kpis, confidence).reset_index()
        s.insert(0, "point", point)
        for j, k in enumerate(params):
            s.insert(1 + j, k, [g[k].iloc[0]] * len(s))
        parts.append(s)
    return pd.concat(parts, ignore_index=True)
