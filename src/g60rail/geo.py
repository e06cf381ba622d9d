"""Places and distances.

Two distances are kept for every leg: the published route km (used for running times,
since rail and road are longer than the straight line) and the WGS84 geodesic km from
geopy (for maps and sanity checks, e.g. a route km shorter than the geodesic is an error
in the data).
"""

from __future__ import annotations

from dataclasses import dataclass

from geopy.distance import geodesic

from g60rail.scenario.schema import Leg, Place, Scenario

__all__ = ["LegGeometry", "drayage_km", "geodesic_km", "leg_table"]


def geodesic_km(a: Place, b: Place) -> float:
    """WGS84 geodesic distance between two places, km."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).km)


def drayage_km(origin: Place, hub: Place, detour_factor: float) -> float:
    """Road km for trucking a container from a city to a terminal.

    The road distance is the geodesic times a detour factor (estimate: 1.3 for the
    Yangtze River Delta's expressway grid).
    """
    return geodesic_km(origin, hub) * detour_factor


@dataclass(frozen=True, slots=True)
class LegGeometry:
    """A leg with both its route km and its geodesic km."""

    from_: str
    to: str
    mode: str
    km: float
    geodesic_km: float

    @property
    def circuity(self) -> float:
        """Route km per geodesic km (>= 1 for any real route)."""
        return self.km / self.geodesic_km if self.geodesic_km > 0 else float("inf")


def leg_table(scenario: Scenario) -> list[LegGeometry]:
    """Every leg of a scenario with its route and geodesic km."""

    def one(leg: Leg) -> LegGeometry:
        a, b = scenario.places[leg.from_], scenario.places[leg.to]
        return LegGeometry(leg.from_, leg.to, leg.mode, leg.km, geodesic_km(a, b))

    return [one(leg) for leg in scenario.legs]
