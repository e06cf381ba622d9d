"""Calibration table: a run's KPIs beside the published targets of the corridor.

Each target names the published source it rests on and says whether it is ``fitted`` (an
input of the scenario was chosen so that the model meets it, so meeting it proves
little) or ``held_out`` (it emerges from the mechanisms: evidence), and on what.  A row
is ``ok`` when the simulated value lies in ``[low, high]`` (hours, TEU, tonnes,
passengers or departures as the ``unit`` column says); values outside are reported as
they are, not adjusted.

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

__all__ = [
    "FITTED",
    "HELD_OUT",
    "TARGETS",
    "Target",
    "baseline_calibration",
    "calibration_records",
    "calibration_table",
    "format_calibration",
]

COLUMNS = [
    "quantity",
    "target",
    "low",
    "high",
    "unit",
    "kpi",
    "value",
    "ok",
    "kind",
    "source",
    "basis",
]

FITTED = "fitted"
"""An input was chosen so that the model meets the target: not evidence."""
HELD_OUT = "held_out"
"""The figure emerges from the mechanisms; no input was set to it: evidence."""


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
        run's days (manifest), ``border.mohan.tonnes_per_train`` from the tonnes and
        trains across Mohan.
    source
        Where the published figure comes from.
    kind
        :data:`FITTED` (an input was chosen to meet it) or :data:`HELD_OUT` (it emerges
        from the mechanisms).
    basis
        Which input was fitted, or what the figure emerges from.
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
    kind: str
    basis: str
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
        FITTED,
        "the Shanghai-Kunming line's speed is 2,634 km / 82 h",
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
        HELD_OUT,
        "sections, passing loops, maintenance windows, passenger paths, border work and "
        "unloading; the freight technical speed (60 km/h) is an estimate, not tuned on it",
    ),
    Target(
        "Mohan rail clearance",
        "mean below 5 h",
        0.0,
        5.0,
        "h",
        "border.mohan.clearance_h_mean",
        "> 40 h at opening -> < 5 h (People's Daily EN 2024-03-20)",
        FITTED,
        "technical handling and officers were set with the < 5 h figure in view",
    ),
    Target(
        "Songjiang -> Vientiane door to door",
        "≈ 5–6 days (accepted 4–7 days)",
        96.0,
        168.0,
        "h",
        "door.songjiang_vientiane.h_mean",
        "the corridor's calibration target (5-6 days)",
        FITTED,
        "the booking lead (boxes trucked in the day before their train) was chosen for it",
    ),
    Target(
        "G60 train size",
        "≈ 39–50 TEU",
        39.0,
        50.0,
        "TEU",
        "freight.g60.train_fill_teu_mean",
        "first train 39 TEU (People's Daily 2023-11-10); Baoji 50 TEU (Xinhua 2021-12-08)",
        FITTED,
        "G60 bookings per week were set for about 45 TEU a train",
    ),
    Target(
        "Cross-border freight trains a day through Mohan",
        "17 (Sep 2024) - 18 (Jan 2025) (accepted 14–21)",
        14.0,
        21.0,
        "trains/day",
        "border.mohan.trains_per_day",
        "Xinhua 2024-09-18; fznews 2025-01-02",
        HELD_OUT,
        "bookings, train sizes (23 wagons, the Kunming centre's figure) and dispatch "
        "(trains of the other provinces leave when full): no timetable fixes the count",
    ),
    Target(
        "Tonnes a year across the border",
        "≈ 4.8 Mt (2024, railway basis; accepted 3.8–5.8 Mt)",
        3.8e6,
        5.8e6,
        "t/yr",
        "border.mohan.tonnes_per_year",
        "china-railway.com.cn 2024-01-09 and cumulative totals",
        FITTED,
        "the other provinces' cross-border bookings were scaled to it",
    ),
    Target(
        "Net tonnes per cross-border train",
        "≈ 650–750 t (accepted 550–850 t)",
        550.0,
        850.0,
        "t/train",
        "border.mohan.tonnes_per_train",
        "customs totals / train counts 2022, 2024 (derived)",
        HELD_OUT,
        "train capacities and fill, and the commodities' tonnes per TEU",
    ),
    Target(
        "Kunming centre TEU a year",
        "≈ 400 k TEU (accepted 300–550 k)",
        300e3,
        550e3,
        "TEU/yr",
        "hub.kunming.teu_handled_per_year",
        "xhyb.net.cn 2022-06-09",
        FITTED,
        "the centre's domestic bookings were set from it (plus what the corridor adds)",
    ),
    Target(
        "Kunming -> Bangkok with the reload at Vientiane South",
        "≈ 55 h (accepted 45–65 h)",
        45.0,
        65.0,
        "h",
        "transit.kunming_bangkok.h_mean",
        "NDRC 2023-02-17",
        HELD_OUT,
        "the line, both borders, unloading, the reload wait and the metre-gauge leg "
        "(estimates, not tuned on it)",
    ),
    Target(
        "Vientiane South transshipment to and from metre gauge",
        "> 300 kt a year expected, capacity ≈ 800 kt (accepted 300–800 kt)",
        3.0e5,
        8.0e5,
        "t/yr",
        "onward.vientiane_bangkok.tonnes_per_year",
        "China Railway 2022-07-01 via Global Times and Railway Gazette (more than 300 kt a "
        "year expected); china-railway.com.cn 2022-07-08 (annual transshipment capacity "
        "about 800 kt)",
        HELD_OUT,
        "the share of bookings bound for Thailand (estimate) and their tonnes per TEU",
    ),
    Target(
        "Songjiang HSR station passengers, departing and arriving",
        "≈ 68,500 a day (25 million a year; accepted ±10 %)",
        61_650.0,
        75_350.0,
        "passengers/day",
        "pax.station_passengers_per_day",
        "25 million a year departing and arriving (Shine 2023-11-15, 2024-04-16; 东方网 2024-08)",
        FITTED,
        "the station's demand is set from it",
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
        FITTED,
        "the timetable is an input",
        optional=True,
    ),
)
"""The calibration targets of the baseline."""


def _value(result: Result, kpi: str) -> float | None:
    """The KPI's value, ``None`` when the run does not report it."""
    if kpi == "pax.departures_per_day":
        deps = result.kpis.get("pax.departures")
        days = result.manifest.get("days")
        if deps is None or not days:
            return None
        return float(deps) / float(days)
    if kpi == "border.mohan.tonnes_per_train" and kpi not in result.kpis:
        tonnes = result.kpis.get("border.mohan.tonnes_per_year")
        trains = result.kpis.get("border.mohan.trains_per_day")
        if tonnes is None or not trains:
            return None
        return float(tonnes) / (365.0 * float(trains))
    if kpi == "pax.station_passengers_per_day" and kpi not in result.kpis:
        pax = result.kpis.get("pax.passengers")
        days = result.manifest.get("days")
        if pax is None or not days:
            return None
        return (float(pax) + float(result.kpis.get("pax.arriving", 0.0))) / float(days)
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
        rows.append(
            (
                t.quantity,
                t.target,
                t.low,
                t.high,
                t.unit,
                t.kpi,
                value,
                ok,
                t.kind,
                t.source,
                t.basis,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def calibration_records(df: pd.DataFrame) -> list[dict[str, object]]:
    """The calibration table as JSON-ready records (NaN values become ``None``)."""
    out: list[dict[str, object]] = []
    for r in _rows(df):
        out.append(
            {
                "quantity": r.quantity,
                "kpi": r.kpi,
                "low": r.low,
                "high": r.high,
                "unit": r.unit,
                "value": r.value if math.isfinite(r.value) else None,
                "kind": r.kind,
                "ok": bool(r.ok),
                "target": r.target,
                "source": r.source,
                "basis": r.basis,
            }
        )
    return out


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
    kind: str
    source: str
    basis: str


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
    header = (
        f"{'quantity':<{q_w}}  {'simulated':>{v_w}}  {'accepted':>{r_w}}  {'':4}  "
        f"{'kind':<8}  target"
    )
    lines = [header, "-" * len(header)]
    for r, value, rng in zip(_rows(df), values, ranges, strict=True):
        verdict = "ok" if r.ok else "OFF"
        lines.append(
            f"{r.quantity:<{q_w}}  {value:>{v_w}}  {rng:>{r_w}}  {verdict:<4}  "
            f"{r.kind:<8}  {r.target}"
        )
    n_ok = int(df["ok"].sum())
    held = df[df["kind"] == HELD_OUT]
    lines.append(
        f"\n{n_ok} of {len(df)} targets met; {int(held['ok'].sum())} of {len(held)} held out "
        "(they emerge from the model: evidence), the others fitted (an input was set to "
        "them)."
    )
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

    result = simulate(
        load_scenario("baseline"),
        days=days,
        seed=seed,
        record_containers=False,
        record_trains=False,
    )
    return calibration_table(result)
