"""Container bookings: when trucks arrive, what they carry, where the boxes go.

For each service with demand, trucks arrive as a Poisson process whose rate is
``teu_per_week`` times the calendar month's seasonality factor, divided by the mean TEU a
truck carries.  A truck carries one 40-foot box (2 TEU) with probability ``share_40ft``,
else one 20-foot box, or two with probability ``twin_20ft_share``.  Origin city,
destination and the choice of road instead of rail are drawn per truck.

All draws for one service come from its own streams (``demand.<service>`` for arrivals
and choices, ``cargo.<service>`` for per-box attributes), in booking order, so the same
seed gives the same bookings whatever the hub's capacities are.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Generator, Iterable, Iterator

import numpy as np
import simpy

from g60rail.model.cargo import Container
from g60rail.random import Exponential, Sampler, UniformBuffer
from g60rail.scenario.schema import DemandSpec, Scenario

__all__ = ["Booking", "DemandGenerator", "month_boundaries_h"]

Booking = tuple[str, list[Container], bool]
"""(origin place, boxes on the truck, by road)."""


def _cdf(weights: list[float]) -> list[float]:
    """Cumulative shares; the last is exactly 1 so every uniform in [0, 1) maps inside."""
    c = np.cumsum(weights) / sum(weights)
    c[-1] = 1.0
    return c.tolist()


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
        departures_h: list[float] | None = None,
        lead_rng: np.random.Generator | None = None,
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
        road = list(scenario.road.route)
        self.road_ok = {
            d: route[0] in road and d in road and road.index(route[0]) < road.index(d)
            for d in self.dests
        }
        teu_per_truck = 2 * spec.share_40ft + (1 - spec.share_40ft) * (1 + spec.twin_20ft_share)
        self.trucks_per_h = spec.teu_per_week / 168.0 / teu_per_truck
        self.months = month_boundaries_h(scenario.meta.start, horizon_h)
        self.scenario_start = scenario.meta.start
        self.departures_h = departures_h or []
        self.departures_per_week = len(scenario.services[service].weekly_departures_h)
        if spec.booking_lead_h is not None and lead_rng is None:
            raise ValueError(f"service {service!r} books per departure: pass lead_rng")
        self.lead_rng = lead_rng

    def run(self) -> Generator:
        """The booking process: each day's trucks are booked at the start of that day."""
        if self.trucks_per_h <= 0:
            return
        if self.spec.booking_lead_h is not None:
            times: Iterable[float] = self._departure_booking_times()
        else:
            times = self._poisson_times()
        env = self.env
        for t in times:
            if t >= self.horizon_h:
                return
            day_start = 24.0 * (t // 24.0)
            if day_start > env.now:
                yield env.timeout(day_start - env.now)
            self.on_booking(self._truck(t))

    def _poisson_times(self) -> Iterator[float]:
        """Truck departure times of a Poisson process with the month's rate, hours."""
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
                # piecewise-constant rate (memorylessness)
                t_next = t + self.gaps() / rate
                if t_next >= end:
                    t = end
                    break
                t = t_next
                yield t

    def _departure_booking_times(self) -> list[float]:
        """Truck departure times for bookings on the service's trains, hours, sorted.

        Each train gets a Poisson number of trucks (the rate times the time since the
        previous departure), each leaving ``booking_lead_h`` before it.  All counts and
        leads are drawn at the start, train by train, so the bookings do not depend on
        anything else in the run.  Trucks that would have left before the start of the run
        are not simulated (the system starts empty).
        """
        lead, rng = self.spec.booking_lead_h, self.lead_rng
        # only called for a service that books per departure, for which __init__
        # required lead_rng
        assert lead is not None and rng is not None
        deps = self.departures_h
        start, season = self.scenario_start, self.spec.seasonality
        leads = Sampler(lead, rng)
        weekly_gap = 168.0 / max(1, self.departures_per_week)
        times: list[float] = []
        for k, t_d in enumerate(deps):
            gap = t_d - deps[k - 1] if k else weekly_gap
            month = (start + dt.timedelta(hours=t_d)).month - 1
            n = int(rng.poisson(self.trucks_per_h * season[month] * gap))
            times.extend(t for t in (t_d - leads() for _ in range(n)) if t >= 0.0)
        times.sort()
        return times

    def _truck(self, t: float) -> Booking:
        spec = self.spec
        u = self.uniforms.take(5)
        origin = self.origins[bisect.bisect_right(self.origin_cdf, u[0])]
        dest = self.dests[bisect.bisect_right(self.dest_cdf, u[1])]
        sizes: tuple[int, ...]
        if u[2] < spec.share_40ft:
            sizes = (2,)
        else:
            sizes = (1, 1) if u[3] < spec.twin_20ft_share else (1,)
        by_road = bool(u[4] < spec.road_share) and self.road_ok[dest]
        boxes = []
        for teu in sizes:
            boxes.append(
                Container(
                    cid=self.next_id(),
                    teu=teu,
                    origin=origin,
                    destination=dest,
                    service=self.service,
                    itinerary=self.itineraries[dest],
                    t_created=t,
                    dwell_h=self.dwell(dest),
                    border_u=tuple(self.cargo.take(4)),
                    mode="road" if by_road else "rail",
                )
            )
        return origin, boxes, by_road
