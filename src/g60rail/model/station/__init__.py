"""The Songjiang HSR station: vectorised passenger arrivals and exact event recursions.

:mod:`~g60rail.model.station.demand` draws the passengers; the numba recursions are in
:mod:`~g60rail.model.station.kernel` (security lanes, counting processes),
:mod:`~g60rail.model.station.queues` (security and exit queues, hourly waits) and
:mod:`~g60rail.model.station.gates` (ticket gates and rebooking);
:mod:`~g60rail.model.station.boarding` and :mod:`~g60rail.model.station.records` carry their
state between windows; :mod:`~g60rail.model.station.simulate` runs a whole horizon window by
window, :mod:`~g60rail.model.station.report` turns it into KPIs and tables,
:mod:`~g60rail.model.station.los` grades the queue areas (Fruin) and
:mod:`~g60rail.model.station.planning` sizes security lanes.  No SimPy process per person.
"""

from g60rail.model.station.report import StationRun
from g60rail.model.station.simulate import simulate_station

__all__ = ["StationRun", "simulate_station"]
