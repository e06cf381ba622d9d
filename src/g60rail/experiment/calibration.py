"""Calibration table: a run's KPIs beside the published targets of the corridor.

The targets are the section "Calibration targets for the baseline scenario" of
``shared/corridor-facts.md``; each row names the source row it rests on.  A row is
``ok`` when the simulated value lies in ``[low, high]`` (hours, TEU, passengers or
departures as the ``unit`` column says); values outside are reported as they are, not
adjusted.

Example
-------
>>> import g60rail as g6
>>> from g60rail.experiment.calibration import calibration_table, format_calibration
>>> res = g6.simulate(g6.load_scenario("baseline"), days=365, seed=0)  # doctest: +SKIP
>>> print(format_calibration(calibration_table(res)))                  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, cast

import pandas as pd

from g60rail.result import Result

__all__ = ["TARGETS", "Target", "baseline_calibration", "calibration_table", "format_calibration"]

COLUMNS = ["quantity", "target", "low", "high", "unit", "kpi", "value", "ok", "source"]


@dataclass(frozen=True)
class Target:
    """One published figure and the KPI that should reproduce it.

    Attributes
    ----------
    quantity
        What is compared, in words.
    target
        The target as published (text).
    low, high
        Accepted range of the KPI, in ``unit``.
    unit
        Unit of the KPI and of ``low``/``high``.
    kpi
        KPI name; ``pax.departures_per_day`` is derived from ``pax.departures`` and the
        run's days (manifest).
    source
        Row of corridor-facts.md the target comes from.
    optional
        Left out of the table when the run has no such KPI (the station's rows when the
        scenario has no station).
    """

    quantity: str
    target: str
    low: float
    high: float
    unit: str
    kpi: str
    source: str
    optional: bool = False


TARGETS: tuple[Target, ...] = (
    Target(
        "Songjiang -> Kunming freight transit",
        "≈ 82 h",
        70.0,
        95.0,
        "h",
        "transit.songjiang_kunming.h_mean",
        "Kunming -> Shanghai freight 82 h (en.people.cn 2023-10-08)",
    ),
    Target(
        "Kunming -> Vientiane freight transit, border included",
        "26–30 h (accepted 24–32 h)",
        24.0,
        32.0,
        "h",
        "transit.kunming_vientiane.h_mean",
        "Lancang-Mekong Express 26 h (Economic Daily 2024-03-28); first train ≈ 30 h "
        "(CCTV 2021-12-05)",
    ),
    Target(
        "Mohan rail clearance",
        "mean below 5 h",
        0.0,
        5.0,
        "h",
        "border.mohan.clearance_h_mean",
        "> 40 h at opening -> < 5 h (People's Daily EN 2024-03-20)",
    ),
    Target(
        "Songjiang -> Vientiane door to door",
        "≈ 5–6 days (120–144 h)",
        120.0,
        144.0,
        "h",
        "door.songjiang_vientiane.h_mean",
        "calibration targets, corridor-facts.md",
    ),
    Target(
        "G60 train size",
        "≈ 39–50 TEU",
        39.0,
        50.0,
        "TEU",
        "freight.g60.train_fill_teu_mean",
        "first train 39 TEU (People's Daily 2023-11-10); Baoji 50 TEU (Xinhua 2021-12-08)",
    ),
    Target(
        "Songjiang HSR station passengers",
        "≈ 68,500 a day (25 million a year; accepted ±10 %)",
        61_650.0,
        75_350.0,
        "passengers/day",
        "pax.passengers_per_day",
        "25 million a year (Shine 2024-06; 东方网 2024-08)",
        optional=True,
    ),
    Target(
        "Songjiang HSR station departures",
        "190 a day (113 HSR + 77 conventional)",
        189.0,
        191.0,
        "departures/day",
        "pax.departures_per_day",
        "Shine 2024-12-26 (timetable from 2025-01-05)",
        optional=True,
    ),
)
"""The calibration targets, in the order of corridor-facts.md."""


def _value(result: Result, kpi: str) -> float | None:
    """The KPI's value, ``None`` when the run does not report it."""
    if kpi == "pax.departures_per_day":
        deps = result.kpis.get("pax.departures")
        days = result.manifest.get("days")
        if deps is None or not days:
            return None
        return float(deps) / float(days)
    if kpi == "pax.passengers_per_day" and kpi not in result.kpis:
        pax = result.kpis.get("pax.passengers")
        days = result.manifest.get("days")
        if pax is None or not days:
            return None
        return float(pax) / float(days)
    v = result.kpis.get(kpi)
    return None if v is None else float(v)


def calibration_table(result: Result) -> pd.DataFrame:
    """Compare a run (normally the baseline) with every calibration target.

    Parameters
    ----------
    result
        A finished run; the longer it is, the less its means depend on the start (a
        year is a good choice: seasonality and the station's weekday pattern average
        out).

    Returns
    -------
    pandas.DataFrame
        One row per target with columns ``quantity``, ``target`` (published text),
        ``low``, ``high`` (accepted range), ``unit``, ``kpi``, ``value`` (simulated; NaN
        when the run has no observation), ``ok`` (value within range) and ``source``.
        The station's rows appear only when the run reports ``pax.*`` KPIs.
    """
    rows = []
    for t in TARGETS:
        v = _value(result, t.kpi)
        if v is None and t.optional:
            continue
        value = math.nan if v is None else v
        ok = bool(math.isfinite(value) and t.low <= value <= t.high)
        rows.append((t.quantity, t.target, t.low, t.high, t.unit, t.kpi, value, ok, t.source))
    return pd.DataFrame(rows, columns=COLUMNS)


class _Row(Protocol):
    """One row of :func:`calibration_table` as ``DataFrame.itertuples`` yields it."""

    quantity: str
    target: str
    low: float
    high: float
    unit: str
    kpi: str
    value: float
    ok: bool
    source: str


def _rows(df: pd.DataFrame) -> Iterable[_Row]:
    # pandas-stubs types each field of a row as any scalar; the columns are COLUMNS
    return cast("Iterable[_Row]", df.itertuples(index=False))


def format_calibration(df: pd.DataFrame) -> str:
    """The calibration table as plain text, one line per target, ready to print.

    Parameters
    ----------
    df
        The output of :func:`calibration_table`.

    Returns
    -------
    str
        Aligned columns: quantity, simulated value with unit, accepted range, verdict,
        target as published; then a count of targets met.
    """
    values = [
        "n/a" if not math.isfinite(r.value) else f"{r.value:,.1f} {r.unit}" for r in _rows(df)
    ]
    ranges = [f"{r.low:,.0f}–{r.high:,.0f} {r.unit}" for r in _rows(df)]
    q_w = max([len("quantity"), *(len(q) for q in df["quantity"])])
    v_w = max([len("simulated"), *(len(v) for v in values)])
    r_w = max([len("accepted"), *(len(r) for r in ranges)])
    header = f"{'quantity':<{q_w}}  {'simulated':>{v_w}}  {'accepted':>{r_w}}  {'':4}  target"
    lines = [header, "-" * len(header)]
    for r, value, rng in zip(_rows(df), values, ranges, strict=True):
        verdict = "ok" if r.ok else "OFF"
        lines.append(f"{r.quantity:<{q_w}}  {value:>{v_w}}  {rng:>{r_w}}  {verdict:<4}  {r.target}")
    n_ok = int(df["ok"].sum())
    lines.append(f"\n{n_ok} of {len(df)} targets met.")
    return "\n".join(lines)


def baseline_calibration(days: float = 365.0, seed: int = 0) -> pd.DataFrame:
    """Run the packaged baseline and return its :func:`calibration_table`.

    Parameters
    ----------
    days
        Simulated days (a year by default).
    seed
        Random seed.
    """
    from g60rail.model.run import simulate
    from g60rail.scenario.io import load_scenario

    result = simulate(load_scenario("baseline"), days=days, seed=seed, record_containers=False)
    return calibration_table(result)
