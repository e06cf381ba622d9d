"""Runs on a ``dask.distributed`` cluster, and the ``malloc`` setting of its workers.

:class:`DaskExecutor` runs :class:`~g60rail.experiment.tasks.Task` objects on an existing
``Client``, a scheduler address or a ``LocalCluster`` it starts.  Every run on a Dask
worker first sets the worker's glibc ``malloc`` thresholds (:func:`tune_malloc`): Dask
starts its workers with a setting that makes each large temporary array cost fresh page
faults.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from g60rail.experiment.tasks import KPIs, Task, TaskFn, run_task

__all__ = ["LOCAL_CLUSTER_CONFIG", "DaskExecutor", "tune_malloc", "tuned_run"]

MMAP_THRESHOLD = 32 * 2**20
"""Size from which ``malloc`` serves a block by its own ``mmap`` in a Dask worker, bytes."""

TRIM_THRESHOLD = 64 * 2**20
"""Free memory at the top of the heap a Dask worker keeps instead of returning it, bytes."""

# parameter numbers of mallopt(3), from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Set glibc's ``malloc`` mmap and trim thresholds of this process.

    Dask's nanny starts every worker process with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``), so that workers hand freed memory back to
    the system.  Setting a glibc threshold, by environment or by ``mallopt``, also turns
    off glibc's dynamic mmap threshold: every block of 128 KiB or more (the numpy and
    pandas buffers of a run's statistics and tables) is then ``mmap``-ed on allocation
    and unmapped on release, and the next one starts on fresh zero pages.  A Dask worker
    also runs its tasks on a thread of its own, whose malloc arena (a separate
    ``mmap``-ed heap) takes in more fresh pages than the main one.

    Measured on the baseline (Linux, glibc 2.36, 2 shared cores, runs interleaved): a
    90-day run in a plain process takes 60 000 to 70 000 page faults and 0.2 to 0.4 s of
    system time; with the variable 275 000 to 290 000 page faults and 0.8 to 1.3 s, the
    same in a Dask worker; after this function, in a Dask worker started with the
    variable, 1 300 to 3 200 page faults and 0.2 to 0.3 s.  On a 10-day run, a thread
    of a plain process takes 35 % more page faults and 6 % more CPU time than its main
    thread; after this function both are alike.

    Once a threshold is set explicitly glibc never returns to its dynamic threshold, so
    both are set explicitly, to the top of glibc's range: blocks up to 32 MiB are
    reused from the heap, and up to 64 MiB of free memory stays at its top: after three
    30-day runs a process holds 385 MiB instead of 360 MiB, with the same peak, and
    does not grow from run to run.

    Parameters
    ----------
    mmap_threshold
        ``M_MMAP_THRESHOLD``, bytes (capped at glibc's largest, 32 MiB on 64-bit).
    trim_threshold
        ``M_TRIM_THRESHOLD``, bytes.

    Returns
    -------
    bool
        Whether both thresholds were set: ``False``, doing nothing, where the C library
        is not glibc (macOS, Windows, musl) or ``mallopt`` refuses a value.
    """
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):  # no confstr, or not glibc
        return False
    if not libc or not libc.startswith("glibc"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    largest = 4 * 2**20 * ctypes.sizeof(ctypes.c_long)  # glibc's DEFAULT_MMAP_THRESHOLD_MAX
    mmap_ok = mallopt(_M_MMAP_THRESHOLD, min(mmap_threshold, largest)) == 1
    trim_ok = mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1
    return mmap_ok and trim_ok


def tuned_run(fn: TaskFn, *args: Any) -> KPIs:
    """``fn(*args)`` after :func:`tune_malloc`: the function a Dask worker runs."""
    # every run, not once per worker: it takes microseconds, holds on any cluster,
    # and covers workers that join or restart after the executor started
    tune_malloc()
    return fn(*args)


LOCAL_CLUSTER_CONFIG: Mapping[str, Any] = MappingProxyType(
    {
        # the sampling profiler takes the GIL every 10 ms: ~40 % of a run's time
        "distributed.worker.profile.enabled": False,
        # not exported into this process (and so into every process started from it
        # later) nor into the workers: see tune_malloc
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        # housekeeping of the scheduler, nannies and workers, 20 ms / 100 ms / 500 ms by
        # default: every wake-up takes the GIL from the run or a core from the workers
        "distributed.admin.tick.interval": "1s",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.system-monitor.interval": "2s",
    }
)
"""Dask configuration of the ``LocalCluster`` a :class:`DaskExecutor` starts."""


class DaskExecutor:
    """Run tasks on a ``dask.distributed`` cluster.

    Give exactly one of ``client`` (an existing ``dask.distributed.Client``, left open),
    ``address`` (a scheduler address such as ``"tcp://10.0.0.5:8786"``) or ``workers``
    (a ``LocalCluster`` of that many single-threaded worker processes on 127.0.0.1,
    closed on exit).

    Every run calls :func:`tune_malloc` in its worker first, on any cluster: Dask's
    nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc
    ``mmap`` and unmap every large array of a run (about 4.5 times the page faults of a
    plain process).  The local cluster is started with :data:`LOCAL_CLUSTER_CONFIG`:
    without that variable, without Dask's sampling profiler and with slower
    housekeeping timers.  On a cluster of your own, set the same keys in its Dask
    configuration for the same speed (``distributed.worker.profile.enabled: false``
    matters most: the profiler slows these GIL-bound runs by about 40 %).

    Parameters
    ----------
    retries
        Dask ``retries=`` of each task (a task whose worker dies is rescheduled by the
        scheduler in any case).
    """

    def __init__(
        self,
        client: Any = None,
        address: str | None = None,
        workers: int | None = None,
        retries: int = 2,
    ) -> None:
        given = sum(x is not None for x in (client, address, workers))
        if given != 1:
            raise ValueError("give exactly one of client, address or workers")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers!r}")
        self._given_client = client
        self.address = address
        self.workers = workers
        self.retries = retries
        self.client: Any = client
        self._cluster: Any = None
        if client is not None:
            self.name = "dask(client)"
        elif address is not None:
            self.name = f"dask({address})"
        else:
            self.name = f"dask(local, {workers})"

    def __enter__(self) -> DaskExecutor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Connect to the scheduler, or start the local cluster."""
        if self.client is not None:
            return
        from dask.distributed import Client, LocalCluster

        if self.address is not None:
            self.client = Client(self.address)
            return
        import dask

        with dask.config.set(dict(LOCAL_CLUSTER_CONFIG)):
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # loopback, any free port
                silence_logs=logging.ERROR,
            )
        try:
            self.client = Client(self._cluster)
        except BaseException:
            self._cluster.close()
            self._cluster = None
            raise

    def close(self) -> None:
        """Close the client and cluster this executor opened (not a client passed in)."""
        if self.client is not None and self.client is not self._given_client:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(self, tasks: Sequence[Task], fn: TaskFn = run_task) -> Iterator[tuple[Task, KPIs]]:
        import uuid

        from dask.distributed import as_completed

        if self.client is None:
            self.start()
        tag = uuid.uuid4().hex[:8]
        futures = {
            self.client.submit(
                tuned_run,
                fn,
                *t.args,
                key=f"g60rail-run-{t.key}-{tag}",
                pure=False,
                retries=self.retries,
            ): t
            for t in tasks
        }
        try:
            for f in as_completed(list(futures)):
                yield futures[f], f.result()
        finally:
            for f in futures:
                f.cancel()
