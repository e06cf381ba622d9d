"""Breakdowns and closures.

Breakdowns
    Each unit of the named equipment (reach stacker or gate lane) at a hub fails after an
    exponential time with mean ``mtbf_h`` and is out of service for ``repair_h``.  The
    failure claims the unit with a priority above all work, without pre-emption: a unit
    busy when its failure falls due finishes its current move first.  The next failure
    time is drawn after the repair.

Closures
    Date windows during which a leg admits no train (``line``), a border port does no
    clearance work (``border``), or declarations wait for the customs system (``customs``).
    Windows are turned into simulation hours here; the line sections and ports honour them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterable

import simpy

from g60rail.model.servers import Servers
from g60rail.random import Sampler
from g60rail.scenario.disruption_spec import Breakdown, Closure

__all__ = ["BREAKDOWN_PRIORITY", "EquipmentFailures", "after_windows", "closure_windows"]

BREAKDOWN_PRIORITY = -1
"""Failures take the next free unit before any queued work."""


def closure_windows(
    closures: Iterable[Closure], kind: str, where: Iterable[str], start: dt.datetime
) -> list[tuple[float, float]]:
    """Sorted ``(start_h, end_h)`` windows of closures of ``kind`` at ``where``.

    Parameters
    ----------
    closures
        The scenario's closures.
    kind
        ``"line"``, ``"border"`` or ``"customs"``.
    where
        The leg's two places (any order) or the port's place.
    start
        Wall-clock time of simulation hour 0.
    """
    key = frozenset(where)
    out = []
    for c in closures:
        if c.kind == kind and frozenset(c.where) == key:
            s = (c.start - start).total_seconds() / 3600.0
            e = (c.end - start).total_seconds() / 3600.0
            out.append((s, e))
    return sorted(out)


def after_windows(t: float, duration: float, windows: list[tuple[float, float]]) -> float:
    """Earliest time ``>= t`` at which ``[t, t + duration)`` overlaps no window.

    ``duration = 0`` asks for a moment outside every window.
    """
    moved = True
    while moved:
        moved = False
        for s, e in windows:
            if (t < e and t + duration > s) or (duration == 0 and s <= t < e):
                t = e
                moved = True
    return t


class EquipmentFailures:
    """Failure and repair cycles of every unit of one pool of servers.

    Parameters
    ----------
    env
        The SimPy environment.
    spec
        Where, what, mean time between failures and repair time.
    pool
        The servers whose units fail (a hub's reach stackers or gate lanes).
    up_h, repair_h
        Samplers of the time to the next failure (exponential, mean ``mtbf_h``) and of
        the repair time, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: Breakdown,
        pool: Servers,
        up_h: Sampler,
        repair_h: Sampler,
    ) -> None:
        self.env = env
        self.spec = spec
        self.pool = pool
        self.up_h = up_h
        self.repair_h = repair_h
        self.failures = 0
        self.down_h = 0.0

    def start(self) -> None:
        """One failure-repair cycle per unit."""
        for _ in range(self.pool.capacity):
            self.env.process(self._unit())

    def _unit(self) -> Generator:
        env = self.env
        while True:
            yield env.timeout(self.up_h())
            grant = self.pool.acquire(BREAKDOWN_PRIORITY)
            if grant is not None:
                yield grant
            self.failures += 1
            d = self.repair_h()
            self.down_h += d
            yield env.timeout(d)
            self.pool.release()
