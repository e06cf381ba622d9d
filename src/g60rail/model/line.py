"""Railway lines: stations with tracks, single- and double-track sections, meets.

A line is a sequence of stations in route-km order and the sections between consecutive
stations.  A train moves station to station:

* **Single-track section.**  One train at a time, whichever way it runs.  After a train
  clears it the section stays blocked for the station interval (the time the signaller
  needs before the next train, the same or the other way, may enter).  Opposing trains
  therefore meet at stations, one of them waiting on a track there.
* **Double-track section.**  Each direction has its own track; trains one way enter at
  least ``headway`` apart and cannot overtake inside the section (a train leaves it no
  earlier than ``headway`` after the train ahead).
* **Stations** have ``tracks`` where trains stand (main line and passing loops), split
  between the directions: ``ceil(tracks / 2)`` for trains running towards increasing km,
  ``floor(tracks / 2)`` the other way.  Ends of a line and places with a terminal have no
  track limit (trains leave the line there into the terminal).
* **Windows.**  A train enters a section only if it can run through it before the next
  maintenance window or closure of that section; otherwise it waits at the station.

Rules for entering a section from station ``s`` towards ``s'`` (in this order):

1. reserve a track at ``s'`` of the train's own direction (FIFO per direction),
2. then wait for the section (FIFO, passenger trains first) and for a window-free run,
3. enter, releasing the track at ``s``; stand on the reserved track at ``s'`` on arrival.

**Why this cannot deadlock.**  A train waiting at a station holds one track of its own
direction there and nothing else.  Step 1 waits only for tracks of the same direction
further along, held by trains of that direction that are themselves further along, so
waits for tracks point one way along the line for each direction and end at the line's
end, where nothing is waited for.  Step 2 is taken only by trains that already hold their
far track, so once a section is physically free its first train enters: a wait for a
section lasts at most the running time of the train inside, the station interval and the
window in force.  Every wait therefore ends, by induction from the train furthest along
in each direction.  The cost of the rule is capacity: a track of one direction cannot be
lent to the other, as a signaller sometimes would.

Trains wait first come first served; a passenger train (priority 0) goes before freight
(priority 1) when both wait for the same section.  Random running times come from one
stream per section and direction, so a change elsewhere does not shift them.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Protocol

import simpy
from mypy_extensions import mypyc_attr

from g60rail.model.probes import BusyTime, Tally
from g60rail.random import Sampler

__all__ = [
    "DECREASING",
    "INCREASING",
    "SECTION_COLUMNS",
    "DailyWindows",
    "Line",
    "LineTrain",
    "Section",
    "StationTracks",
    "WindowUnion",
    "Windows",
]

INCREASING = 1
"""Direction of a train running towards increasing route km."""
DECREASING = -1
"""Direction of a train running towards decreasing route km."""

SECTION_COLUMNS = (
    "tid",
    "service",
    "kind",
    "line",
    "section",
    "from",
    "to",
    "track",
    "direction",
    "t_ready",
    "t_enter",
    "t_exit",
)
"""Columns of a section record: one row per train and section it ran; ``from`` and
``to`` in the direction of travel, ``direction`` along the line's route km."""


class LineTrain(Protocol):
    """What a line needs to know of a train."""

    @property
    def tid(self) -> int: ...

    @property
    def service(self) -> str: ...

    @property
    def kind(self) -> str:
        """``"freight"``, ``"light"`` (an empty train set) or ``"passenger"``."""
        ...

    @property
    def priority(self) -> int:
        """0 for passenger trains (served first), 1 for freight."""
        ...

    @property
    def speed_kmh(self) -> float | None:
        """Running speed, or ``None`` for the section's freight running time."""
        ...

    @property
    def teu(self) -> int:
        """TEU on board (for the TEU-hours lost to closures)."""
        ...


class Windows:
    """Disjoint, sorted time windows ``[start_h, end_h)`` with a fast look-up.

    Overlapping windows given to the constructor are merged.
    """

    __slots__ = ("ends", "starts")

    def __init__(self, windows: list[tuple[float, float]]) -> None:
        merged: list[list[float]] = []
        for s, e in sorted(windows):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [w[0] for w in merged]
        self.ends = [w[1] for w in merged]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def clear(self, t: float, duration: float) -> float:
        """Earliest time ``>= t`` at which ``[t, t + duration)`` overlaps no window (for
        ``duration == 0``: a moment outside every window)."""
        i = bisect.bisect_right(self.ends, t)
        starts, ends = self.starts, self.ends
        while i < len(starts) and (starts[i] < t + duration or starts[i] <= t):
            t = ends[i]
            i += 1
        return t

    def total_h(self, t0: float, t1: float) -> float:
        """Hours of the windows inside ``[t0, t1]``."""
        return sum(
            max(0.0, min(e, t1) - max(s, t0)) for s, e in zip(self.starts, self.ends, strict=True)
        )


class DailyWindows:
    """The same window every 24 hours, with the look-ups of :class:`Windows`: ``count``
    windows, the ``k``-th ``[first_h + 24 k, first_h + 24 k + duration_h)``, found as
    needed (memory independent of the horizon).

    Parameters
    ----------
    first_h
        Start of the first window, hours.
    duration_h
        Length of each, hours, in ``(0, 24)``.
    count
        Number of windows.
    """

    __slots__ = ("count", "duration_h", "first_h")

    def __init__(self, first_h: float, duration_h: float, count: int) -> None:
        if not 0.0 < duration_h < 24.0:
            raise ValueError(f"a daily window lasts between 0 and 24 hours, got {duration_h!r}")
        self.first_h = first_h
        self.duration_h = duration_h
        self.count = count

    def __bool__(self) -> bool:
        return self.count > 0

    def clear(self, t: float, duration: float) -> float:
        """Earliest time ``>= t`` at which ``[t, t + duration)`` overlaps no window (for
        ``duration == 0``: a moment outside every window)."""
        first, dur, n = self.first_h, self.duration_h, self.count
        # the first window that ends after t
        k = max(0, math.floor((t - first - dur) / 24.0))
        while k > 0 and first + 24.0 * (k - 1) + dur > t:
            k -= 1
        while k < n and first + 24.0 * k + dur <= t:
            k += 1
        while k < n:
            start = first + 24.0 * k
            if not (start < t + duration or start <= t):
                break
            t = start + dur
            k += 1
        return t

    def total_h(self, t0: float, t1: float) -> float:
        """Hours of the windows inside ``[t0, t1]``."""
        first, dur = self.first_h, self.duration_h
        starts = (first + 24.0 * k for k in range(self.count))
        return sum(max(0.0, min(s + dur, t1) - max(s, t0)) for s in starts)


class WindowUnion:
    """The union of several :class:`Windows` and :class:`DailyWindows` (maintenance and
    closures), for :meth:`clear`."""

    __slots__ = ("parts",)

    def __init__(self, *parts: Windows | DailyWindows) -> None:
        self.parts = [p for p in parts if p]

    def __bool__(self) -> bool:
        return bool(self.parts)

    def clear(self, t: float, duration: float) -> float:
        """Earliest time ``>= t`` at which ``[t, t + duration)`` overlaps no window of any
        part."""
        parts = self.parts
        if len(parts) == 1:
            return parts[0].clear(t, duration)
        while True:
            before = t
            for p in parts:
                t = p.clear(t, duration)
            if t == before:
                return t


# a class others may extend in Python (tests log its grants) also when it is compiled
@mypyc_attr(allow_interpreted_subclasses=True)
class StationTracks:
    """The tracks of one station, split between the two directions.

    Parameters
    ----------
    env
        The SimPy environment.
    station
        Station id.
    tracks
        Tracks where trains stand, or ``None`` for no limit.
    """

    def __init__(self, env: simpy.Environment, station: str, tracks: int | None) -> None:
        self.env = env
        self.station = station
        self.tracks = tracks
        if tracks is None:
            self.quota: dict[int, float] = {INCREASING: math.inf, DECREASING: math.inf}
        else:
            self.quota = {INCREASING: math.ceil(tracks / 2), DECREASING: tracks // 2}
        self.in_use = {INCREASING: 0, DECREASING: 0}
        self._waiting: dict[int, deque[simpy.Event]] = {INCREASING: deque(), DECREASING: deque()}

    @property
    def limited(self) -> bool:
        """Whether the station has a track limit."""
        return self.tracks is not None

    def reserve(self, direction: int) -> simpy.Event | None:
        """A track of ``direction``: ``None`` if one is free now, else an event that fires
        when one is (first come first served)."""
        if not self._waiting[direction] and self.in_use[direction] < self.quota[direction]:
            self.in_use[direction] += 1
            return None
        ev = self.env.event()
        self._waiting[direction].append(ev)
        return ev

    def release(self, direction: int) -> None:
        """A train of ``direction`` leaves its track."""
        waiting = self._waiting[direction]
        if waiting:
            waiting.popleft().succeed()  # the track passes straight to the next train
        else:
            self.in_use[direction] -= 1


class Section:
    """One section between two consecutive stations of a line.

    Parameters
    ----------
    env
        The SimPy environment.
    section_id
        ``<from>_<to>`` in route-km order.
    km
        Length, km.
    single
        Single track (one train at a time both ways) or double track.
    headway_h
        Double track: minimum time between two trains one way, hours.
    interval_h
        Single track: time after a train clears the section before the next may enter.
    running_h
        Samplers of the running time by direction, hours.
    maintenance, closures
        ``(start_h, end_h)`` windows when no train may be in the section: daily
        maintenance (or its :class:`DailyWindows`), and closures (disruptions).
    ordered_exit
        Double track: a train leaves no earlier than ``headway_h`` after the one ahead.
    warmup_h
        The section's occupancy (:attr:`busy_time`) and the trains' waits for it
        (:attr:`wait_h`) count from this time on, hours.
    """

    def __init__(
        self,
        env: simpy.Environment,
        section_id: str,
        km: float,
        single: bool,
        headway_h: float,
        interval_h: float,
        running_h: dict[int, Sampler],
        maintenance: list[tuple[float, float]] | DailyWindows,
        closures: list[tuple[float, float]],
        ordered_exit: bool = True,
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.id = section_id
        self.km = km
        self.single = single
        self.headway_h = headway_h
        self.interval_h = interval_h
        self.running_h = running_h
        self.maintenance: Windows | DailyWindows = (
            maintenance if isinstance(maintenance, DailyWindows) else Windows(maintenance)
        )
        self.closures = Windows(closures)
        self.windows = WindowUnion(self.maintenance, self.closures)
        self._closed = bool(self.closures)  # any closures at all
        self._windowed = bool(self.windows)  # any windows at all
        self.closure_delay_teu_h = 0.0
        self.ordered_exit = ordered_exit
        # single track: one queue for both directions; double: one per direction
        lanes = (0,) if single else (INCREASING, DECREASING)
        self._queue: dict[int, list[tuple[int, int, float, simpy.Event]]] = {k: [] for k in lanes}
        self._free_at = dict.fromkeys(lanes, 0.0)  # earliest next entry
        self._last_exit = dict.fromkeys(lanes, -math.inf)
        self._busy = dict.fromkeys(lanes, False)  # single: a train is inside
        self._wake = dict.fromkeys(lanes, False)
        self._seq = itertools.count()
        self.busy_time = BusyTime(warmup_h)
        """Hours the section was occupied by trains (and, single track, the station
        interval after each) after the warm-up."""
        self.entries = {INCREASING: 0, DECREASING: 0}
        self.wait_h = Tally(warmup_h)
        """Wait of each train at the station before the section, from ready to leave to
        entering (trains ready after the warm-up), hours."""

    def request(self, train: LineTrain, direction: int) -> tuple[float, float] | simpy.Event:
        """``(t_enter, t_exit)`` when ``train`` may enter now (entering it and leaving
        it), else an event with that value once it may."""
        lane = 0 if self.single else direction
        speed = train.speed_kmh
        run = self.km / speed if speed else self.running_h[direction]()
        if self._closed:
            t0 = max(self.env.now, self._free_at[lane])
            lost = self.windows.clear(t0, run) - self.maintenance.clear(t0, run)
            self.closure_delay_teu_h += train.teu * lost
        queue = self._queue[lane]
        if not queue:
            exit_h = self._enter(lane, run)
            if exit_h is not None:
                return self.env.now, exit_h
        ev = self.env.event()
        heapq.heappush(queue, (train.priority, next(self._seq), run, ev))
        self._dispatch(lane)
        return ev

    def leave(self, direction: int) -> None:
        """A train has run through the section (single track: it is free after the
        station interval)."""
        if self.single:
            self._busy[0] = False
            self._free_at[0] = self.env.now + self.interval_h
            self._dispatch(0)

    def _enter(self, lane: int, run: float) -> float | None:
        """Let a train with running time ``run`` in now if the rules allow; its exit time."""
        if self._busy[lane]:
            return None
        now = self.env.now
        start = max(now, self._free_at[lane])
        if self._windowed:
            start = self._clear_of_windows(lane, start, run)
        if start > now:
            if not self._wake[lane]:
                self._wake[lane] = True
                self.env.timeout(start - now).callbacks.append(lambda _e: self._woken(lane))
            return None
        exit_h = now + self._passage_h(lane, now, run)
        if self.single:
            self._busy[lane] = True
            self.busy_time.add(now, run + self.interval_h)
        else:
            self._last_exit[lane] = exit_h
            self._free_at[lane] = now + self.headway_h
            self.busy_time.add(now, exit_h - now)
        return exit_h

    def _passage_h(self, lane: int, start: float, run: float) -> float:
        """How long a train entering at ``start`` stays in the section, hours: its
        running time, or longer on double track where it may not leave before the train
        ahead has left plus the headway."""
        if self.single or not self.ordered_exit:
            return run
        return max(run, self._last_exit[lane] + self.headway_h - start)

    def _clear_of_windows(self, lane: int, start: float, run: float) -> float:
        """The earliest entry at or after ``start`` whose whole passage misses every
        maintenance window and closure."""
        while True:
            later = self.windows.clear(start, self._passage_h(lane, start, run))
            if later <= start:
                return start
            start = later

    def _dispatch(self, lane: int) -> None:
        queue = self._queue[lane]
        while queue:
            exit_h = self._enter(lane, queue[0][2])
            if exit_h is None:
                return
            ev = heapq.heappop(queue)[3]
            ev.succeed((self.env.now, exit_h))

    def _woken(self, lane: int) -> None:
        self._wake[lane] = False
        self._dispatch(lane)


class Line:
    """A railway line: its stations' tracks and its sections.

    Parameters
    ----------
    env
        The SimPy environment.
    line_id
        The line's id (scenario key).
    station_ids
        Station ids in route-km order.
    station_km
        Route km of each station.
    tracks
        One :class:`StationTracks` per station (no limit at ends and terminals).
    sections
        One :class:`Section` per pair of consecutive stations.
    record
        Called with each section record (see :data:`SECTION_COLUMNS`); ``None``: no
        records.
    """

    def __init__(
        self,
        env: simpy.Environment,
        line_id: str,
        station_ids: list[str],
        station_km: list[float],
        tracks: list[StationTracks],
        sections: list[Section],
        record: Callable[[tuple], None] | None,
    ) -> None:
        self.env = env
        self.id = line_id
        self.station_ids = station_ids
        self.station_km = station_km
        self.index = {s: i for i, s in enumerate(station_ids)}
        self.tracks = tracks
        self.sections = sections
        self.record = record

    def run(
        self,
        train: LineTrain,
        from_: str,
        to: str,
        holding: int = 0,
        stop: Callable[[str], float] | None = None,
    ) -> Generator[simpy.Event, Any, int]:
        """SimPy process: run ``train`` from station ``from_`` to station ``to``.

        Parameters
        ----------
        train
            The train.
        from_, to
            Station ids; the direction follows.
        holding
            The direction of the track the train already holds at ``from_`` (it arrived
            there over this line), or 0 if it holds none (it enters the line there).
        stop
            Minutes the train stops at an intermediate station (``None``: it runs
            through), called with the station id.

        Returns
        -------
        int
            The direction of the track the train now holds at ``to`` (a station with a
            track limit), or 0; pass it as ``holding`` to the next run, or to
            :meth:`leave`.
        """
        env = self.env
        i, j = self.index[from_], self.index[to]
        d = INCREASING if j > i else DECREASING
        here = self.tracks[i]
        if holding and holding != d:
            here.release(holding)  # the train reverses: it stands again on its new side
            holding = 0
        if not holding and here.limited:
            ev = here.reserve(d)
            if ev is not None:
                yield ev
            holding = d
        while i != j:
            k = i + d
            section = self.sections[min(i, k)]
            t_ready = env.now
            far = self.tracks[k]
            if far.limited:
                ev = far.reserve(d)
                if ev is not None:
                    yield ev
            grant = section.request(train, d)
            if not isinstance(grant, tuple):
                grant = yield grant
            t_enter, t_exit = grant
            if holding:
                self.tracks[i].release(d)
            holding = d if far.limited else 0
            section.entries[d] += 1
            section.wait_h.add_wait(t_ready, t_enter)
            yield env.timeout(t_exit - t_enter)
            section.leave(d)
            if self.record is not None:
                self.record(
                    (
                        train.tid,
                        train.service,
                        train.kind,
                        self.id,
                        section.id,
                        self.station_ids[i],
                        self.station_ids[k],
                        "single" if section.single else "double",
                        "increasing" if d == INCREASING else "decreasing",
                        t_ready,
                        t_enter,
                        t_exit,
                    )
                )
            i = k
            if i != j and stop is not None:
                dwell = stop(self.station_ids[i])
                if dwell > 0:
                    yield env.timeout(dwell / 60.0)
        return holding

    def leave(self, station: str, holding: int) -> None:
        """A train standing at ``station`` on a track of direction ``holding`` (0: none)
        leaves the line there."""
        if holding:
            self.tracks[self.index[station]].release(holding)
