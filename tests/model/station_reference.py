"""Per-passenger SimPy reference of the station model (tests and benchmark only).

One SimPy process per passenger walks through the same stages as
:mod:`g60rail.model.station.simulate`: arrival, the FIFO queue of its entrance's security lanes,
screening, the walk to the gates, then either "missed" (the gates closed) or the hall
until the gates open and the FIFO queue of the train's gate group.

It implements the lane semantics of :mod:`g60rail.model.station.kernel` literally, event by
event: lanes ``0 .. c-1`` are open while ``c`` lanes are staffed; a lane that closes
finishes its passenger; whenever the head of a queue waits and an open lane is idle, the
head starts on the lowest-numbered such lane.  Lane assignment runs after all other events
of the same instant (a lower scheduling priority), so a lane finishing at that instant
counts as idle, as in the recursion.
"""

from __future__ import annotations

import datetime
import math
from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from g60rail.model.station.demand import day_passengers
from g60rail.model.station.kernel import slot_start_h
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec

_LATE = 2  # scheduling priority after simpy's URGENT (0) and NORMAL (1)


@dataclass
class ReferenceResult:
    """Per-passenger outcome, in input order; gate times are NaN for missed passengers."""

    start_h: np.ndarray
    exit_h: np.ndarray
    missed: np.ndarray
    gate_pass_h: np.ndarray
    hall_max: int


class _Entrance:
    def __init__(self, env: simpy.Environment, lanes_by_hour: Sequence[int]) -> None:
        self.env = env
        self.lanes = list(lanes_by_hour)
        self.idle = [True] * max(self.lanes)
        self.open = 0
        self.queue: deque[tuple[int, simpy.Event]] = deque()
        self.pending = False

    def request_dispatch(self) -> None:
        if self.pending:
            return
        self.pending = True
        ev = simpy.Event(self.env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(self._dispatch)
        self.env.schedule(ev, priority=_LATE)

    def _dispatch(self, _ev: simpy.Event) -> None:
        self.pending = False
        while self.queue:
            lane = next((k for k in range(self.open) if self.idle[k]), None)
            if lane is None:
                return
            _, ev = self.queue.popleft()
            self.idle[lane] = False
            ev.succeed(lane)


def reference_station(
    arrival_h: np.ndarray,
    service_h: np.ndarray,
    entrance: np.ndarray,
    lanes_by_entrance: Sequence[Sequence[int]],
    hour_offset: float,
    *,
    departure_h: np.ndarray | None = None,
    gate_group: np.ndarray | None = None,
    walk_h: float = 0.0,
    open_h: float = 1.0,
    close_h: float = 0.0,
    gate_service_h: float = 0.0,
) -> ReferenceResult:
    """Simulate passengers one SimPy process each.

    Passengers arriving at the same instant join the queue in input order.  Without
    ``departure_h`` only security is simulated (nobody misses, gate times are NaN).
    """
    n = arrival_h.size
    t0 = float(np.min(arrival_h)) if n else 0.0
    env = simpy.Environment(initial_time=t0)
    ents = [_Entrance(env, lanes) for lanes in lanes_by_entrance]
    start = np.full(n, np.nan)
    exit_ = np.full(n, np.nan)
    missed = np.zeros(n, dtype=bool)
    gate_pass = np.full(n, np.nan)
    remaining = [n]
    done = env.event()
    hall = [0, 0]  # current, max
    gates: dict[int, simpy.Resource] = {}
    openings: dict[float, simpy.Event] = {}

    def lanes_process(e: _Entrance) -> Generator[simpy.Event, object, None]:
        m = math.floor(t0 + hour_offset)
        if t0 < slot_start_h(m, hour_offset):
            m -= 1
        while True:
            e.open = e.lanes[m % 24]
            e.request_dispatch()
            m += 1
            yield env.timeout(slot_start_h(m, hour_offset) - env.now)

    def opening(t_open: float) -> simpy.Event:
        ev = openings.get(t_open)
        if ev is None:
            ev = env.timeout(t_open - env.now)
            openings[t_open] = ev
        return ev

    def finish() -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done.succeed()

    def passenger(i: int) -> Generator[simpy.Event, object, None]:
        yield env.timeout(arrival_h[i] - env.now)
        e = ents[int(entrance[i])]
        my_turn = env.event()
        e.queue.append((i, my_turn))
        e.request_dispatch()
        lane = yield my_turn
        start[i] = env.now
        yield env.timeout(service_h[i])
        e.idle[int(lane)] = True  # type: ignore[call-overload]
        e.request_dispatch()
        exit_[i] = env.now
        if departure_h is None or gate_group is None:
            finish()
            return
        hall[0] += 1
        hall[1] = max(hall[1], hall[0])
        yield env.timeout(walk_h)
        dep = float(departure_h[i])
        if env.now > dep - close_h:
            missed[i] = True
            hall[0] -= 1
            finish()
            return
        t_open = dep - open_h
        if env.now < t_open:
            yield opening(t_open)
        gate = gates.setdefault(int(gate_group[i]), simpy.Resource(env, capacity=1))
        with gate.request() as req:
            yield req
            yield env.timeout(gate_service_h)
        gate_pass[i] = env.now
        hall[0] -= 1
        finish()

    for e in ents:
        env.process(lanes_process(e))
    for i in range(n):
        env.process(passenger(i))
    if n:
        env.run(until=done)
    return ReferenceResult(start, exit_, missed, gate_pass, hall[1])


def reference_day(
    spec: StationSpec, day: datetime.date, seed: int
) -> tuple[ReferenceResult, np.ndarray]:
    """Run the reference on the sampled passengers of one day's departures.

    The inputs are those of ``simulate_station(spec, start=<midnight of day>, days=1,
    streams=Streams(seed))``.  Returns the result (in generation order) and the arrival
    times [h].
    """
    d = day_passengers(spec, day, day_start_h=0.0, horizon_h=24.0, streams=Streams(seed))
    res = reference_station(
        d.arrival_h,
        d.service_h,
        d.entrance,
        [e.security_lanes_per_hour for e in spec.entrances],
        0.0,
        departure_h=d.dep_time_h[d.departure],
        gate_group=d.dep_gate[d.departure],
        walk_h=spec.walk_to_gate_min / 60.0,
        open_h=spec.gates.open_min_before_departure / 60.0,
        close_h=spec.gates.close_min_before_departure / 60.0,
        gate_service_h=1.0 / (60.0 * spec.gates.passengers_per_min),
    )
    return res, d.arrival_h


def small_station(**changes: object) -> dict[str, object]:
    """A small two-entrance station as a scenario mapping (a few thousand passengers a day)."""
    data: dict[str, object] = {
        "services": [
            {
                "destination": "Hangzhou East",
                "train_type": "hsr",
                "departures_per_day": 12,
                "first_departure_h": 6.5,
                "last_departure_h": 21.5,
                "seats": 576,
                "load_factor": 0.4,
            },
            {
                "destination": "Kunming",
                "train_type": "conventional",
                "departures_per_day": 3,
                "departure_times_h": [0.5, 12.25, 23.5],
                "seats": 1100,
                "load_factor": 0.3,
                "max_load_factor": 1.2,
            },
        ],
        "entrances": [
            {
                "name": "north",
                "share": 0.6,
                "security_lanes_per_hour": [1] * 5 + [2] * 2 + [3] * 12 + [2] * 3 + [1] * 2,
            },
            {
                "name": "south",
                "share": 0.4,
                "security_lanes_per_hour": [0] * 6 + [2] * 14 + [1] * 4,
            },
        ],
        "security": {"service_time_s": {"dist": "lognormal", "mean": 12.0, "cv": 0.6}},
        "hall_capacity_pax": 400,
        "walk_to_gate_min": 2.0,
        "gates": {
            "groups": 3,
            "passengers_per_min": 15.0,
            "open_min_before_departure": 20.0,
            "close_min_before_departure": 5.0,
        },
    }
    data.update(changes)
    return data
