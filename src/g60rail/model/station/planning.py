"""Security-lane planning: the fewest lanes per hour that keep waits and crowding on target.

The plan is for one calendar day and each entrance separately (each entrance has its own
queue).  Two targets, either or both:

* ``target_p95_min``: at every entrance and for every hour of the day, the
  95th-percentile wait (``numpy.quantile``, method 'linear') of the passengers arriving in
  that hour is at most this;
* ``target_los``: at every entrance and in every hour of the day, the longest queue leaves
  each person at least the area of that Fruin level of service on the entrance's
  ``queue_area_m2`` (:mod:`~g60rail.model.station.los`), i.e. the queue never exceeds
  :func:`~g60rail.model.station.los.max_queue_for`.

Passengers who arrive the evening before for an early departure share the lanes of that
hour of day and count in it.

Search (exact evaluations of the FIFO recursion on the day's sampled passengers):

1. *Forward pass, earliest hour first.*  Each hour, in arrival order, gets the fewest lanes
   meeting its own targets with the hours before it fixed and the later ones fully staffed
   (``max_lanes``); it fails when an hour would need more than ``max_lanes``.
2. *Repair.*  While some hour misses a target, add one lane in the earliest such hour that
   can take one (the later hours are no longer fully staffed).
3. *Pruning.*  Try removing one lane from each hour in turn and keep every removal after
   which the targets are still met; repeat until no lane can go.

The plan returned therefore meets the targets, and removing any single lane in any hour
(the peak hour included) makes it miss: it is minimal lane by lane, though not
necessarily the plan with the fewest lane-hours overall.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from g60rail.model.station.demand import day_passengers
from g60rail.model.station.kernel import next_open_table, security_fifo, step_integrate
from g60rail.model.station.los import LOS_LETTERS, los_level, max_queue_for
from g60rail.model.station.records import segment_wait_stats
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec

__all__ = ["LanePlan", "plan_security_lanes"]


@dataclass(frozen=True)
class LanePlan:
    """Security lanes per hour of day found by :func:`plan_security_lanes`.

    Attributes
    ----------
    day
        Calendar day planned for.
    target_p95_min
        Target for the hourly 95th-percentile security wait [min] (NaN: none).
    lanes
        Lanes open, index ``hour_of_day`` (0-23), one column per entrance plus ``total``.
    hourly
        One row per entrance and hour: ``lanes``, ``arrivals``, the achieved
        ``wait_p95_min`` (NaN without arrivals), the longest queue ``queue_max`` and its
        level of service ``los``.
    passengers
        Passengers of the day's departures.
    evaluations
        Exact queue evaluations the search used.
    """

    day: datetime.date
    target_p95_min: float
    lanes: pd.DataFrame
    hourly: pd.DataFrame
    passengers: int
    evaluations: int
    target_los: str | None = None

    def lanes_per_hour(self) -> dict[str, tuple[int, ...]]:
        """The plan as ``{entrance: 24 lane counts}``."""
        return {
            str(c): tuple(int(x) for x in self.lanes[c]) for c in self.lanes.columns if c != "total"
        }

    def apply(self, spec: StationSpec) -> StationSpec:
        """``spec`` with its security lanes replaced by this plan."""
        return spec.with_security_lanes(self.lanes_per_hour())

    def __str__(self) -> str:
        worst = self.hourly["wait_p95_min"].max()
        targets = []
        if self.target_p95_min == self.target_p95_min:
            targets.append(f"hourly p95 wait <= {self.target_p95_min:g} min")
        if self.target_los is not None:
            targets.append(f"queues at level of service {self.target_los} or better")
        worst_los = LOS_LETTERS[int(self.hourly["los_level"].max()) - 1]
        head = (
            f"Security lanes for {self.day.isoformat()}: {' and '.join(targets)} "
            f"(worst hour {worst:.2f} min, worst level {worst_los}), "
            f"{self.passengers:,} passengers, {int(self.lanes['total'].sum())} lane-hours"
        )
        table = self.lanes.T.to_string()
        return f"{head}\n{table}"


def _hour_groups(arrival_h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hours of day with arrivals (earliest first), a grouping order and group ranks.

    Returns ``hours``, ``perm`` (passenger indices grouped by hour, groups in ``hours``
    order, arrival order inside) and ``rank`` (group number of each ``perm`` entry).
    """
    hod = np.floor(arrival_h).astype(np.int64) % 24
    hours_seen, first = np.unique(hod, return_index=True)
    hours = hours_seen[np.argsort(first)]
    rank_of_hour = np.full(24, -1, dtype=np.int64)
    rank_of_hour[hours] = np.arange(hours.size)
    rank = rank_of_hour[hod]
    perm = np.argsort(rank, kind="stable")
    return hours, perm, rank[perm]


class _EntranceQueue:
    """One entrance's passengers of the day, evaluated exactly for a lane plan."""

    def __init__(self, arrival_h: np.ndarray, service_h: np.ndarray) -> None:
        self.arrival_h = arrival_h
        self.service_h = service_h
        self.hours, self.perm, self.rank = _hour_groups(arrival_h)
        self.counts = np.bincount(self.rank, minlength=self.hours.size)
        self.evaluations = 0

    def evaluate(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p95 wait [min] of each hour in ``self.hours`` (inf: never served) and the
        longest queue in each hour of the day (24 values) under ``lanes``."""
        self.evaluations += 1
        lanes = np.asarray(lanes, dtype=np.int64)
        free = np.full(int(lanes.max(initial=0)), -np.inf)
        start = security_fifo(
            self.arrival_h, self.service_h, lanes, next_open_table(lanes), 0.0, free
        )
        wait = (start - self.arrival_h) * 60.0
        out = np.full((self.hours.size, 5), np.nan)
        with np.errstate(invalid="ignore"):
            segment_wait_stats(self.rank, wait[self.perm], out)
        p95 = np.nan_to_num(out[:, 3], nan=np.inf)  # inf - inf inside: never served
        # queue length on slots of the day before, the day and the day after, folded
        waits = start > self.arrival_h
        ups = self.arrival_h[waits] + 24.0
        downs = np.sort(start[waits]) + 24.0
        if not np.isfinite(downs).all():
            return p95, np.full(24, np.inf)
        n = max(72, int(np.ceil(downs.max(initial=0.0))) + 1)
        q_sum, q_max = np.zeros(n), np.zeros(n)
        state = np.array([0.0, -np.inf, 0.0, 0.0])
        step_integrate(ups, downs, float(n), state, q_sum, q_max, np.inf)
        folded = np.zeros(24)
        np.maximum.at(folded, np.arange(n) % 24, q_max)
        return p95, folded

    def failing(self, lanes: np.ndarray, target: float, max_queue: float) -> np.ndarray:
        """Hours of the day (earliest arrival hour first) missing a target."""
        if self.arrival_h.size == 0:
            return np.empty(0, dtype=np.int64)
        p95, qmax = self.evaluate(lanes)
        bad = set(self.hours[p95 > target].tolist()) | set(
            np.flatnonzero(qmax > max_queue).tolist()
        )
        order = {int(h): r for r, h in enumerate(self.hours)}
        return np.array(sorted(bad, key=lambda h: order.get(h, 24 + h)), dtype=np.int64)


def _plan_entrance(
    q: _EntranceQueue,
    target: float,
    max_queue: float,
    min_lanes: np.ndarray,
    max_lanes: int,
    name: str,
) -> np.ndarray:
    """Forward pass, repair, pruning (see the module docstring)."""
    lanes = min_lanes.copy()
    what = _targets_text(target, max_queue)
    rank_of = {int(h): r for r, h in enumerate(q.hours)}
    guess = 1
    for r, h in enumerate(q.hours.tolist()):
        trial = lanes.copy()
        later = q.hours[r + 1 :]
        trial[later] = max_lanes

        def ok(x: int, trial: np.ndarray = trial, r: int = r, h: int = h) -> bool:
            trial[h] = x
            p95, qmax = q.evaluate(trial)
            return bool(p95[r] <= target and qmax[h] <= max_queue)

        x = int(np.clip(guess, min_lanes[h], max_lanes))
        if ok(x):
            while x > min_lanes[h] and ok(x - 1):
                x -= 1
        else:
            while x < max_lanes and not ok(x + 1):
                x += 1
            x += 1
            if x > max_lanes:
                raise ValueError(
                    f"entrance {name!r}: hour {h} cannot meet {what} with up to {max_lanes} lanes"
                )
        lanes[h] = x
        guess = max(x, 1)
    while True:  # repair
        bad = q.failing(lanes, target, max_queue)
        if bad.size == 0:
            break
        h = next((int(x) for x in bad if lanes[x] < max_lanes), None)
        if h is None:
            raise ValueError(
                f"entrance {name!r}: hour {int(bad[0])} cannot meet {what} with up to "
                f"{max_lanes} lanes"
            )
        lanes[h] += 1
    changed = True
    while changed:  # pruning
        changed = False
        for h in sorted(range(24), key=lambda h: rank_of.get(h, 24 + h)):
            if lanes[h] > min_lanes[h]:
                lanes[h] -= 1
                if lanes.max() > 0 and q.failing(lanes, target, max_queue).size == 0:
                    changed = True
                else:
                    lanes[h] += 1
    if lanes.max() == 0:  # no passengers at all: one lane in the first hour of the day
        lanes[int(q.hours[0]) if q.hours.size else 0] = 1
    return lanes


def _targets_text(target: float, max_queue: float) -> str:
    parts = []
    if np.isfinite(target):
        parts.append(f"a p95 wait of {target:g} min")
    if np.isfinite(max_queue):
        parts.append(f"a queue of at most {max_queue:g}")
    return " and ".join(parts)


def plan_security_lanes(
    spec: StationSpec,
    *,
    day: datetime.date | int,
    target_p95_min: float | None = None,
    target_los: str | None = None,
    seed: int | Streams = 0,
    start: datetime.date | None = None,
    min_lanes: int | Sequence[int] = 0,
    max_lanes: int = 100,
) -> LanePlan:
    """Find the fewest security lanes per hour meeting wait and crowding targets on one day.

    Parameters
    ----------
    spec
        The station; its current lanes are ignored.
    day
        Calendar day, or a number of days after ``start``.
    target_p95_min
        Target for every hour's 95th-percentile security wait [min].
    target_los
        Fruin level of service (``"A"`` ... ``"F"``) every entrance's queue must keep in
        every hour on its ``queue_area_m2``.  At least one target is needed.
    seed
        Seed (or the :class:`~g60rail.random.Streams` whose seed is used) of the day's
        passengers: they are those of ``simulate_station(..., streams=Streams(seed))``
        on that day.
    start
        Day 0 when ``day`` is an integer.
    min_lanes
        Lanes that stay open anyway, one number or 24 (per hour of day).
    max_lanes
        Most lanes an entrance may open in one hour.

    Returns
    -------
    LanePlan
        The plan, its achieved hourly p95 waits and queues, and a printable summary.
    """
    if target_p95_min is None and target_los is None:
        raise ValueError("give target_p95_min, target_los or both")
    if target_p95_min is not None and not target_p95_min > 0:
        raise ValueError(f"target_p95_min must be positive, got {target_p95_min!r}")
    target = np.inf if target_p95_min is None else float(target_p95_min)
    if target_los is not None:
        max_queue_for(1.0, target_los)  # validates the letter
        target_los = target_los.upper()
    if isinstance(day, datetime.datetime):
        day = day.date()
    if isinstance(day, int):
        if start is None:
            raise ValueError("give start when day is a number of days")
        day = start + datetime.timedelta(days=day)
    floor = np.broadcast_to(np.asarray(min_lanes, dtype=np.int64), (24,)).copy()
    if (floor < 0).any() or (floor > max_lanes).any():
        raise ValueError("min_lanes must lie in [0, max_lanes]")
    seed_int = seed.seed if isinstance(seed, Streams) else int(seed)
    d = day_passengers(spec, day, day_start_h=0.0, horizon_h=24.0, streams=Streams(seed_int))
    plans: dict[str, np.ndarray] = {}
    rows: list[dict[str, object]] = []
    evaluations = 0
    for e, ent in enumerate(spec.entrances):
        q = _EntranceQueue(d.arrival_h[e], d.service_h[e])
        max_queue = float(max_queue_for(ent.queue_area_m2, target_los)) if target_los else np.inf
        lanes = _plan_entrance(q, target, max_queue, floor, max_lanes, ent.name)
        plans[ent.name] = lanes
        p95_h, qmax = q.evaluate(lanes)
        p95 = dict(zip(q.hours.tolist(), p95_h.tolist(), strict=True))
        level = los_level(ent.queue_area_m2, qmax)
        evaluations += q.evaluations
        counts = dict(zip(q.hours.tolist(), q.counts.tolist(), strict=True))
        rows.extend(
            {
                "entrance": ent.name,
                "hour_of_day": h,
                "lanes": int(lanes[h]),
                "arrivals": counts.get(h, 0),
                "wait_p95_min": p95.get(h, np.nan),
                "queue_max": int(qmax[h]),
                "los": LOS_LETTERS[int(level[h]) - 1],
                "los_level": int(level[h]),
            }
            for h in range(24)
        )
    table = pd.DataFrame(plans, index=pd.RangeIndex(24, name="hour_of_day"))
    table["total"] = table.sum(axis=1)
    return LanePlan(
        day=day,
        target_p95_min=float(target_p95_min) if target_p95_min is not None else float("nan"),
        lanes=table,
        hourly=pd.DataFrame(rows),
        passengers=d.size,
        evaluations=evaluations,
        target_los=target_los,
    )
