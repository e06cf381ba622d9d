"""Run one scenario: build the world, run it, collect a :class:`~g60rail.result.Result`."""

from __future__ import annotations

import math
import platform
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from g60rail.model import compiled
from g60rail.model.engine import Engine
from g60rail.model.footprint import DELIVERY_KEYS, footprint_kpis
from g60rail.model.report import FILL_UP_DAYS, freight_kpis, freight_tables
from g60rail.model.world import World
from g60rail.random import Streams
from g60rail.result import Result
from g60rail.scenario.schema import Scenario

__all__ = ["DEFAULT_WARMUP_DAYS", "default_warmup_days", "package_version", "simulate"]


DEFAULT_WARMUP_DAYS = FILL_UP_DAYS
"""Warm-up of a run of at least :data:`WARMUP_MIN_RUN_DAYS` days, unless told otherwise:
the week a corridor that starts empty takes to fill
(:data:`g60rail.model.report.FILL_UP_DAYS`)."""
WARMUP_MIN_RUN_DAYS = 28.0


def default_warmup_days(days: float) -> float:
    """The warm-up a run of ``days`` days gets by default."""
    return DEFAULT_WARMUP_DAYS if days >= WARMUP_MIN_RUN_DAYS else 0.0


def package_version() -> str:
    """The installed g60rail version ("unknown" when run from a source tree)."""
    try:
        return version("g60rail")
    except PackageNotFoundError:
        return "unknown"


def simulate(
    scenario: Scenario,
    days: float = 90,
    seed: int = 0,
    *,
    warmup_days: float | None = None,
    record_containers: bool = True,
    record_trains: bool = True,
    record_passengers: bool = False,
) -> Result:
    """Simulate ``scenario`` for ``days`` days with random seed ``seed``.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`g60rail.load_scenario`).
    days
        Simulated days from ``scenario.meta.start``.
    seed
        Non-negative integer; the same scenario and seed give identical results.
    warmup_days
        Days at the start left out of the time statistics (transit, door-to-door, road
        trips, yard dwell and occupancy, border clearance, truck turnaround, waits,
        utilisations, TEU handled a year); in
        ``[0, days)``.  By default (``None``) a run of four weeks or more leaves out its
        first week (:data:`DEFAULT_WARMUP_DAYS`), a shorter one nothing: the corridor
        starts empty, and a week fills its yards, lines and train-set cycles.
    record_containers
        Keep the per-container table (memory grows with the number of containers).
    record_trains
        Keep the per-train tables: ``trains`` (one row per train), ``border`` (per train
        and border port) and ``sections`` (per train and line section passed; the train
        graph is drawn from it).  Memory grows with the number of trains; the KPIs are
        kept either way.
    record_passengers
        Keep one row per passenger in the station tables (large: ~68,500 a day).

    Returns
    -------
    Result
        KPIs, tables (containers, trains, border, timeseries, station tables when the
        scenario has a station) and a manifest.
    """
    if not days > 0:
        raise ValueError(f"days must be positive, got {days!r}")
    if warmup_days is None:
        warmup_days = default_warmup_days(days)
    if not (math.isfinite(warmup_days) and 0 <= warmup_days < days):
        raise ValueError(f"warmup_days must be in [0, days), got {warmup_days!r}")
    horizon_h = 24.0 * float(days)
    streams = Streams(seed)
    env = Engine()
    world = World(
        env,
        scenario,
        streams,
        horizon_h,
        record_containers=record_containers,
        record_trains=record_trains,
        warmup_h=24.0 * float(warmup_days),
    )
    world.run()
    kpis = freight_kpis(world)
    tables = freight_tables(world)
    deliveries = pd.DataFrame(
        [(*key, *sums) for key, sums in world.deliveries.items()],
        columns=[*DELIVERY_KEYS, "teu", "tonnes", "box20", "box40"],
    )
    kpis.update(footprint_kpis(scenario, deliveries))
    del world, env  # the freight model's state is not needed for the station's run
    if scenario.station is not None:
        from g60rail.model.station import simulate_station

        station = simulate_station(
            scenario.station,
            start=scenario.meta.start,
            days=days,
            streams=streams,
            record_passengers=record_passengers,
        )
        kpis.update(station.kpis)
        tables.update(station.tables)
    manifest = {
        "scenario": scenario.meta.name,
        "scenario_hash": scenario.hash,
        "base_chain": list(scenario.base_chain),
        # the resolved scenario (bases merged, overrides applied): the run is reproducible
        # from its folder alone (g60rail run --from-manifest)
        "scenario_data": scenario.to_dict(),
        "seed": int(seed),
        "days": float(days),
        "warmup_days": float(warmup_days),
        "start": scenario.meta.start.isoformat(),
        "g60rail_version": package_version(),
        "simpy_version": version("simpy"),
        "numpy_version": version("numpy"),
        "python": platform.python_version(),
        "model_compiled": compiled(),
    }
    return Result(kpis=kpis, tables=tables, manifest=manifest)
