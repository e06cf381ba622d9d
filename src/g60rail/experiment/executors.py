"""Where simulation runs execute: in this process, in local processes, or on Dask.

Every run is a :class:`Task`: a scenario as plain data, dotted overrides, the number of
days, an integer seed and a warm-up.  The worker function :func:`run_task` rebuilds the
scenario and calls :func:`g60rail.simulate`; a run depends only on its task, so the same
task gives the same KPIs on every executor.

Executors are context managers whose :meth:`~Executor.run` yields ``(task, kpis)`` pairs
as runs finish (in completion order).  They are interchangeable:

* :class:`Serial` — one run after another in this process;
* :class:`Processes` — a pool of local processes (``spawn`` start method; default one per
  core).  When a worker process dies, the pool is rebuilt and unfinished runs are
  submitted again (``retries`` times).  A worker ends on its own when its parent process
  dies, whatever killed it (``kill -9`` included): it checks every half second.  The
  workers do not import the calling script (``__main__``) unless the task function lives
  there, so a sweep runs the same from a script without an ``if __name__ ==
  "__main__":`` guard, from ``python - <<EOF`` or from a notebook;
* :class:`DaskExecutor` — a ``dask.distributed`` cluster: an existing ``Client``, a
  scheduler address (``"tcp://host:8786"``) or a ``LocalCluster`` of ``workers``
  single-threaded processes bound to 127.0.0.1.  Failed tasks are retried by Dask
  (``retries``); tasks of a worker that dies are rescheduled by the scheduler.  Every run
  on a Dask worker first sets the worker's glibc ``malloc`` thresholds
  (:func:`tune_malloc`): Dask starts its workers with a setting that makes each large
  temporary array cost fresh page faults.

:func:`resolve_executor` turns the short forms accepted by ``replicate``, ``sweep`` and
``tune`` (``None``, ``"serial"``, ``"processes"``, an int, ``"dask"``, an address, a
``Client``, an executor object) into an executor.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "DaskExecutor",
    "Executor",
    "Processes",
    "Serial",
    "Task",
    "resolve_executor",
    "run_task",
    "tune_malloc",
]

KPIs = dict[str, float]
TaskFn = Callable[[dict[str, Any], dict[str, Any], float, int, float], KPIs]


@dataclass(frozen=True)
class Task:
    """One simulation run.

    Attributes
    ----------
    key
        Identifier of the run, unique within an experiment (used for checkpoints).
    scenario
        The base scenario as plain data (``Scenario.to_dict()``).
    overrides
        Dotted-key overrides applied to the base scenario.
    days
        Simulated days.
    seed
        Integer seed of the run.
    warmup_days
        Days left out of the time statistics (see :func:`g60rail.simulate`).
    """

    key: str
    scenario: dict[str, Any] = field(repr=False)
    overrides: dict[str, Any]
    days: float
    seed: int
    warmup_days: float = 0.0

    @property
    def args(self) -> tuple[dict[str, Any], dict[str, Any], float, int, float]:
        """Positional arguments of :func:`run_task`."""
        return (self.scenario, self.overrides, self.days, self.seed, self.warmup_days)


def run_task(
    scenario: dict[str, Any],
    overrides: dict[str, Any],
    days: float,
    seed: int,
    warmup_days: float = 0.0,
) -> KPIs:
    """Simulate one run and return its KPIs (the worker function of every executor).

    Parameters
    ----------
    scenario
        Scenario as plain data (``Scenario.to_dict()``).
    overrides
        Dotted-key overrides, e.g. ``{"hub.reach_stackers": 3}``.
    days
        Simulated days.
    seed
        Non-negative integer seed.
    warmup_days
        Days left out of the time statistics (see :func:`g60rail.simulate`).

    Returns
    -------
    dict
        Flat KPI names to floats.
    """
    from g60rail.model.run import simulate
    from g60rail.scenario.io import scenario_from_dict

    sc = scenario_from_dict(scenario)
    if overrides:
        sc = sc.with_overrides(overrides)
    result = simulate(
        sc, days=days, seed=int(seed), warmup_days=warmup_days, record_containers=False
    )
    return {k: float(v) for k, v in result.kpis.items()}


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


def _tuned_run(fn: TaskFn, *args: Any) -> KPIs:
    """``fn(*args)`` after :func:`tune_malloc`: the function a Dask worker runs."""
    # every run, not once per worker: it takes microseconds, holds on any cluster,
    # and covers workers that join or restart after the executor started
    tune_malloc()
    return fn(*args)


@runtime_checkable
class Executor(Protocol):
    """Runs tasks and yields ``(task, kpis)`` as each finishes."""

    name: str

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, tasks: Sequence[Task], fn: TaskFn = run_task) -> Iterator[tuple[Task, KPIs]]:
        """Execute ``tasks``; yield each with its result when it finishes."""
        ...


class Serial:
    """Run tasks one after another in this process."""

    name = "serial"

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, tasks: Sequence[Task], fn: TaskFn = run_task) -> Iterator[tuple[Task, KPIs]]:
        for task in tasks:
            yield task, fn(*task.args)


PARENT_CHECK_S = 0.5
"""How often a worker process checks that its parent is still alive, seconds."""


def _watch_parent(parent: int) -> None:
    # re-parented (the parent died, by whatever signal): nobody waits for the results
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int) -> None:
    """Initializer of every worker process: Ctrl-C is the parent's to handle (it stops
    submitting and shuts the pool down), and the worker ends when the parent dies."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


@contextmanager
def _main_unseen(needed: bool) -> Iterator[None]:
    """Hide the main script from worker processes being started (unless ``needed``).

    A ``spawn``-ed worker runs the parent's ``__main__`` file again before its first task,
    found by its ``__file__`` (or ``__spec__`` under ``python -m``): a script without an
    ``if __name__ == "__main__":`` guard would start its sweep again in every worker, and a
    script read from standard input cannot be found at all.  The task function of a run
    lives in this package, so the workers do not need the script.
    """
    main = sys.modules.get("__main__")
    if needed or main is None:
        yield
        return
    names: tuple[str, ...] = ("__file__", "__spec__")
    hidden: dict[str, Any] = {a: main.__dict__.pop(a) for a in names if a in main.__dict__}
    if "__spec__" in hidden:
        main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(hidden)


def _warm() -> int:
    # imports the model once per worker so the first real run is not slowed by it
    import g60rail.model.run  # noqa: F401

    return os.getpid()


class Processes:
    """A pool of local worker processes.

    Parameters
    ----------
    workers
        Number of processes; default ``os.cpu_count()``.
    retries
        How many times a run is submitted again after its worker process died.
    """

    def __init__(self, workers: int | None = None, retries: int = 2) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers!r}")
        self.workers = workers or os.cpu_count() or 1
        self.retries = retries
        self.name = f"processes({self.workers})"
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        # the pool starts its processes as tasks are submitted
        assert self._pool is not None
        with _main_unseen(getattr(fn, "__module__", None) == "__main__"):
            return self._pool.submit(fn, *args)

    def start(self) -> None:
        """Start the worker processes and import the model in each (optional)."""
        if self._pool is None:
            self._pool = self._new_pool()
        for f in [self._submit(_warm) for _ in range(self.workers)]:
            f.result()

    def __enter__(self) -> Processes:
        if self._pool is None:
            self._pool = self._new_pool()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, tasks: Sequence[Task], fn: TaskFn = run_task) -> Iterator[tuple[Task, KPIs]]:
        if self._pool is None:
            self._pool = self._new_pool()
        attempts = dict.fromkeys((t.key for t in tasks), 0)
        todo = list(tasks)
        pending: dict[Future[KPIs], Task] = {}
        try:
            while todo or pending:
                for t in todo:
                    attempts[t.key] += 1
                    pending[self._submit(fn, *t.args)] = t
                todo = []
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                broken = False
                for f in done:
                    task = pending.pop(f)
                    try:
                        kpis = f.result()
                    except BrokenProcessPool:
                        broken = True
                        todo.append(task)
                        continue
                    yield task, kpis
                if broken:
                    # a worker died: every unfinished run is lost with the pool
                    todo.extend(pending.values())
                    pending.clear()
                    over = [t.key for t in todo if attempts[t.key] > self.retries]
                    if over:
                        raise RuntimeError(
                            f"worker process died {self.retries + 1} times running {over[0]!r}"
                        )
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
        finally:
            for f in pending:
                f.cancel()


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
                _tuned_run,
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


def resolve_executor(spec: Any, n_tasks: int | None = None) -> tuple[Executor, bool]:
    """Turn an executor specification into an executor.

    Parameters
    ----------
    spec
        ``None`` (local processes on all cores, or serial for a single task or a single
        core), ``"serial"``, ``"processes"``, an ``int`` (that many processes),
        ``"dask"`` (a LocalCluster with one worker per core), ``"dask:N"`` (N workers),
        a scheduler address containing ``"://"``, a ``dask.distributed.Client`` or an
        executor object (:class:`Serial`, :class:`Processes`, :class:`DaskExecutor`).
    n_tasks
        Number of runs, if known (a single run is not worth a process pool).

    Returns
    -------
    (Executor, bool)
        The executor and whether the caller owns it (must enter and close it).
    """
    if isinstance(spec, (Serial, Processes, DaskExecutor)):
        return spec, False
    if spec is None:
        cores = os.cpu_count() or 1
        if cores < 2 or (n_tasks is not None and n_tasks < 2):
            return Serial(), True
        return Processes(cores), True
    if isinstance(spec, bool):
        raise ValueError(f"not an executor: {spec!r}")
    if isinstance(spec, int):
        return Processes(spec), True
    if isinstance(spec, str):
        text = spec.strip()
        if text == "serial":
            return Serial(), True
        if text == "processes":
            return Processes(), True
        if text == "dask":
            return DaskExecutor(workers=os.cpu_count() or 1), True
        if text.startswith("dask:") and text[5:].isdigit():
            return DaskExecutor(workers=int(text[5:])), True
        if "://" in text:
            return DaskExecutor(address=text), True
        raise ValueError(
            f"unknown executor {spec!r}: use 'serial', 'processes', a number of processes, "
            "'dask', 'dask:N', a scheduler address 'tcp://host:port' or a dask Client"
        )
    if type(spec).__name__ == "Client" and hasattr(spec, "submit"):
        return DaskExecutor(client=spec), True
    if isinstance(spec, Executor):
        return spec, False
    raise ValueError(f"not an executor: {spec!r}")
