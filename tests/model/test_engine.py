"""The model's event loop (:class:`~g60rail.model.engine.Engine`) against SimPy's own.

The reference is :class:`simpy.Environment`: on the same workload (timeouts, shared
resources, any-of and all-of conditions, interrupts, failed events defused or not, runs
resumed in pieces) both must process the same events at the same times in the same order.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import g60rail as g6
from g60rail.model.engine import Engine, Wake
from g60rail.model.world import World
from g60rail.random import Streams

Trace = list[tuple[float, str]]


def workload(env: simpy.Environment, seed: int, trace: Trace) -> None:
    """Processes that meet on a resource, wait on conditions and interrupt each other,
    with ties in time (integer delays) so that scheduling order matters."""
    rng = random.Random(seed)
    lanes = simpy.Resource(env, capacity=rng.randint(1, 3))
    store = simpy.Store(env)
    workers: list[simpy.Process] = []

    def worker(i: int):
        for k in range(rng.randint(2, 6)):
            try:
                with lanes.request() as req:
                    got = yield req | env.timeout(rng.randint(0, 3))
                    if req in got:
                        trace.append((env.now, f"w{i}.{k} lane"))
                        yield env.timeout(rng.randint(0, 4))
                    else:
                        trace.append((env.now, f"w{i}.{k} gave up"))
                both = yield env.timeout(rng.randint(0, 2), value=i) & env.timeout(1)
                trace.append((env.now, f"w{i}.{k} both {sorted(map(repr, both.values()))}"))
                store.put((i, k))
            except simpy.Interrupt as intr:
                trace.append((env.now, f"w{i}.{k} interrupted by {intr.cause}"))

    def consumer():
        while True:
            item = yield store.get()
            trace.append((env.now, f"got {item}"))

    def interrupter():
        for _ in range(rng.randint(0, 4)):
            yield env.timeout(rng.randint(1, 5))
            alive = [w for w in workers if w.is_alive]
            if alive:
                rng.choice(alive).interrupt(cause=f"{env.now:g}")

    def failer():
        yield env.timeout(rng.randint(0, 6))
        ev = env.event()
        ev.fail(ValueError("defused"))
        ev.defused = True
        trace.append((env.now, "failed and defused"))

    for i in range(rng.randint(2, 6)):
        workers.append(env.process(worker(i)))
    env.process(consumer())
    env.process(interrupter())
    env.process(failer())


def traced(make: Callable[[], simpy.Environment], seed: int, stops: list[float]) -> Trace:
    env = make()
    trace: Trace = []
    workload(env, seed, trace)
    for stop in stops:
        env.run(until=stop)
        assert env.now == stop
        trace.append((env.now, "stopped"))
    return trace


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    stops=st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True).map(sorted),
)
def test_same_events_in_the_same_order_as_simpy(seed: int, stops: list[int]) -> None:
    ends = [float(s) for s in stops]
    reference = traced(simpy.Environment, seed, ends)
    assert traced(Engine, seed, ends) == reference
    assert len(reference) > len(ends)  # the workload did something


def test_a_clock_started_late_runs_as_simpys() -> None:
    # a process waits 1.5 h from 10 h, then 2 h: it sees 11.5 and 13.5 on both clocks
    seen: dict[str, list[float]] = {}
    for kind in (simpy.Environment, Engine):
        env = kind(10.0)
        times = seen.setdefault(kind.__name__, [env.now])

        def proc(env: simpy.Environment = env, times: list[float] = times):
            for d in (1.5, 2.0):
                yield env.timeout(d)
                times.append(env.now)

        env.process(proc())
        env.run(until=20.0)
        times.append(env.now)
    assert seen["Engine"] == seen["Environment"] == [10.0, 11.5, 13.5, 20.0]


def test_a_run_in_pieces_equals_one_run() -> None:
    whole = traced(Engine, 7, [30.0])
    pieces = traced(Engine, 7, [5.0, 12.0, 30.0])
    assert [e for e in pieces if e[1] != "stopped"] == [e for e in whole if e[1] != "stopped"]


def test_events_due_at_the_end_wait_for_the_next_run() -> None:
    for make in (simpy.Environment, Engine):
        env = make()
        seen: list[float] = []
        env.timeout(5.0).callbacks.append(lambda e, seen=seen: seen.append(e.env.now))
        env.run(until=5.0)
        assert seen == []  # the run's end comes before the events due then
        env.run(until=6.0)
        assert seen == [5.0]


def test_an_undefused_failure_crashes_the_run_as_in_simpy() -> None:
    for make in (simpy.Environment, Engine):
        env = make()

        def boom(env: simpy.Environment = env):
            yield env.timeout(2.0)
            raise KeyError("lost box")

        env.process(boom())
        with pytest.raises(KeyError, match="lost box") as info:
            env.run(until=10.0)
        assert isinstance(info.value.__cause__, KeyError)
        assert env.now == 2.0


def test_a_run_must_end_after_now() -> None:
    env = Engine()
    env.run(until=3.0)
    with pytest.raises(ValueError, match="greater than the current simulation time"):
        env.run(until=3.0)


def test_runs_to_an_event_or_to_the_end_are_simpys() -> None:
    env = Engine()
    done = env.timeout(4.0, value="done")
    assert env.run(until=done) == "done"
    env.timeout(2.0)
    env.run()
    assert env.now == 6.0


def _ties(env: simpy.Environment, trace: Trace) -> None:
    """Events that all fall due at t = 1, scheduled in a known order, of every kind."""

    def note(name: str) -> Callable[[object], None]:
        return lambda _e: trace.append((env.now, name))

    env.timeout(1).callbacks.append(note("timeout queued at 0"))
    Wake(env, 1, note("wake queued at 0"))

    def at_one():
        yield env.timeout(1)
        ev = env.event()
        ev.callbacks.append(note("event triggered at 1"))
        ev.succeed()
        Wake(env, 0, note("wake due now"))
        env.timeout(0).callbacks.append(note("zero timeout"))
        urgent = env.event()
        urgent.callbacks.append(note("urgent at 1"))
        env.schedule(urgent, simpy.core.URGENT)
        urgent._ok, urgent._value = True, None
        trace.append((env.now, "process at 1"))

    env.process(at_one())


def test_ties_in_time_go_by_priority_then_scheduling_order() -> None:
    # at t = 1 SimPy's queue orders by priority (urgent first), then by the order the
    # events were scheduled: those queued at 0 come before those due now, and among these
    # the order of the process's calls
    want = [
        (1.0, "timeout queued at 0"),
        (1.0, "wake queued at 0"),
        (1.0, "process at 1"),
        (1.0, "urgent at 1"),
        (1.0, "event triggered at 1"),
        (1.0, "wake due now"),
        (1.0, "zero timeout"),
    ]
    for make in (simpy.Environment, Engine):
        env = make()
        trace: Trace = []
        _ties(env, trace)
        env.run(until=2)
        assert trace == want, make.__name__


def test_the_garbage_collector_is_paused_during_a_run_and_restored_after() -> None:
    seen: list[bool] = []
    for enabled_before in (True, False):
        (gc.enable if enabled_before else gc.disable)()
        try:
            env = Engine()
            env.timeout(1.0).callbacks.append(lambda _e: seen.append(gc.isenabled()))
            env.run(until=2.0)
            assert gc.isenabled() is enabled_before  # left as it was found

            def boom(env: Engine = env):
                yield env.timeout(1.0)
                raise KeyError("lost box")

            env.process(boom())
            with pytest.raises(KeyError):
                env.run(until=5.0)
            assert gc.isenabled() is enabled_before  # a crashed run restores it too
        finally:
            gc.enable()
    assert seen == [False, False]  # paused while events were processed


def test_a_corridor_run_makes_no_cyclic_garbage() -> None:
    # the collector is paused during a run: memory stays bounded only if reference
    # counting frees everything, i.e. the model's event loop leaves no reference cycles
    sc = g6.load_scenario("baseline")
    world = World(Engine(), sc, Streams(3), horizon_h=24.0 * 12, warmup_h=24.0 * 2)
    gc.collect()
    world.run()
    assert world.teu_created > 10_000  # a real run, with trains to and across the border
    assert gc.collect() == 0
