"""Container bookings: when trucks arrive, what they carry, where the boxes go.

For each service with demand, trucks arrive as a Poisson process whose rate is
``teu_per_week`` times the calendar month's seasonality factor, divided by the mean TEU a
truck carries.  A truck carries one 40-foot box (2 TEU) with probability ``share_40ft``,
else one 20-foot box, or two with probability ``twin_20ft_share``.  Origin city,
destination and the choice of road instead of rail are drawn per truck, and so is the
commodity class of its boxes (by the demand's ``commodities`` weights; a class may have
its own share of 40-foot boxes, and the truck rate counts it): a box weighs ``teu`` times
its class's ``tonnes_per_teu``.

Where the service's first terminal has a truck arrival profile (24 weights by local hour
of day, :class:`~g60rail.scenario.schema.HubSpec`), the times drawn are the trucks'
arrivals at its gate, and each truck leaves its origin the drayage time before:

* Poisson demand becomes a non-homogeneous Poisson process, rate(t) = the month's rate
  times the profile's weight of the local hour (mean 1 over a day), drawn by inversion:
  the same unit exponential gaps as without a profile, mapped through the cumulative
  rate, so a profile moves the trucks in time and changes nothing else they draw;
* a booked box's truck comes on the local day of its train's departure minus the lead,
  at an hour of day drawn from the profile, a day earlier (or more) where that would be
  after the train's cut-off: arrivals follow the profile exactly and every box is booked
  on the train it comes for (the lead is then counted to the gate arrival).

Trucks whose origin departure would fall before the start of the run are not simulated.

All draws for one service come from its own streams (``demand.<service>`` for arrivals
and choices, ``cargo.<service>`` for per-box attributes, ``demand.<service>.lead`` for
bookings per departure: counts, leads and, with a profile, the hours of day), in booking
order, so the same seed gives the same bookings whatever the hub's capacities are, and a
change of one terminal's profile changes nothing of the services that start elsewhere.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
from array import array
from collections.abc import Callable, Generator, Iterable, Iterator

import numpy as np
import simpy

from g60rail.model.cargo import Container
from g60rail.model.daily import HourProfile
from g60rail.random import Exponential, Sampler, UniformBuffer
from g60rail.scenario.clock import Clock
from g60rail.scenario.schema import DemandSpec, Scenario

__all__ = ["Booking", "DemandGenerator", "month_boundaries_h"]

Booking = tuple[str, list[Container], bool]
"""(origin place, boxes on the truck, by road)."""


def _cdf(weights: list[float]) -> list[float]:
    """Cumulative shares; the last is exactly 1 so every uniform in [0, 1) maps inside."""
    c = np.cumsum(weights) / sum(weights)
    c[-1] = 1.0
    return c.tolist()


def _no_travel(origin: str) -> float:
    return 0.0


def _teu_per_truck(spec: DemandSpec, share_40ft: dict[str, float]) -> float:
    """Mean TEU a truck carries, over the demand's commodity classes (each with its own
    share of 40-foot boxes)."""

    def per_truck(s40: float) -> float:
        return 2 * s40 + (1 - s40) * (1 + spec.twin_20ft_share)

    if all(s == spec.share_40ft for s in share_40ft.values()):
        return per_truck(spec.share_40ft)
    total = sum(spec.commodities.values())
    return sum(w / total * per_truck(share_40ft[c]) for c, w in spec.commodities.items())


def _gate_profile(scenario: Scenario, place: str) -> HourProfile | None:
    """The truck arrival profile of the terminal at ``place`` in its local time, if any."""
    terminal = scenario.terminal(place)
    if terminal is None or terminal.truck_arrival_profile is None:
        return None
    clock = Clock.of(scenario)
    return HourProfile(
        terminal.truck_arrival_profile, clock.local_day0_h(clock.zone_of(scenario, place))
    )


def month_boundaries_h(start: dt.datetime, horizon_h: float) -> list[tuple[float, int]]:
    """(simulation hour, calendar month index 0-11) at hour 0 and each month start."""
    out = [(0.0, start.month - 1)]
    y, m = start.year, start.month
    while True:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        t = (dt.datetime(y, m, 1) - start).total_seconds() / 3600.0
        if t >= horizon_h:
            return out
        out.append((t, m - 1))


class DemandGenerator:
    """Truck arrivals for one service.

    Parameters
    ----------
    env
        The SimPy environment.
    service
        Service id.
    spec
        The service's demand.
    scenario
        The whole scenario (for routes, places and dwell times).
    rng, cargo_rng
        The streams ``demand.<service>`` and ``cargo.<service>``.
    dwell_sampler
        Called with a destination place, returns a consignee dwell time, hours.
    on_booking
        Called with each truck's booking.
    next_id
        Returns a fresh container id.
    horizon_h
        Run length, hours.
    departures_h, lead_rng
        For bookings per departure: the service's departure times (hours, sorted,
        reaching past the horizon by the longest lead) and the stream
        ``demand.<service>.lead``.
    travel_h
        Trucking time from an origin city to the gate of the service's first terminal,
        hours (used with a truck arrival profile; default 0).
    """

    def __init__(
        self,
        env: simpy.Environment,
        service: str,
        spec: DemandSpec,
        scenario: Scenario,
        rng: np.random.Generator,
        cargo_rng: np.random.Generator,
        dwell_sampler: Callable[[str], float],
        on_booking: Callable[[Booking], None],
        next_id: Callable[[], int],
        horizon_h: float,
        departures_h: Iterable[float] | None = None,
        lead_rng: np.random.Generator | None = None,
        travel_h: Callable[[str], float] | None = None,
    ) -> None:
        self.env = env
        self.service = service
        self.spec = spec
        self.rng = rng
        self.uniforms = UniformBuffer(rng)
        self.gaps = Sampler(Exponential(dist="exponential", mean=1.0), rng)
        self.cargo = UniformBuffer(cargo_rng)
        self.dwell = dwell_sampler
        self.on_booking = on_booking
        self.next_id = next_id
        self.horizon_h = horizon_h
        route = scenario.services[service].route
        origins = spec.origins or {route[0]: 1.0}
        dests = spec.destinations or {route[-1]: 1.0}
        self.origins = list(origins)
        self.origin_cdf = _cdf(list(origins.values()))
        self.dests = list(dests)
        self.dest_cdf = _cdf(list(dests.values()))
        self.itineraries = {d: scenario.itinerary(service, d) for d in self.dests}
        self.commodities = list(spec.commodities)
        self.commodity_cdf = _cdf(list(spec.commodities.values()))
        self.tonnes_per_teu = {c: scenario.commodities[c].tonnes_per_teu for c in self.commodities}
        road = list(scenario.road.route)
        self.road_ok = {
            d: route[0] in road and d in road and road.index(route[0]) < road.index(d)
            for d in self.dests
        }
        self.share_40ft = {
            c: spec.share_40ft if s is None else s
            for c in self.commodities
            for s in (scenario.commodities[c].share_40ft,)
        }
        teu_per_truck = _teu_per_truck(spec, self.share_40ft)
        self.trucks_per_h = spec.teu_per_week / 168.0 / teu_per_truck
        self.months = month_boundaries_h(scenario.meta.start, horizon_h)
        self.scenario_start = scenario.meta.start
        self.departures_h = array("d", departures_h if departures_h is not None else ())
        self.departures_per_week = len(scenario.services[service].weekly_departures_h)
        if spec.booking_lead_h is not None and lead_rng is None:
            raise ValueError(f"service {service!r} books per departure: pass lead_rng")
        self.lead_rng = lead_rng
        terminal = scenario.terminal(route[0])
        self.cutoff_h = terminal.cutoff_h if terminal is not None else 0.0
        self.profile = _gate_profile(scenario, route[0])
        self.travel_h = travel_h if travel_h is not None else _no_travel
        self.max_travel_h = (
            max(self.travel_h(o) for o in self.origins) if self.profile is not None else 0.0
        )

    def run(self) -> Generator:
        """The booking process: each day's trucks are booked at the start of that day (of
        the day they leave their origin at the earliest, with a truck arrival profile)."""
        if self.trucks_per_h <= 0:
            return
        if self.spec.booking_lead_h is not None:
            times: Iterable[float] = self._departure_booking_times()
        else:
            times = self._poisson_times()
        env = self.env
        horizon_h, max_travel_h = self.horizon_h, self.max_travel_h
        truck, on_booking = self._truck, self.on_booking
        now = env.now
        for t in times:
            if t >= horizon_h:
                return
            # a truck leaves its origin at most max_travel_h before its gate arrival
            day_start = 24.0 * ((t - max_travel_h) // 24.0)
            if day_start > now:
                yield env.timeout(day_start - now)
                now = env.now
            booking = truck(t)
            if booking[1][0].t_created >= 0.0:
                on_booking(booking)

    def _poisson_times(self) -> Iterator[float]:
        """Truck times of a Poisson process with the month's rate (with a profile: the
        month's rate times the local hour's weight), hours."""
        profile = self.profile
        season = self.spec.seasonality
        bounds = [t for t, _ in self.months[1:]] + [self.horizon_h]
        t = 0.0
        for (_, month), end in zip(self.months, bounds, strict=True):
            rate = self.trucks_per_h * season[month]
            if rate <= 0:
                t = end
                continue
            while True:
                # exponential gaps restarted at each month boundary: exact for a
                # piecewise-constant rate (memorylessness); within the month the
                # profile's hours by inversion of the cumulative rate
                gap = self.gaps() / rate
                t_next = t + gap if profile is None else profile.advance(t, gap, end)
                if t_next is None or t_next >= end:
                    t = end
                    break
                t = t_next
                yield t

    def _departure_booking_times(self) -> Iterator[float]:
        """Truck departure times for bookings on the service's trains, hours, sorted.

        Each train gets a Poisson number of trucks (the rate times the time since the
        previous departure), each leaving ``booking_lead_h`` before it.  All counts and
        leads are drawn at the start, train by train, so the bookings do not depend on
        anything else in the run.  Trucks that would have left before the start of the run
        are not simulated (the system starts empty).  With a truck arrival profile the
        times are gate arrivals, shaped by :meth:`HourProfile.arrival_before` to come
        before the train's cut-off, one uniform each after its lead.

        The draws are made twice from the same state, so that memory does not grow with
        the horizon: the first pass keeps only each train's earliest truck; the second
        hands out every time once no later train can have an earlier one.
        """
        rng = self.lead_rng
        # only called for a service that books per departure, for which __init__
        # required lead_rng
        assert rng is not None
        replay = np.random.Generator(type(rng.bit_generator)())
        replay.bit_generator.state = rng.bit_generator.state
        earliest = array("d", (min(ts, default=math.inf) for ts in self._bookings_by_train(rng)))
        # no later train than k has a truck before later[k]
        later = array("d", [math.inf]) * (len(earliest) + 1)
        for k in range(len(earliest) - 1, -1, -1):
            later[k] = min(earliest[k], later[k + 1])
        del earliest
        waiting: list[float] = []
        for k, ts in enumerate(self._bookings_by_train(replay)):
            for t in ts:
                heapq.heappush(waiting, t)
            safe = later[k + 1]
            while waiting and waiting[0] <= safe:
                yield heapq.heappop(waiting)

    def _bookings_by_train(self, rng: np.random.Generator) -> Iterator[list[float]]:
        """Per timetabled departure, in order, its trucks' times (see
        :meth:`_departure_booking_times`), drawn from ``rng``."""
        lead = self.spec.booking_lead_h
        assert lead is not None  # only for a service that books per departure
        deps = self.departures_h
        start, season = self.scenario_start, self.spec.seasonality
        leads = Sampler(lead, rng)
        # with a profile: the hours of day, one uniform each after its lead
        profile = self.profile
        hours = UniformBuffer(rng)
        cutoff = self.cutoff_h
        weekly_gap = 168.0 / max(1, self.departures_per_week)
        for k, t_d in enumerate(deps):
            gap = t_d - deps[k - 1] if k else weekly_gap
            month = (start + dt.timedelta(hours=t_d)).month - 1
            n = int(rng.poisson(self.trucks_per_h * season[month] * gap))
            times = []
            for _ in range(n):
                t = t_d - leads()
                if profile is not None:  # a gate arrival before the departure's cut-off
                    t = profile.arrival_before(t, t_d - cutoff, hours.one())
                if t >= 0.0:
                    times.append(t)
            yield times

    def _truck(self, t: float) -> Booking:
        spec = self.spec
        u0, u1, u2, u3, u4 = self.uniforms.take(5)
        origin = self.origins[bisect.bisect_right(self.origin_cdf, u0)]
        dest = self.dests[bisect.bisect_right(self.dest_cdf, u1)]
        commodity = self._commodity()
        sizes: tuple[int, ...]
        if u2 < self.share_40ft[commodity]:
            sizes = (2,)
        else:
            sizes = (1, 1) if u3 < spec.twin_20ft_share else (1,)
        by_road = bool(u4 < spec.road_share) and self.road_ok[dest]
        if self.profile is not None and not by_road:
            t -= self.travel_h(origin)  # t was the gate arrival: leave the origin before
        mode = "road" if by_road else "rail"
        itinerary = self.itineraries[dest]
        tonnes_per_teu = self.tonnes_per_teu[commodity]
        service, cargo, next_id, dwell = self.service, self.cargo, self.next_id, self.dwell
        boxes = []
        for teu in sizes:
            boxes.append(
                Container(
                    next_id(),
                    teu,
                    origin,
                    dest,
                    service,
                    itinerary,
                    t,
                    dwell(dest),
                    tuple(cargo.take(4)),
                    mode,
                    commodity,
                    teu * tonnes_per_teu,
                )
            )
        return origin, boxes, by_road

    def _commodity(self) -> str:
        """A truck's commodity class (its boxes share it), by the demand's weights.

        Drawn from the cargo stream before the boxes' border uniforms, and only when there
        is more than one class: a single-class service draws exactly what it drew before
        commodity classes existed.
        """
        if len(self.commodities) == 1:
            return self.commodities[0]
        u = self.cargo.one()
        return self.commodities[bisect.bisect_right(self.commodity_cdf, u)]
