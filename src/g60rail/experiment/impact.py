"""The cost of disruptions, measured against the same run without them.

Both runs use the same seed.  Bookings come from their own random streams, so the two
runs see exactly the same containers (same ids, times, sizes and destinations): the
difference in their time in the system is the disruptions' doing, not sampling noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from g60rail.model.run import simulate
from g60rail.result import Result
from g60rail.scenario.disruption_spec import DisruptionsSpec
from g60rail.scenario.schema import Scenario

__all__ = ["disruption_cost", "time_in_system_h"]


def time_in_system_h(containers: pd.DataFrame, horizon_h: float) -> pd.Series:
    """Hours each box spent in the system up to the horizon, indexed by container id."""
    end = containers["t_delivered"].fillna(horizon_h).clip(upper=horizon_h)
    return pd.Series((end - containers["t_created"]).to_numpy(), index=containers["cid"])


def disruption_cost(
    scenario: Scenario, days: float, seed: int, result: Result | None = None
) -> dict[str, float]:
    """Extra TEU-hours and stranded TEU that the scenario's disruptions cause.

    Parameters
    ----------
    scenario
        A scenario with a ``disruptions`` section.
    days, seed
        Run length and seed, used for both runs.
    result
        The disrupted run, if already simulated with the same days and seed.

    Returns
    -------
    dict
        ``disruption.extra_teu_h`` (sum over boxes of TEU x extra hours in the system up
        to the horizon), ``disruption.extra_h_per_teu``, ``disruption.stranded_teu``
        (extra TEU still inside at the end) and ``disruption.delayed_teu`` (TEU whose
        time in the system grew by more than a minute).
    """
    calm = Scenario.model_validate(
        {**scenario.model_dump(by_alias=True), "disruptions": DisruptionsSpec()}
    )
    hit = result if result is not None else simulate(scenario, days=days, seed=seed)
    ref = simulate(calm, days=days, seed=seed)
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
