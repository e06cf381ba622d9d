"""Railway line sections: running time and the number of train paths per day.

A section with ``paths_per_day`` offers paths at least ``24 / paths_per_day`` hours apart
in each direction (a single-track section with its passing loops); a train that finds the
next path taken waits for the one after it, first come first served.  During a closure
window no train enters if its run would overlap the window.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from g60rail.model.disruptions import after_windows
from g60rail.model.probes import Tally
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
    closures
        Windows ``(start_h, end_h)`` when the section is closed.
    """

    def __init__(
        self,
        env: simpy.Environment,
        from_: str,
        to: str,
        km: float,
        running_h: Sampler,
        paths_per_day: float | None,
        closures: list[tuple[float, float]] | None = None,
    ) -> None:
        self.env = env
        self.from_ = from_
        self.to = to
        self.km = km
        self.running_h = running_h
        self.headway_h = 24.0 / paths_per_day if paths_per_day else 0.0
        self._next_path_h = 0.0
        self.closures = closures or []
        self.path_wait_h = Tally()
        self.closure_delay_teu_h = 0.0
        self.trains = 0

    def traverse(self, teu: int = 0) -> Generator:
        """Wait for a path (and for the section to reopen), then run the section.

        Parameters
        ----------
        teu
            The train's load, for the closure delay in TEU-hours.
        """
        env = self.env
        run = self.running_h()
        start = max(env.now, self._next_path_h)
        if self.closures:
            open_at = after_windows(start, run, self.closures)
            self.closure_delay_teu_h += teu * (open_at - start)
            start = open_at
        self._next_path_h = start + self.headway_h
        self.path_wait_h.add(start - env.now)
        self.trains += 1
        if start > env.now:
            yield env.timeout(start - env.now)
        yield env.timeout(run)
