"""Experiments on scenarios: replications with confidence intervals, sweeps over capacity
grids with common random numbers, tuning (Optuna), the cost of disruptions and the
calibration table, run on a serial, local-process or Dask executor.

Everything here runs :func:`g60rail.simulate` and reads its :class:`~g60rail.Result`;
the model knows nothing of experiments.
"""

from g60rail.experiment.replications import (
    ReplicationResult,
    SweepResult,
    expand_points,
    replicate,
    replication_seeds,
    sweep,
    write_table,
)
from g60rail.experiment.tuning import TuneResult, tune

__all__ = [
    "ReplicationResult",
    "SweepResult",
    "TuneResult",
    "expand_points",
    "replicate",
    "replication_seeds",
    "sweep",
    "tune",
    "write_table",
]
