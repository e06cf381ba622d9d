"""The cost of disruptions, measured against the same run without them.

Both runs use the same seed.  Bookings come from their own random streams, so the two
runs see exactly the same containers (same ids, times, sizes and destinations): the
difference in their time in the system is the disruptions' doing, not sampling noise.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from g60rail.model.run import simulate
from g60rail.result import Result
from g60rail.scenario.disruption_spec import DisruptionsSpec
from g60rail.scenario.schema import Scenario

__all__ = ["closures_outside_run", "disruption_cost", "time_in_system_h"]


def closures_outside_run(scenario: Scenario, days: float) -> list[str]:
    """The closures of ``scenario`` that a run of ``days`` days never sees, described.

    Each entry names the closure's field, its window and the run's dates, e.g.
    ``"disruptions.closures.0 (2025-07-10 00:00 to 2025-07-14 00:00) lies outside the run
    (2025-01-06 00:00 to 2025-02-05 00:00)"``.
    """
    start = scenario.meta.start
    end = start + dt.timedelta(days=float(days))
    out = []
    for i in scenario.disruptions.closures_outside(start, end):
        c = scenario.disruptions.closures[i]
        out.append(
            f"disruptions.closures.{i} ({c.start:%Y-%m-%d %H:%M} to {c.end:%Y-%m-%d %H:%M}) "
            f"lies outside the run ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M})"
        )
    return out


def time_in_system_h(containers: pd.DataFrame, horizon_h: float) -> pd.Series:
    """Hours each box spent in the system up to the horizon, indexed by container id."""
    end = containers["t_delivered"].fillna(horizon_h).clip(upper=horizon_h)
    return pd.Series((end - containers["t_created"]).to_numpy(), index=containers["cid"])


def disruption_cost(
    scenario: Scenario,
    days: float,
    seed: int,
    result: Result | None = None,
    *,
    warmup_days: float | None = None,
) -> dict[str, float]:
    """Extra TEU-hours and stranded TEU that the scenario's disruptions cause.

    A closure whose window lies outside the run changes nothing; it is reported with a
    warning (:func:`closures_outside_run`) rather than dropped without a word.

    Parameters
    ----------
    scenario
        A scenario with a ``disruptions`` section.
    days, seed
        Run length and seed, used for both runs.
    result
        The disrupted run, if already simulated with the same days, seed and warm-up.
    warmup_days
        Warm-up of both runs (default: :func:`~g60rail.simulate`'s).

    Returns
    -------
    dict
        ``disruption.extra_teu_h`` (sum over boxes of TEU x extra hours in the system up
        to the horizon), ``disruption.extra_h_per_teu``, ``disruption.stranded_teu``
        (extra TEU still inside at the end: what the disruptions stranded) and
        ``disruption.delayed_teu`` (TEU whose time in the system grew by more than a
        minute).
    """
    for text in closures_outside_run(scenario, days):
        warnings.warn(f"{text}: it changes nothing", UserWarning, stacklevel=2)
    calm = Scenario.model_validate(
        {**scenario.model_dump(by_alias=True), "disruptions": DisruptionsSpec()}
    )

    def run(sc: Scenario) -> Result:
        if warmup_days is None:  # simulate's own default
            return simulate(sc, days=days, seed=seed)
        return simulate(sc, days=days, seed=seed, warmup_days=warmup_days)

    hit = result if result is not None else run(scenario)
    ref = run(calm)
    h = 24.0 * days
    a = hit.tables["containers"].set_index("cid")
    t_hit = time_in_system_h(hit.tables["containers"], h)
    t_ref = time_in_system_h(ref.tables["containers"], h)
    common = t_hit.index.intersection(t_ref.index)
    extra = (t_hit[common] - t_ref[common]).to_numpy()
    teu = a.loc[common, "teu"].to_numpy()
    created = hit.kpis["freight.teu_created"]
    return {
        "disruption.extra_teu_h": float(np.sum(teu * extra)),
        "disruption.extra_h_per_teu": float(np.sum(teu * extra) / created) if created else 0.0,
        "disruption.stranded_teu": hit.kpis["freight.teu_in_system_end"]
        - ref.kpis["freight.teu_in_system_end"],
        "disruption.delayed_teu": float(teu[extra > 1 / 60].sum()),
    }
