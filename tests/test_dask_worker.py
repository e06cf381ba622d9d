"""glibc malloc thresholds in Dask workers (see ``dask_executor.tune_malloc``).

Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which makes
glibc ``mmap`` every large block afresh.  The tests observe it without timing: 32
allocations of a 4 MiB buffer cost about 32 x 1024 page faults in such a process and
fewer than 1024 once the thresholds are tuned.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from g60rail.experiment.executors import DaskExecutor, Task, tune_malloc

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc malloc only",
)

BLOCK = 4 * 2**20
ROUNDS = 32
PAGES = ROUNDS * BLOCK // 4096  # page faults when every block is a fresh mapping
TUNED_MAX = PAGES // 8
HARMFUL_MIN = PAGES // 2


def fault_probe(
    scenario: dict[str, Any], overrides: dict[str, Any], days: float, seed: int, warmup: float
) -> dict[str, float]:
    """A stand-in run: page faults of allocating and freeing a large buffer repeatedly,
    and whether the worker process runs with the harmful variable."""
    bytearray(BLOCK)  # the first block may be a fresh mapping in any process
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(ROUNDS):
        bytearray(BLOCK)  # zero-filled, so every page is touched
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    trim_env = os.environ.get("MALLOC_TRIM_THRESHOLD_") == "65536"
    return {"faults": float(faults), "trim_env": float(trim_env)}


TASKS = [Task("probe", {}, {}, 0.0, 0)]


@pytest.fixture
def environ_kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No MALLOC_TRIM_THRESHOLD_ in this process during the test, and this process's
    environment as it was afterwards (a nanny exports its pre-spawn variables here)."""
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_tune_malloc_is_a_safe_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_glibc(name: str) -> str:
        raise ValueError(f"unrecognized configuration name: {name}")

    monkeypatch.setattr(os, "confstr", not_glibc)
    assert tune_malloc() is False
    monkeypatch.delattr(os, "confstr")  # Windows
    assert tune_malloc() is False


@glibc
def test_local_cluster_workers_start_without_the_variable_and_are_tuned(
    environ_kept: None,
) -> None:
    pytest.importorskip("dask.distributed")
    with DaskExecutor(workers=1) as ex:
        assert "MALLOC_TRIM_THRESHOLD_" not in os.environ  # not exported into this process
        [(_, kpis)] = ex.run(TASKS, fn=fault_probe)
    assert kpis["trim_env"] == 0.0
    assert kpis["faults"] < TUNED_MAX


@glibc
def test_a_users_cluster_with_default_config_is_tuned_too(environ_kept: None) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # the worker as Dask starts it: with the variable, every large block mmap-ed
        untuned = client.submit(fault_probe, {}, {}, 0.0, 0, 0.0, pure=False).result()
        assert untuned["trim_env"] == 1.0
        assert untuned["faults"] > HARMFUL_MIN
        with DaskExecutor(address=cluster.scheduler_address) as ex:
            [(_, kpis)] = ex.run(TASKS, fn=fault_probe)
        assert kpis["trim_env"] == 1.0  # the same worker process
        assert kpis["faults"] < TUNED_MAX
        assert client.submit(tune_malloc, pure=False).result() is True  # mallopt accepts
