"""A rail container hub: truck gate, yard, reach stackers and loading tracks.

The Songjiang International Multimodal Logistics Hub is one; the Kunming and Vientiane
terminals are built from the same parts with their own capacities.

Rules
-----
* The yard's capacity limits what trucks may bring in: a truck whose boxes do not fit
  gives its gate lane back and waits before the gate until they do (first come first
  served), so a full yard builds a queue at the gate while trucks collecting boxes, which
  free space, still pass.  Boxes unloaded from
  trains are always accepted (the terminal never refuses a train), so the yard can run
  over capacity only through rail arrivals, and nothing is ever dropped.
* Every truck passes the gate twice, in and out, on the same lanes, first come first
  served.  The gate is open daily in local hours (``gate_hours``): a truck that comes while
  it is closed, or that would not be processed by closing, waits for the next opening,
  coming in and going out.  A truck's turnaround runs from its arrival at the gate to the
  end of its out-gate pass.  With a truck arrival profile (local hour of day) consignees'
  trucks come at its hours too (:meth:`Hub.pickup_delay_h`); delivering trucks are shaped
  by the demand (:mod:`g60rail.model.demand`).
* A departure's cut-off (``cutoff_h`` before its timetabled time): boxes whose truck
  passed the in-gate later stay in the yard for the next train of their service
  (:meth:`~g60rail.model.service_queue.ServiceQueue.first_ready`); those that came to the
  gate in time but were held up there are counted (``ServiceQueue.missed_cutoff_teu``).
* Reach stackers serve train work before truck work (priority; ``stacker_priority =
  "trains_first"``), each move taking ``1 / moves_per_h`` hours on average: trains run to
  a timetable, so terminals handle their boxes first and trucks wait (the rule of
  landside terminals analysed by Roy, van Ommeren, de Koster and Gharehgozli, "Modeling
  landside container terminal queues", Transportation Research Part B 162, 2022,
  73-102).  One stacker unloads a whole truck.
  So a shortage of stackers is felt first by the trucks (their turnaround): trains are
  still loaded within their window and leave on time, and boxes' dwell until their train
  grows only once a train can no longer be loaded before it leaves.  With
  ``stacker_priority = "fcfs"`` every move is served in the order asked for: trucks then
  hold up loading, and a train that leaves at its time leaves the boxes not yet moved for
  the next one.
* A train holds a loading track from placement until it leaves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, cast

import simpy

from g60rail.model.daily import DailyWindow, HourProfile
from g60rail.model.engine import Wake
from g60rail.model.gate import Gate
from g60rail.model.probes import BusyTime, LevelProbe, Tally
from g60rail.model.servers import LoadingTracks, Servers, TrackHold
from g60rail.model.service_queue import ServiceQueue
from g60rail.random import Constant, Gamma, Sampler, Streams, UniformBuffer

if TYPE_CHECKING:
    from g60rail.model.cargo import Container
    from g60rail.scenario.schema import HubSpec

__all__ = ["Hub", "LoadingTracks", "ReachStackers", "ServiceQueue", "TrackHold", "Yard"]


class Yard:
    """Container stacks with a TEU capacity for truck admissions.

    Parameters
    ----------
    env
        The SimPy environment.
    capacity_teu
        Space for trucks to drop boxes, TEU.
    horizon_h
        Run length for the occupancy probe, hours.
    warmup_h
        Dwell is recorded for boxes created at or after this time, hours.
    """

    def __init__(
        self, env: simpy.Environment, capacity_teu: int, horizon_h: float, warmup_h: float = 0.0
    ) -> None:
        self.env = env
        self.capacity_teu = capacity_teu
        self.warmup_h = warmup_h
        self.teu_handled = 0
        """TEU that entered the yard (by truck or off a train) after the warm-up."""
        self.level_teu = 0
        self._waiting: deque[tuple[int, simpy.Event]] = deque()
        self.occupancy = LevelProbe(horizon_h)
        self.dwell_to_train_h = Tally()
        self.dwell_to_road_h = Tally()

    @property
    def dwell_h(self) -> Tally:
        """Dwell of every box that left the yard, hours (by train and by road)."""
        return self.dwell_to_train_h.merged(self.dwell_to_road_h)

    def admit(self, teu: int) -> simpy.Event | None:
        """Reserve space for ``teu``: ``None`` if it fits now, else an event that fires
        (in arrival order) once it does."""
        if not self._waiting and self.level_teu + teu <= self.capacity_teu:
            self._enter(teu)
            return None
        ev = self.env.event()
        self._waiting.append((teu, ev))
        return ev

    def add(self, teu: int) -> None:
        """Put boxes from a train in the yard, regardless of capacity."""
        self._enter(teu)

    def remove(self, box: Container, by_train: bool) -> None:
        """Take a box out of the yard and record its dwell.

        Parameters
        ----------
        box
            The box leaving.
        by_train
            True when it leaves on a train, False by road (consignee or onward truck).
        """
        now = self.env.now
        level = self.level_teu = self.level_teu - box.teu
        self.occupancy.set(now, level)
        if box.t_created >= self.warmup_h:
            (self.dwell_to_train_h if by_train else self.dwell_to_road_h).add(now - box.t_yard_in)
        while self._waiting and self.level_teu + self._waiting[0][0] <= self.capacity_teu:
            teu, ev = self._waiting.popleft()
            self._enter(teu)
            ev.succeed()

    def _enter(self, teu: int) -> None:
        now = self.env.now
        level = self.level_teu = self.level_teu + teu
        self.occupancy.set(now, level)
        if now >= self.warmup_h:
            self.teu_handled += teu


class ReachStackers:
    """A pool of reach stackers that move boxes between trains, trucks and stacks.

    Parameters
    ----------
    env
        The SimPy environment.
    count
        Reach stackers.
    moves_per_h
        Moves an hour per stacker.
    cv
        Coefficient of variation of a move's duration.
    sampler
        Draws a move's duration, hours.
    trains_first
        Train work goes before truck work (else both in the order asked for).
    warmup_h
        Their busy time counts from this time on, hours (:attr:`busy_time`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        count: int,
        moves_per_h: float,
        cv: float,
        sampler: Sampler,
        trains_first: bool = True,
        warmup_h: float = 0.0,
    ) -> None:
        self.env = env
        self.count = count
        self.pool = Servers(env, count)
        self._move_h = sampler
        self.busy_time = BusyTime(warmup_h)
        """Stacker-hours of moves after the warm-up."""
        self.moves = 0
        self.train_work = 0
        """Priority of a move for a train (lower goes first)."""
        self.truck_work = 1 if trains_first else 0
        """Priority of a move for a truck."""

    @staticmethod
    def move_distribution(moves_per_h: float, cv: float) -> Constant | Gamma:
        """Duration of one move: constant ``1/moves_per_h`` or gamma with that mean."""
        mean = 1.0 / moves_per_h
        return Constant(value=mean) if cv == 0 else Gamma(dist="gamma", mean=mean, cv=cv)

    def move_h(self) -> float:
        """Draw the duration of one move and count it as work, hours."""
        d = self._move_h()
        self.busy_time.add(self.env.now, d)
        self.moves += 1
        return d

    def move(self, priority: int) -> Generator:
        """Wait for a stacker and perform one move."""
        grant = self.pool.acquire(priority)
        if grant is not None:
            yield grant
        yield self.env.timeout(self.move_h())
        self.pool.release()

    def lift(self, priority: int, n: int, done: Callable[[list[float]], None]) -> None:
        """One stacker, once granted, makes ``n`` moves one after the other; then
        ``done`` is called with the end time of each move, hours.

        Event-driven (no process): one timeout for the moves together.
        """
        lift = _Lift(self, n, done)
        if self.pool.take():
            lift.granted()
        else:
            self.pool.wait(lift.granted, priority)


class Hub:
    """Gate, yard, reach stackers and loading tracks of one terminal.

    Parameters
    ----------
    env
        The SimPy environment.
    spec
        Capacities and service times.
    streams
        The run's random streams; this hub draws from ``hub.<place>.gate``,
        ``hub.<place>.gate_out``, ``hub.<place>.stackers``, ``hub.<place>.shunt`` and,
        with a truck arrival profile, ``hub.<place>.pickup``.
    horizon_h
        Run length, hours.
    warmup_h
        Yard dwell and truck turnaround count boxes created at or after this time, hours;
        the utilisations and waits of the gate, stackers and tracks count from it.
    day0_h
        Local hour of day at the hub at simulation time 0 (for the gate's hours).
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: HubSpec,
        streams: Streams,
        horizon_h: float,
        warmup_h: float = 0.0,
        day0_h: float = 0.0,
    ):
        self.env = env
        self.spec = spec
        self.place = spec.place
        prefix = f"hub.{spec.place}"
        self.gate = Gate(
            env,
            spec.gate_lanes,
            streams.sampler(f"{prefix}.gate", spec.gate_time_h),
            horizon_h,
            DailyWindow.of(spec.gate_hours.open_h, spec.gate_hours.close_h, day0_h),
            streams.sampler(f"{prefix}.gate_out", spec.gate_time_h),
            warmup_h,
        )
        self.truck_turnaround_h = Tally()
        """Per truck, gate arrival to leaving through the out-gate, hours (trucks whose
        boxes were created at or after the warm-up)."""
        profile = spec.truck_arrival_profile
        self._pickup_profile: HourProfile | None = None
        self._pickup_u: UniformBuffer | None = None
        if profile is not None:
            self._pickup_profile = HourProfile(profile, day0_h)
            self._pickup_u = UniformBuffer(streams.rng(f"{prefix}.pickup"))
        self.yard = Yard(env, spec.yard_teu, horizon_h, warmup_h)
        self.stackers = ReachStackers(
            env,
            spec.reach_stackers,
            spec.moves_per_h,
            spec.move_time_cv,
            streams.sampler(
                f"{prefix}.stackers",
                ReachStackers.move_distribution(spec.moves_per_h, spec.move_time_cv),
            ),
            trains_first=spec.stacker_priority == "trains_first",
            warmup_h=warmup_h,
        )
        self.tracks = LoadingTracks(env, spec.loading_tracks, warmup_h)
        self.ad_tracks = (
            simpy.Resource(env, capacity=spec.ad_tracks) if spec.ad_tracks is not None else None
        )
        self.ad_busy = BusyTime(warmup_h)
        """Track-hours of arrival/departure tracks held after the warm-up."""
        self.ad_wait_h = Tally(warmup_h)
        """Wait of each train for an arrival/departure track (asked for after the
        warm-up), hours."""
        self._ad_since: dict[simpy.Event, float] = {}
        self.shunt_h = streams.sampler(f"{prefix}.shunt", spec.shunt_h)
        self.queues: dict[str, ServiceQueue] = {}

    def arrive_on_ad_track(self) -> Generator[simpy.Event, Any, simpy.Event | None]:
        """SimPy process: a train takes an arrival/departure track (waiting for one);
        returns its request, or ``None`` where the hub has none (trains then wait on the
        loading tracks)."""
        if self.ad_tracks is None:
            return None
        t0 = self.env.now
        req = self.ad_tracks.request()
        yield req
        self.ad_wait_h.add_wait(t0, self.env.now)
        self._ad_since[req] = self.env.now
        return req

    def ad_since(self, req: simpy.Event) -> float:
        """When the train of ``req`` took its arrival/departure track, hours."""
        return self._ad_since[req]

    def leave_ad_track(self, req: simpy.Event) -> None:
        """The train of ``req`` leaves its arrival/departure track."""
        assert self.ad_tracks is not None
        since = self._ad_since.pop(req)
        self.ad_busy.add(since, self.env.now - since)
        self.ad_tracks.release(req)  # type: ignore[arg-type]

    def queue(self, service: str) -> ServiceQueue:
        """The queue of boxes waiting here for ``service``."""
        q = self.queues.get(service)
        if q is None:
            q = self.queues[service] = ServiceQueue(self.env)
        return q

    def truck_arrives(self, ev: simpy.Event | Wake) -> None:
        """A truck with the boxes of ``ev`` (its value) is at the gate (:meth:`truck_in`)."""
        self.truck_in(cast("list[Container]", ev.value))

    def truck_in(self, boxes: list[Container]) -> None:
        """A truck delivers ``boxes``, now at the gate: in-gate (lane, yard space, opening
        hours, processing), a reach stacker lifts them off into the yard one after the
        other, where they join the queue of their service; then the truck leaves through
        the out-gate.  Event-driven: the truck needs no process.

        Sets ``t_gate_arrive``, ``t_gate_pass`` (start of the in-gate processing, what
        the cut-off reads), ``t_gate_in`` = ``t_yard_in`` (in the yard), then
        ``t_gate_out_pass`` and ``t_gate_out`` (the truck has left).
        """
        _Delivery(self, boxes)

    def pickup_delay_h(self, dwell_h: float) -> float:
        """How long after now, when a box is put down in the yard, its consignee's truck
        comes for it, hours: its dwell; with a truck arrival profile, at an hour drawn from
        the profile on the local day the dwell ends (a day later if that is before now),
        so that collecting trucks follow the profile too (stream ``hub.<place>.pickup``)."""
        if self._pickup_profile is None or self._pickup_u is None:
            return dwell_h
        now = self.env.now
        u = self._pickup_u.one()
        return self._pickup_profile.arrival_after(now + dwell_h, now, u) - now

    def truck_out(self, box: Container, handed_over: Callable[[Container], None]) -> None:
        """A consignee's truck, now at the gate, collects ``box``: in-gate (lane, opening
        hours, processing), one stacker move onto the truck, then the out-gate.
        Event-driven: the truck needs no process.

        Sets ``t_pickup_arrive`` and ``t_pickup_pass`` (start of the in-gate processing);
        ``handed_over`` is called with the box once it is on the truck and out of the
        yard, before the out-gate.
        """
        _Pickup(self, box, handed_over)


class _Delivery:
    """A truck delivering boxes to a hub (see :meth:`Hub.truck_in`), at its gate now: its
    steps."""

    __slots__ = ("boxes", "hub", "t_arrive", "teu")

    def __init__(self, hub: Hub, boxes: list[Container]) -> None:
        self.hub = hub
        self.boxes = boxes
        t = self.t_arrive = hub.env.now
        teu = 0
        for b in self.boxes:
            b.t_gate_arrive = t
            teu += b.teu
        self.teu = teu
        hub.gate.enter(self.passed, self.admit)

    def admit(self) -> simpy.Event | None:
        """Yard space for the boxes (see :meth:`Yard.admit`)."""
        return self.hub.yard.admit(self.teu)

    def passed(self, t_pass: float) -> None:
        """Through the in-gate, its processing started at ``t_pass``, hours."""
        boxes = self.boxes
        for b in boxes:
            b.t_gate_pass = t_pass
        stackers = self.hub.stackers
        stackers.lift(stackers.truck_work, len(boxes), self.lifted)

    def lifted(self, ends: list[float]) -> None:
        """The boxes are in the yard, each since its move ended (``ends``, hours)."""
        hub, boxes = self.hub, self.boxes
        for b, t in zip(boxes, ends, strict=True):
            b.t_gate_in = b.t_yard_in = t
        for b in boxes:
            hub.queue(b.current.ref).push(b)
        hub.gate.leave(self.gone)

    def gone(self, t_out: float) -> None:
        """Through the out-gate, its processing started at ``t_out``, hours."""
        hub, boxes = self.hub, self.boxes
        now = hub.env.now
        for b in boxes:
            b.t_gate_out_pass = t_out
            b.t_gate_out = now
        if boxes[0].t_created >= hub.yard.warmup_h:
            hub.truck_turnaround_h.add(now - self.t_arrive)


class _Pickup:
    """A consignee's truck collecting a box at a hub (see :meth:`Hub.truck_out`), at its
    gate now: its steps."""

    __slots__ = ("box", "handed_over", "hub", "t_arrive")

    def __init__(self, hub: Hub, box: Container, handed_over: Callable[[Container], None]):
        self.hub = hub
        self.box = box
        self.handed_over = handed_over
        self.t_arrive = self.box.t_pickup_arrive = hub.env.now
        hub.gate.enter(self.passed)

    def passed(self, t_pass: float) -> None:
        """Through the in-gate, its processing started at ``t_pass``, hours."""
        self.box.t_pickup_pass = t_pass
        stackers = self.hub.stackers
        stackers.lift(stackers.truck_work, 1, self.loaded)

    def loaded(self, _ends: list[float]) -> None:
        """The box is on the truck."""
        hub, box = self.hub, self.box
        hub.yard.remove(box, by_train=False)
        self.handed_over(box)
        hub.gate.leave(self.gone)

    def gone(self, _t_out: float) -> None:
        """Through the out-gate."""
        hub = self.hub
        if self.box.t_created >= hub.yard.warmup_h:
            hub.truck_turnaround_h.add(hub.env.now - self.t_arrive)


class _Lift:
    """One stacker's ``n`` moves for a truck (see :meth:`ReachStackers.lift`)."""

    __slots__ = ("done", "ends", "n", "stackers")

    def __init__(self, stackers: ReachStackers, n: int, done: Callable[[list[float]], None]):
        self.stackers = stackers
        self.n = n
        self.done = done
        self.ends: list[float] = []

    def granted(self) -> None:
        """The stacker is ours: draw the moves, one timeout for them all."""
        st = self.stackers
        now = t = st.env.now
        ends = self.ends
        draw = st._move_h
        busy = st.busy_time
        for _ in range(self.n):
            d = draw()
            busy.add(t, d)
            t += d
            ends.append(t)
        st.moves += self.n
        Wake(st.env, t - now, self.finished)

    def finished(self, _w: Wake) -> None:
        """The moves are done: the stacker is free."""
        self.stackers.pool.release()
        self.done(self.ends)
