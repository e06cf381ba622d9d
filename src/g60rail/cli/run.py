"""``g60rail run``: simulate a scenario and write its KPIs, tables, figures and report.

Every input is checked before the simulation starts: the scenario (types, dates, size),
the run's dates (its end, and closures it would never see), the output folder (it holds
one run: another run's folder is refused unless ``--overwrite``).  The run is written into
the folder at once when everything is ready (:meth:`g60rail.result.Result.save`), so
Ctrl-C (exit 130) or a full disk leaves the folder as it was.  ``manifest.json`` records
the resolved scenario, the overrides, the seed and the days: ``g60rail run --from-manifest
DIR/manifest.json --out OTHER`` gives the same ``kpis.json``, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from g60rail.cli.common import (
    MAX_DAYS,
    MAX_SEED,
    Interrupted,
    UserError,
    check_dates,
    format_kpis,
    parse_sets,
    positive_days,
    seed_arg,
    writable_dir,
)
from g60rail.errors import ScenarioError
from g60rail.scenario.schema import Scenario

__all__ = ["ESTIMATE_ABOVE_DAYS", "HEADLINE", "backlog_warning", "register"]

HEADLINE = (
    "freight.teu_",
    "freight.backlog_growing",
    "freight.in_system_age_h_mean",
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

ESTIMATE_ABOVE_DAYS = 60.0
"""Runs longer than this print an estimate of their time first (from a short trial run)."""

SET_WAIT_NOTE_H = 6.0
"""Pools whose departures waited longer than this for a set, on average (hours), are named
in the backlog warning (the baseline's turnaround of a set at the end of its line)."""

_PROBE_DAYS = 3.0
_DEFAULTS = {"scenario": "baseline", "days": 90.0, "seed": 0}


# -- inputs ---------------------------------------------------------------------------
def _from_manifest(text: str) -> tuple[Scenario, dict[str, Any]]:
    """The scenario and settings of the run a ``manifest.json`` records."""
    from g60rail.scenario.io import read_file, scenario_from_dict

    path = Path(text)
    where = str(path)
    raw = read_file(path)
    try:
        m = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError(f"not a run's manifest: not JSON ({exc})", file=where) from None
    if not isinstance(m, dict):
        raise ScenarioError("not a run's manifest: not a JSON object", file=where)
    data = m.get("scenario_data")
    if not isinstance(data, dict):
        raise ScenarioError(
            "this manifest cannot be re-run: it does not record the resolved scenario "
            "(written by an older g60rail?)",
            field="scenario_data",
            file=where,
        )

    def number(key: str, low: float, high: float, integer: bool = False) -> Any:
        v = m.get(key)
        ok = isinstance(v, int if integer else (int, float)) and not isinstance(v, bool)
        if not (ok and isinstance(v, int | float) and math.isfinite(v) and low <= v <= high):
            kind = "an integer" if integer else "a number"
            raise ScenarioError(
                f"must be {kind} in [{low:g}, {high:g}]", field=key, value=v, file=where
            )
        return v

    days = float(number("days", 1e-9, MAX_DAYS))
    seed = int(number("seed", 0, MAX_SEED, integer=True))
    warmup = float(number("warmup_days", 0, days))
    chain = m.get("base_chain")
    chain = [c for c in chain if isinstance(c, str)] if isinstance(chain, list) else []
    scenario = scenario_from_dict(data, file=where, base_chain=chain)
    if scenario.hash != m.get("scenario_hash"):
        raise ScenarioError(
            f"the recorded scenario (hash {scenario.hash}) does not match the manifest's "
            "scenario_hash: the file was edited",
            field="scenario_hash",
            value=m.get("scenario_hash"),
            file=where,
        )
    overrides = m.get("overrides") if isinstance(m.get("overrides"), dict) else {}
    settings = {
        "days": days,
        "seed": seed,
        "warmup_days": warmup,
        "source": m.get("source", m.get("scenario")),
        "overrides": overrides,
        "version": m.get("g60rail_version"),
    }
    return scenario, settings


def _inputs(args: argparse.Namespace) -> tuple[Scenario, dict[str, Any]]:
    """The scenario to run and the run's settings, from the flags or from a manifest."""
    import g60rail as g6

    if args.from_manifest is not None:
        given = [
            flag
            for flag, v in (
                ("SCENARIO", args.scenario),
                ("--days", args.days),
                ("--seed", args.seed),
                ("--set", args.set),
            )
            if v is not None
        ]
        if given:
            raise UserError(
                f"--from-manifest takes the scenario, days, seed and overrides from the "
                f"manifest; do not give {', '.join(given)} too"
            )
        scenario, settings = _from_manifest(args.from_manifest)
        settings["from_manifest"] = str(args.from_manifest)
        return scenario, settings
    for key, value in _DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    sets = parse_sets(args.set)
    scenario = g6.load_scenario(args.scenario, overrides=sets)
    settings = {
        "days": float(args.days),
        "seed": int(args.seed),
        "warmup_days": None,
        "source": args.scenario,
        "overrides": sets,
    }
    return scenario, settings


# -- progress ---------------------------------------------------------------------------
def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _estimate_s(scenario: Scenario, days: float, seed: int) -> float:
    """Seconds a run of ``days`` days will take, from a short trial run (after a warm-up
    run that compiles and imports what the first run needs)."""
    import g60rail as g6

    g6.simulate(scenario, days=1.0, seed=seed, warmup_days=0.0, record_containers=False)
    t0 = time.perf_counter()
    g6.simulate(scenario, days=_PROBE_DAYS, seed=seed, warmup_days=0.0, record_containers=False)
    return (time.perf_counter() - t0) / _PROBE_DAYS * days


class _Steps:
    """The run's progress bar: one step per stage, its clock ticking while a stage runs."""

    def __init__(self, steps: list[str], quiet: bool, estimate_s: float | None) -> None:
        from g60rail.experiment.checks import tqdm_class

        self.estimate_s = estimate_s
        self.bar = tqdm_class()(
            total=len(steps),
            desc="g60rail run",
            unit="step",
            file=sys.stderr,
            disable=True if quiet else None,  # None: shown on a terminal only
            bar_format="{desc}: {n_fmt}/{total_fmt}{postfix} [{elapsed}]",
        )
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self.bar.refresh()

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        about = ""
        if what == "simulate" and self.estimate_s is not None:
            about = f" (about {_duration(self.estimate_s)})"
        self.bar.set_postfix_str(what + about)
        yield
        self.bar.update(1)

    def close(self) -> None:
        self._stop.set()
        self._ticker.join(timeout=2)
        self.bar.close()


# -- the command ------------------------------------------------------------------------
def _cmd_run(args: argparse.Namespace) -> int:
    from g60rail.cli.outdir import claim

    out = Path(args.out)
    scenario, s = _inputs(args)
    days, seed, warmup = s["days"], s["seed"], s["warmup_days"]
    check_dates(scenario, days)
    held = claim(out, "run", overwrite=args.overwrite)
    writable_dir(out)
    disrupted = bool(scenario.disruptions.breakdowns or scenario.disruptions.closures)
    estimate = None
    if days > ESTIMATE_ABOVE_DAYS:
        estimate = _estimate_s(scenario, days, seed) * (2 if disrupted else 1)
        if not args.quiet:
            print(
                f"g60rail: {days:,g} simulated days of {scenario.meta.name}: about "
                f"{_duration(estimate)} (from a {_PROBE_DAYS:g}-day trial run)",
                file=sys.stderr,
            )
    stages = ["simulate", *(["reference run"] if disrupted else []), "figures", "report", "save"]
    steps = _Steps(stages, args.quiet, estimate)
    try:
        written = _run(args, scenario, s, out, held, steps, disrupted)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; nothing was written to {out}/") from None
    finally:
        steps.close()
    if s.get("version") not in (None, written.manifest.get("g60rail_version")):
        print(
            f"g60rail: note: the manifest was written by g60rail {s['version']}, this is "
            f"{written.manifest.get('g60rail_version')}",
            file=sys.stderr,
        )
    print(
        f"g60rail {scenario.meta.name}: {days:g} days from {scenario.meta.start:%Y-%m-%d}, "
        f"seed {seed}" + (f", warm-up {warmup:g} days" if warmup else "")
    )
    print(format_kpis(written.kpis, None if args.all_kpis else HEADLINE))
    names = written.manifest["outputs"]
    print(f"\nwrote {out}/: {', '.join(names)}")
    flag = backlog_warning(written.kpis)
    if flag:
        print(flag, file=sys.stderr)
    return 0


def backlog_warning(kpis: dict[str, float]) -> str | None:
    """The warning ``g60rail run`` prints when the TEU in the system kept rising after the
    warm-up (``freight.backlog_growing: 1``), naming the train-set pools whose departures
    waited for sets; ``None`` for a run in a steady state."""
    if kpis.get("freight.backlog_growing", 0.0) != 1.0:
        return None
    waits = sorted(
        (
            (v, k.removeprefix("freight.").removesuffix(".set_wait_h_mean"))
            for k, v in kpis.items()
            if k.endswith(".set_wait_h_mean") and v > SET_WAIT_NOTE_H
        ),
        reverse=True,
    )
    text = (
        "g60rail: warning: freight.backlog_growing: 1 - the TEU in the system kept rising "
        f"after the warm-up ({kpis.get('freight.teu_in_system_end', math.nan):,.0f} inside "
        "at the end): no steady state, so the means describe this run's length"
    )
    if waits:
        named = ", ".join(f"{pool} {h:.1f} h" for h, pool in waits)
        text += f"; departures waited for train sets (set_wait_h_mean): {named}"
    return text


def _run(
    args: argparse.Namespace,
    scenario: Scenario,
    s: dict[str, Any],
    out: Path,
    held: Any,
    steps: _Steps,
    disrupted: bool,
) -> Any:
    """Simulate, draw, write the report and save the run into ``out`` at once."""
    import g60rail as g6
    from g60rail.cli.outdir import remove_holding
    from g60rail.cli.report import build_report
    from g60rail.experiment.calibration import calibration_table
    from g60rail.plot.summary import render_run_figures
    from g60rail.scenario.io import load_base

    days, seed, warmup = s["days"], s["seed"], s["warmup_days"]
    with steps.step("simulate"):
        if warmup is None:  # simulate's default warm-up (recorded in the manifest)
            result = g6.simulate(scenario, days=days, seed=seed)
        else:
            result = g6.simulate(scenario, days=days, seed=seed, warmup_days=warmup)
    if disrupted:
        from g60rail.experiment.impact import disruption_cost

        with steps.step("reference run"):
            # the same run without disruptions, same seed: the difference is their cost
            cost = disruption_cost(
                scenario, days, seed, result=result, warmup_days=result.manifest["warmup_days"]
            )
            result.kpis.update(cost)
    result.manifest["source"] = s["source"]
    result.manifest["overrides"] = s["overrides"]
    if "from_manifest" in s:
        result.manifest["from_manifest"] = s["from_manifest"]
    with steps.step("figures"):
        figures = render_run_figures(result, scenario=scenario)
    with steps.step("report"):
        base, base_error = None, None
        try:
            base = load_base(scenario)
        except ScenarioError as exc:
            base_error = exc.describe()
        files: dict[str, bytes] = dict(figures)
        files["report.html"] = b""
        manifest = {**result.manifest, "outputs": result.outputs(files=files)}
        files["report.html"] = build_report(
            result,
            scenario,
            figures,
            manifest=manifest,
            calibration=calibration_table(result),
            base=base,
            base_error=base_error,
            overrides=s["overrides"],
        )
    with steps.step("save"):
        if held is not None and held.kind != "run":
            remove_holding(out, held)  # a run replaces a previous run when it is saved
        result.save(out, files=files)
    result.manifest["outputs"] = result.outputs(files=files)
    return result


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``run`` to the ``g60rail`` parser."""
    run = sub.add_parser(
        "run",
        help="simulate a scenario and write KPIs, tables, plots and report.html",
        description="Simulate a scenario (a packaged name or a .toml file) and write its "
        "KPIs (kpis.json), tables (CSV, and Parquet with pyarrow), figures (PNG), a "
        "one-page report (report.html) and manifest.json into the output folder.  The "
        "folder holds one run: a folder with another run is refused unless --overwrite.  "
        "--from-manifest re-runs a recorded run exactly.  Ctrl-C stops with exit status "
        "130 and writes nothing.",
    )
    run.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="packaged scenario name or path to a .toml file (default: baseline)",
    )
    run.add_argument("--days", type=positive_days, default=None, help="simulated days (90)")
    run.add_argument(
        "--seed", type=seed_arg, default=None, help=f"random seed, 0 to {MAX_SEED} (0)"
    )
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a field, e.g. --set hub.reach_stackers=4 (repeatable)",
    )
    run.add_argument(
        "--from-manifest",
        metavar="MANIFEST",
        default=None,
        help="re-run the run a manifest.json records (its scenario, overrides, days, seed)",
    )
    run.add_argument("--out", default="g60rail-out", help="output folder (./g60rail-out)")
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the results already in the output folder",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or estimate")
    run.add_argument("--all-kpis", action="store_true", help="print every KPI")
    run.set_defaults(func=_cmd_run)
