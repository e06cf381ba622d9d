"""Places and distances.

Two distances are kept for every leg: the published route km (used for running times,
since rail and road are longer than the straight line) and the WGS84 geodesic km from
geopy (for maps and sanity checks, e.g. a route km shorter than the geodesic is an error
in the data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from geopy.distance import geodesic

__all__ = ["LegGeometry", "LegLike", "Located", "drayage_km", "geodesic_km", "leg_table"]


class Located(Protocol):
    """Anything with WGS84 coordinates in degrees (a scenario's place)."""

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...


class LegLike(Protocol):
    """Anything that joins two place ids over a route length (a scenario's leg)."""

    @property
    def from_(self) -> str: ...

    @property
    def to(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def km(self) -> float: ...


def geodesic_km(a: Located, b: Located) -> float:
    """WGS84 geodesic distance between two places, km."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).km)


def drayage_km(origin: Located, hub: Located, detour_factor: float) -> float:
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


def leg_table(places: Mapping[str, Located], legs: Iterable[LegLike]) -> list[LegGeometry]:
    """Every leg with its route and geodesic km.

    Parameters
    ----------
    places
        Place id -> coordinates (``scenario.places``).
    legs
        The legs (``scenario.legs``); their ends are ids in ``places``.
    """
    return [
        LegGeometry(
            leg.from_,
            leg.to,
            leg.mode,
            leg.km,
            geodesic_km(places[leg.from_], places[leg.to]),
        )
        for leg in legs
    ]
