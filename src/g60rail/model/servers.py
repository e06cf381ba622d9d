"""Identical servers (gate lanes, reach stackers) granted by priority, then arrival order;
a hub's loading tracks, one train each.

Same queueing discipline as ``simpy.PriorityResource`` (lower priority number first,
first come first served within a priority, no pre-emption), but a request that finds a
server free is granted at once without scheduling an event.  A request may also be a
continuation (:meth:`Servers.wait`), called within the release that hands the server
over.

The parts these serve by callbacks time their steps with :class:`~g60rail.model.engine.Wake`.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable

import simpy

from g60rail.model.probes import BusyTime, Tally

__all__ = ["LoadingTracks", "Servers", "TrackHold"]


class Servers:
    """``capacity`` identical servers.

    Use::

        grant = servers.acquire(priority)
        if grant is not None:
            yield grant          # queued: wait for a server
        ...                      # work
        servers.release()
    """

    __slots__ = ("_cancelled", "_seq", "_waiting", "busy", "capacity", "env")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.busy = 0
        # (priority, arrival, continuation, the request's event or None for a wait())
        self._waiting: list[tuple[int, int, Callable[[], object], simpy.Event | None]] = []
        self._cancelled: set[int] = set()
        self._seq = itertools.count()

    @property
    def queued(self) -> int:
        """Requests waiting for a server."""
        return len(self._waiting) - len(self._cancelled)

    def acquire(self, priority: int = 0) -> simpy.Event | None:
        """Take a server: ``None`` if one was free, else an event fired when granted."""
        if self.busy < self.capacity and not self._waiting:
            self.busy += 1
            return None
        ev = self.env.event()
        heapq.heappush(self._waiting, (priority, next(self._seq), ev.succeed, ev))
        return ev

    def take(self) -> bool:
        """Take a server if one is free and nobody waits; whether it was taken."""
        if self.busy < self.capacity and not self._waiting:
            self.busy += 1
            return True
        return False

    def wait(self, then: Callable[[], None], priority: int = 0) -> None:
        """Queue for a server (when :meth:`take` failed): ``then`` is called within the
        release that hands one over, in the order of :meth:`acquire`."""
        heapq.heappush(self._waiting, (priority, next(self._seq), then, None))

    def cancel(self, grant: simpy.Event) -> None:
        """Withdraw a queued request; if it was granted meanwhile, give the server back."""
        if grant.triggered:
            self.release()
        else:
            self._cancelled.add(id(grant))

    def release(self) -> None:
        """Give a server back; it passes straight to the first request waiting."""
        waiting = self._waiting
        while waiting:
            _, _, then, grant = heapq.heappop(waiting)
            if grant is not None and id(grant) in self._cancelled:
                self._cancelled.discard(id(grant))
                continue
            then()
            return
        self.busy -= 1


class LoadingTracks:
    """Tracks where trains are loaded and unloaded; one train per track.

    Parameters
    ----------
    env
        The SimPy environment.
    count
        Loading tracks.
    warmup_h
        Their busy time, and the waits of trains asking for one, count from this time
        on, hours.
    """

    def __init__(self, env: simpy.Environment, count: int, warmup_h: float = 0.0) -> None:
        self.env = env
        self.count = count
        self.tracks = simpy.Resource(env, capacity=count)
        self.busy_time = BusyTime(warmup_h)
        """Track-hours held after the warm-up."""
        self.wait_h = Tally(warmup_h)
        """Wait of each train for a loading track (asked for after the warm-up), hours."""


class TrackHold:
    """One train's use of a loading track, taken and left as its work requires.

    Parameters
    ----------
    tracks
        The hub's loading tracks.
    """

    __slots__ = ("_req", "_t_on", "_t_req", "tracks")

    def __init__(self, tracks: LoadingTracks) -> None:
        self.tracks = tracks
        self._req: simpy.Event | None = None
        self._t_req = 0.0
        self._t_on = math.nan

    @property
    def held(self) -> bool:
        """Whether the train stands on a loading track now."""
        return self._req is not None and not math.isnan(self._t_on)

    def request(self) -> simpy.Event:
        """Ask for a loading track (an event that fires when one is free)."""
        self._req = self.tracks.tracks.request()
        self._t_req = self.tracks.env.now
        return self._req

    def granted(self) -> None:
        """The requested track is the train's now."""
        self._t_on = self.tracks.env.now
        self.tracks.wait_h.add_wait(self._t_req, self._t_on)

    def cancel(self) -> None:
        """Withdraw a request that was not granted."""
        if self._req is not None and not self.held:
            self.tracks.tracks.release(self._req)  # type: ignore[arg-type]
            self._req = None

    def release(self) -> None:
        """Leave the loading track (for an arrival/departure track, or the line)."""
        if self._req is not None and self.held:
            self.tracks.tracks.release(self._req)  # type: ignore[arg-type]
            self.tracks.busy_time.add(self._t_on, self.tracks.env.now - self._t_on)
        self._req = None
        self._t_on = math.nan
