"""Railway line sections: running time and the number of train paths per day.

A section with ``paths_per_day`` offers paths at least ``24 / paths_per_day`` hours apart
in each direction (a single-track section with its passing loops); a train that finds the
next path taken waits for the one after it, first come first served.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from g60rail.probes import Tally
from g60rail.random import Sampler

__all__ = ["LineSection"]


class LineSection:
    """One direction of one leg.

    Parameters
    ----------
    env
        The SimPy environment.
    from_, to
        Place ids at the two ends, in the direction of travel.
    km
        Route length, km.
    running_h
        Sampler of the running time, hours.
    paths_per_day
        Train paths per day in this direction, or ``None`` for no limit.
    """

    def __init__(
        self,
        env: simpy.Environment,
        from_: str,
        to: str,
        km: float,
        running_h: Sampler,
        paths_per_day: float | None,
    ) -> None:
        self.env = env
        self.from_ = from_
        self.to = to
        self.km = km
        self.running_h = running_h
        self.headway_h = 24.0 / paths_per_day if paths_per_day else 0.0
        self._next_path_h = 0.0
        self.path_wait_h = Tally()
        self.trains = 0

    def traverse(self) -> Generator:
        """Wait for a path, then run the section."""
        env = self.env
        start = max(env.now, self._next_path_h)
        self._next_path_h = start + self.headway_h
        self.path_wait_h.add(start - env.now)
        self.trains += 1
        if start > env.now:
            yield env.timeout(start - env.now)
        yield env.timeout(self.running_h())
