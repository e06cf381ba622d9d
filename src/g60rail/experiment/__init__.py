"""Experiments on scenarios: replications with confidence intervals (a fixed number or up
to a relative precision), sweeps over capacity grids with common random numbers,
selection of the best configuration (procedure KN), tuning (Optuna: the cheapest
feasible capacities, or the Pareto front of cost against service), the cost of
disruptions and the calibration table, run on a serial, local-process or Dask executor.

Everything here runs :func:`g60rail.simulate` and reads its :class:`~g60rail.Result`;
the model knows nothing of experiments.
"""

from g60rail.experiment.pareto import non_dominated, pareto_front
from g60rail.experiment.replications import ReplicationResult, replicate, replication_seeds
from g60rail.experiment.selection import Selection, kn_select, select_best
from g60rail.experiment.sweeps import SweepResult, expand_points, sweep, write_table
from g60rail.experiment.tuning import ServiceKpi, TuneResult, tune

__all__ = [
    "ReplicationResult",
    "Selection",
    "ServiceKpi",
    "SweepResult",
    "TuneResult",
    "expand_points",
    "kn_select",
    "non_dominated",
    "pareto_front",
    "replicate",
    "replication_seeds",
    "select_best",
    "sweep",
    "tune",
    "write_table",
]
