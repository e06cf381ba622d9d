"""Per-passenger SimPy reference of the station model (tests and benchmark only).

One SimPy process per passenger walks through the same stages as
:mod:`g60rail.model.station.simulate`, literally, event by event:

* **security**: the FIFO queue of its entrance's lanes (lanes ``0 .. c-1`` open while ``c``
  are staffed; a lane that closes finishes its passenger; whenever the head of a queue
  waits and an open lane is idle, the head starts on the lowest-numbered such lane);
* **walk** to the gates, then either a miss before the gate (the gates of its train have
  closed) or the queue of the train's gate group from the opening;
* **gate group**: one server; whenever it is idle it takes, among the waiting passengers
  whose gate can still be passed in time (``now + s <= close``), the one of the earliest
  departure, then the earliest at the gate area, then the lowest passenger number; at
  closing, whoever still waits for that departure misses it;
* **rebooking desk**: misses of one instant are handled in passenger order: a passenger
  not rebooked yet gets the first later departure of the day to the same destination whose
  gates close at or after ``now + delay`` and that has a seat left, and comes back to the
  gate area at ``now + delay``; otherwise the passenger is stranded;
* **exit gates**: a ``simpy.Resource`` of identical gates (FIFO).

Events are scheduled at absolute times (:func:`at`), not as ``now + delay``, so every time
is computed with the same floating-point operations as in the fast path and the two agree
to the last digit.  Priorities at one instant: passenger events, then gate closings, then
the rebooking desk, then lane and gate assignment (a lane or gate freed at that instant
counts as idle; a passenger joining at that instant counts as waiting).
"""

from __future__ import annotations

import datetime
import heapq
import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from g60rail.model.station.demand import alighting_times, day_passengers
from g60rail.model.station.kernel import slot_start_h
from g60rail.random import Streams
from g60rail.scenario.station_spec import StationSpec

_CLOSE = 2  # after simpy's URGENT (0) and NORMAL (1)
_DESK = 3
_ASSIGN = 4


def at(env: simpy.Environment, t: float, priority: int = 1) -> simpy.Event:
    """An event that fires exactly at time ``t`` (not ``now + (t - now)``)."""
    ev = simpy.Event(env)
    ev._ok = True
    ev._value = None
    heapq.heappush(env._queue, (t, priority, next(env._eid), ev))  # type: ignore[attr-defined]
    return ev


def _call_at(env: simpy.Environment, t: float, priority: int, fn: Callable[[], None]) -> None:
    ev = at(env, t, priority)
    ev.callbacks.append(lambda _ev: fn())  # type: ignore[union-attr]


@dataclass
class ReferenceResult:
    """Per-passenger outcome, in input order (NaN where a stage was not reached).

    ``status``: 1 boarded the own train, 2 missed it at the gate, 3 missed it before the
    gate; ``status2`` the same for the rebooked train (0: none).
    """

    start_h: np.ndarray
    exit_h: np.ndarray
    status: np.ndarray
    gate_arrival_h: np.ndarray
    gate_pass_h: np.ndarray
    rebooked_departure: np.ndarray
    status2: np.ndarray
    gate_arrival2_h: np.ndarray
    gate_pass2_h: np.ndarray
    leave_h: np.ndarray
    exit_start_h: np.ndarray

    @property
    def hall_max(self) -> int:
        """Most passengers in the hall at once (leaving first at equal times)."""
        up = self.exit_h[np.isfinite(self.leave_h)]
        down = self.leave_h[np.isfinite(self.leave_h)]
        times = np.concatenate((down, up))
        steps = np.concatenate((-np.ones(down.size), np.ones(up.size)))
        order = np.lexsort((steps, times))
        return int(np.cumsum(steps[order]).max(initial=0))


class _Entrance:
    def __init__(self, env: simpy.Environment, lanes_by_hour: Sequence[int]) -> None:
        self.env = env
        self.lanes = list(lanes_by_hour)
        self.idle = [True] * max(self.lanes)
        self.open = 0
        self.queue: deque[tuple[int, simpy.Event]] = deque()
        self.pending = False

    def request_dispatch(self) -> None:
        if not self.pending:
            self.pending = True
            _call_at(self.env, self.env.now, _ASSIGN, self._dispatch)

    def _dispatch(self) -> None:
        self.pending = False
        while self.queue:
            lane = next((k for k in range(self.open) if self.idle[k]), None)
            if lane is None:
                return
            _, ev = self.queue.popleft()
            self.idle[lane] = False
            ev.succeed(lane)


class _Gate:
    """One gate group: a single server with the departure-first discipline.

    The waiting passengers are kept in one heap per departure, keyed by (reach, pid);
    a group has one or two departures boarding at a time, so the dispatcher looks at a
    few heads only.
    """

    def __init__(self, env: simpy.Environment, s: float, close: np.ndarray) -> None:
        self.env = env
        self.s = s
        self.close = close
        self.busy = False
        self.waiting: dict[int, list[tuple[float, int, simpy.Event]]] = {}
        self.pending = False

    def join(self, dep: int, reach: float, pid: int, ev: simpy.Event) -> None:
        heapq.heappush(self.waiting.setdefault(dep, []), (reach, pid, ev))
        self.request_dispatch()

    def request_dispatch(self) -> None:
        if not self.pending:
            self.pending = True
            _call_at(self.env, self.env.now, _ASSIGN, self._dispatch)

    def _dispatch(self) -> None:
        self.pending = False
        if self.busy:
            return
        now = self.env.now
        for dep in sorted(self.waiting):  # earliest departure first
            heap = self.waiting[dep]
            if heap and now + self.s <= self.close[dep]:
                _, _, ev = heapq.heappop(heap)
                self.busy = True
                ev.succeed(now + self.s)
                return

    def done(self) -> None:
        self.busy = False
        self.request_dispatch()

    def close_departure(self, dep: int) -> list[tuple[float, int, simpy.Event]]:
        return sorted(self.waiting.pop(dep, []))


def reference_station(
    arrival_h: np.ndarray,
    service_h: np.ndarray,
    entrance: np.ndarray,
    lanes_by_entrance: Sequence[Sequence[int]],
    hour_offset: float,
    *,
    departure: np.ndarray | None = None,
    dep_time_h: np.ndarray | None = None,
    dep_group: np.ndarray | None = None,
    dep_next: np.ndarray | None = None,
    dep_capacity: np.ndarray | None = None,
    dep_booked: np.ndarray | None = None,
    walk_h: float = 0.0,
    open_h: float = 1.0,
    close_h: float = 0.0,
    gate_service_h: float = 0.0,
    delay_h: float = 0.0,
    exit_reach_h: np.ndarray | None = None,
    exit_gates: int = 1,
    exit_service_h: float = 0.0,
) -> ReferenceResult:
    """Simulate passengers one SimPy process each (passenger ``i`` has number ``i``).

    Passengers arriving at the same instant join the queue in input order.  Without
    ``departure`` only security is simulated (gate times are NaN).
    """
    n = arrival_h.size
    t0 = float(np.min(arrival_h)) if n else 0.0
    env = simpy.Environment(initial_time=t0)
    ents = [_Entrance(env, lanes) for lanes in lanes_by_entrance]
    nan = np.full(n, np.nan)
    res = ReferenceResult(
        start_h=nan.copy(),
        exit_h=nan.copy(),
        status=np.zeros(n, np.int8),
        gate_arrival_h=nan.copy(),
        gate_pass_h=nan.copy(),
        rebooked_departure=np.full(n, -1, np.int64),
        status2=np.zeros(n, np.int8),
        gate_arrival2_h=nan.copy(),
        gate_pass2_h=nan.copy(),
        leave_h=nan.copy(),
        exit_start_h=np.full(0 if exit_reach_h is None else exit_reach_h.size, np.nan),
    )
    gates: dict[int, _Gate] = {}
    n_x = 0 if exit_reach_h is None else exit_reach_h.size
    remaining = [n + n_x]
    done = env.event()

    def finish() -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done.succeed()

    desk: list[tuple[int, Callable[[int], None]]] = []  # (pid, continuation(new dep or -1))
    desk_pending = [False]
    booked = None if dep_booked is None else np.array(dep_booked, dtype=np.int64)
    close = None if dep_time_h is None else dep_time_h - close_h

    def lanes_process(e: _Entrance) -> Generator[simpy.Event, object, None]:
        m = math.floor(t0 + hour_offset)
        if t0 < slot_start_h(m, hour_offset):
            m -= 1
        while True:
            e.open = e.lanes[m % 24]
            e.request_dispatch()
            m += 1
            yield at(env, slot_start_h(m, hour_offset))

    def run_desk() -> None:
        desk_pending[0] = False
        assert booked is not None and close is not None and dep_next is not None
        for _, cont in sorted(desk, key=lambda x: x[0]):
            cont(-2)  # each continuation looks for its own seat, in passenger order
        desk.clear()

    def to_desk(pid: int, cont: Callable[[int], None]) -> None:
        desk.append((pid, cont))
        if not desk_pending[0]:
            desk_pending[0] = True
            _call_at(env, env.now, _DESK, run_desk)

    def close_process(d: int, t: float) -> Generator[simpy.Event, object, None]:
        yield at(env, t, _CLOSE)
        g = gates.get(int(dep_group[d]))  # type: ignore[index]
        if g is not None:
            for w in g.close_departure(d):
                w[2].succeed(-1.0)  # missed at the gate

    def gate_queue(i: int, d: int, reach: float) -> Generator[simpy.Event, object, float]:
        """Queue at departure ``d``'s gate from ``max(reach, open)``; pass time or -1."""
        o = float(dep_time_h[d]) - open_h  # type: ignore[index]
        if env.now < o:
            yield at(env, o)
        g = gates.setdefault(int(dep_group[d]), _Gate(env, gate_service_h, close))  # type: ignore[index,arg-type]
        ev = env.event()
        g.join(d, reach, i, ev)
        p = yield ev
        if p < 0:  # type: ignore[operator]
            return -1.0
        yield at(env, p)  # type: ignore[arg-type]
        g.done()
        return float(p)  # type: ignore[arg-type]

    def attempt(i: int) -> Generator[simpy.Event, object, int]:
        """Rebooking of passenger ``i`` at the desk now: new departure or -1."""
        ev = env.event()
        now = env.now

        def cont(_: int) -> None:
            d = int(dep_next[int(departure[i])])  # type: ignore[index]
            while d >= 0:
                if close[d] >= now + delay_h and booked[d] < dep_capacity[d]:  # type: ignore[index]
                    break
                d = int(dep_next[d])  # type: ignore[index]
            if d >= 0:
                booked[d] += 1  # type: ignore[index]
            ev.succeed(d)

        to_desk(i, cont)
        d_new = yield ev
        return int(d_new)  # type: ignore[call-overload]

    def passenger(i: int) -> Generator[simpy.Event, object, None]:
        yield from stages(i)
        finish()

    def stages(i: int) -> Generator[simpy.Event, object, None]:
        yield at(env, float(arrival_h[i]))
        e = ents[int(entrance[i])]
        my_turn = env.event()
        e.queue.append((i, my_turn))
        e.request_dispatch()
        lane = yield my_turn
        s = env.now
        res.start_h[i] = s
        yield at(env, s + float(service_h[i]))
        e.idle[int(lane)] = True  # type: ignore[call-overload]
        e.request_dispatch()
        x = env.now
        res.exit_h[i] = x
        if departure is None:
            return
        reach = x + walk_h
        yield at(env, reach)
        d = int(departure[i])
        o = float(dep_time_h[d]) - open_h  # type: ignore[index]
        if reach > close[d]:  # type: ignore[index]
            res.status[i] = 3
        else:
            res.gate_arrival_h[i] = reach if reach > o else o
            p = yield env.process(gate_queue(i, d, reach))
            if p >= 0:  # type: ignore[operator]
                res.status[i] = 1
                res.gate_pass_h[i] = p
                res.leave_h[i] = p
                return
            res.status[i] = 2
        d2 = yield env.process(attempt(i))
        if d2 < 0:  # type: ignore[operator]
            res.leave_h[i] = env.now
            return
        res.rebooked_departure[i] = d2
        reach2 = env.now + delay_h
        yield at(env, reach2)
        o2 = float(dep_time_h[d2]) - open_h  # type: ignore[index]
        res.gate_arrival2_h[i] = reach2 if reach2 > o2 else o2
        p2 = yield env.process(gate_queue(i, int(d2), reach2))  # type: ignore[call-overload]
        if p2 >= 0:  # type: ignore[operator]
            res.status2[i] = 1
            res.gate_pass2_h[i] = p2
            res.leave_h[i] = p2
        else:
            res.status2[i] = 2
            res.leave_h[i] = env.now

    def alighting(
        j: int, t: float, gates_x: simpy.Resource
    ) -> Generator[simpy.Event, object, None]:
        yield at(env, t)
        with gates_x.request() as req:
            yield req
            res.exit_start_h[j] = env.now
            yield at(env, env.now + exit_service_h)
        finish()

    for e in ents:
        env.process(lanes_process(e))
    if departure is not None and dep_time_h is not None:
        for d in range(dep_time_h.size):
            env.process(close_process(d, float(close[d])))  # type: ignore[index]
    for i in range(n):
        env.process(passenger(i))
    if exit_reach_h is not None and exit_reach_h.size:
        gx = simpy.Resource(env, capacity=exit_gates)
        for j, t in enumerate(exit_reach_h.tolist()):
            env.process(alighting(j, t, gx))
    if n + n_x:
        env.run(until=done)
    return res


def reference_day(
    spec: StationSpec, day: datetime.date, seed: int
) -> tuple[ReferenceResult, dict[str, np.ndarray]]:
    """Run the reference on the sampled passengers of one day's departures.

    The inputs are those of ``simulate_station(spec, start=<midnight of day>, days=1,
    streams=Streams(seed))``.  Returns the result (in passenger order) and the inputs
    (``pid``, ``arrival_h``, ``service_h``, ``entrance``, ``departure`` and ``exit_reach_h``).
    """
    d = day_passengers(spec, day, day_start_h=0.0, horizon_h=24.0, streams=Streams(seed))
    p = d.in_generation_order()
    x = spec.exits
    p["exit_reach_h"] = (
        alighting_times(d, x.walk_min / 60.0, x.platform_clear_min / 60.0)
        if x is not None
        else np.empty(0)
    )
    res = reference_station(
        p["arrival_h"],
        p["service_h"],
        p["entrance"],
        [e.security_lanes_per_hour for e in spec.entrances],
        0.0,
        departure=p["departure"],
        dep_time_h=d.dep_time_h,
        dep_group=d.dep_gate,
        dep_next=d.dep_next,
        dep_capacity=d.dep_capacity,
        dep_booked=d.dep_passengers,
        walk_h=spec.walk_to_gate_min / 60.0,
        open_h=spec.gates.open_min_before_departure / 60.0,
        close_h=spec.gates.close_min_before_departure / 60.0,
        gate_service_h=1.0 / (60.0 * spec.gates.passengers_per_min),
        delay_h=spec.rebooking.delay_min / 60.0,
        exit_reach_h=p["exit_reach_h"],
        exit_gates=x.gates if x is not None else 1,
        exit_service_h=1.0 / (60.0 * x.passengers_per_min) if x is not None else 0.0,
    )
    return res, p


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
        "arrival_lead_floor_min": 6.0,
        "late_arrival_share": 0.02,
        "hall_capacity_pax": 400,
        "walk_to_gate_min": 2.0,
        "gates": {
            "groups": 3,
            "passengers_per_min": 15.0,
            "open_min_before_departure": 20.0,
            "close_min_before_departure": 5.0,
        },
        "rebooking": {"delay_min": 4.0},
        "exits": {"gates": 4, "passengers_per_min": 20.0},
    }
    data.update(changes)
    return data
