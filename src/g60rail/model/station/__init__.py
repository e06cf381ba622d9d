"""The Songjiang HSR station: vectorised passenger arrivals and exact FIFO recursions.

:mod:`~g60rail.model.station.demand` draws the passengers, :mod:`~g60rail.model.station.kernel`
holds the numba recursions, :mod:`~g60rail.model.station.simulate` runs a whole horizon
window by window, :mod:`~g60rail.model.station.report` turns it into KPIs and tables and
:mod:`~g60rail.model.station.planning` sizes security lanes.  No SimPy process per person.
"""

from g60rail.model.station.report import StationRun
from g60rail.model.station.simulate import simulate_station

__all__ = ["StationRun", "simulate_station"]
