"""Figures of a run.  Every function takes a :class:`~g60rail.result.Result` (or its
tables; the map and the train graph also the :class:`~g60rail.Scenario`) and an optional
matplotlib ``Axes``, and returns the ``Figure``; none runs a simulation.

Freight: :func:`teu_per_day`, :func:`cumulative_teu`, :func:`yard_and_gate`,
:func:`utilization`, :func:`transit_ecdf`, :func:`dwell_ecdf`, :func:`train_graph`,
:func:`corridor_map`.  Station: :func:`pax_by_hour`, :func:`hall_occupancy`,
:func:`wait_heatmap`.  Experiments: :func:`sweep_chart`, :func:`tuning_chart`.  The page
``g60rail run`` writes: :func:`summary_figure`.
"""

from g60rail.plot.corridor import corridor_map
from g60rail.plot.experiment import sweep_chart, tuning_chart
from g60rail.plot.freight import (
    cumulative_teu,
    dwell_ecdf,
    teu_per_day,
    transit_ecdf,
    utilization,
    yard_and_gate,
)
from g60rail.plot.station import hall_occupancy, los_heatmap, pax_by_hour, wait_heatmap
from g60rail.plot.summary import summary_figure, write_run_figures
from g60rail.plot.trains import train_graph

__all__ = [
    "corridor_map",
    "cumulative_teu",
    "dwell_ecdf",
    "hall_occupancy",
    "los_heatmap",
    "pax_by_hour",
    "summary_figure",
    "sweep_chart",
    "teu_per_day",
    "train_graph",
    "transit_ecdf",
    "tuning_chart",
    "utilization",
    "wait_heatmap",
    "write_run_figures",
    "yard_and_gate",
]
