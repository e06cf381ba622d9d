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

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

from g60rail.experiment.dask_executor import DaskExecutor, tune_malloc
from g60rail.experiment.tasks import KPIs, Task, TaskFn, run_task

__all__ = [
    "DaskExecutor",
    "Executor",
    "KPIs",
    "Processes",
    "Serial",
    "Task",
    "TaskFn",
    "resolve_executor",
    "run_task",
    "tune_malloc",
]


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
