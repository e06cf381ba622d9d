"""Emissions and cost per TEU by route, from a finished run's containers.

Every box delivered in the run is charged for its transport chain, with the factors of
the scenario's ``[footprint]`` (:class:`~g60rail.scenario.footprint_spec.FootprintSpec`):

* **rail** boxes: the truck from the origin city to the first terminal (drayage km, road
  intensity), the trains of every rail hop of the box's itinerary (route km of the lines
  and rail legs between the stops, by their gauge) and an onward leg (its own mode);
  the railway charges each box a fixed sum and a sum per km of standard gauge by its
  size (20 or 40 foot), the other legs per TEU-km;
* **hub**: every terminal a rail box is lifted through (first terminal, transfers, the
  destination or the terminal of its onward leg) emits and costs its factor per TEU;
* **road** boxes: the truck from the origin city to the road route and along it to the
  destination (the road legs' km).

Transport emissions are cargo tonnes x km x the mode's well-to-wheel intensity.  Empty
boxes carry no cargo, so they add no transport emissions (their running is inside the
intensities), but their rail charges and their handling are part of serving the loaded
boxes: they count in the numerators of the rail and hub KPIs and not in the TEU that
divide them.  A box held at a border port and re-routed there is charged on its booked
itinerary.

KPIs (``<mode>`` is ``rail``, ``road``; ``rail_chain`` is rail plus hub; ``<o>_<d>`` the
first terminal and the destination, as for ``transit.*``):

``footprint.<mode>.teu``, ``footprint.<mode>.tonnes``
    loaded TEU and cargo tonnes delivered by the mode;
``footprint.<mode>.co2e_kg_per_teu``, ``footprint.hub.co2e_kg_per_teu``,
``footprint.rail_chain.co2e_kg_per_teu``
    kg CO2e per loaded TEU delivered;
``footprint.<mode>.cost_per_teu``, ``footprint.hub.cost_per_teu``,
``footprint.rail_chain.cost_per_teu``
    cost per loaded TEU delivered, in the scenario's ``footprint.currency`` (CNY in the
    packaged scenarios);
``footprint.<mode>.<o>_<d>.co2e_kg_per_teu``, ``footprint.<mode>.<o>_<d>.cost_per_teu``
    the same for one pair (rail pairs include their hub handling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from g60rail.geo import drayage_km
from g60rail.model.empties import EMPTY
from g60rail.scenario.footprint_spec import FootprintSpec
from g60rail.scenario.routes import Hop
from g60rail.scenario.schema import Scenario

__all__ = ["DELIVERY_KEYS", "Chain", "delivery_groups", "footprint_kpis", "transport_chain"]

NAN = math.nan


@dataclass(frozen=True, slots=True)
class Chain:
    """The transport chain of one kind of box: km by mode and terminals passed.

    Attributes
    ----------
    km
        Mode (``rail``, ``rail_metre``, ``road``) -> km, the drayage to the first
        terminal included.
    terminals
        Terminals the box is lifted through.
    """

    km: dict[str, float]
    terminals: int


def _stop_km(sc: Scenario, a: str, b: str) -> tuple[str, float]:
    """(mode, route km) between two consecutive stops of a service."""
    line_id = sc.line_between(a, b)
    if line_id is not None:
        line = sc.lines[line_id]
        km = {st.id: st.km for st in line.stations}
        return line.mode, abs(km[b] - km[a])
    for leg in sc.legs:
        if leg.mode != "road" and leg.key == frozenset((a, b)):
            return leg.mode, leg.km
    raise ValueError(f"no line or rail leg joins {a!r} and {b!r}")


def _hop_km(sc: Scenario, hop: Hop, km: dict[str, float]) -> None:
    if hop.kind == "onward":
        leg = sc.onward[int(hop.ref)]
        km[leg.mode] = km.get(leg.mode, 0.0) + leg.km
        return
    route = sc.services[hop.ref].route
    i, j = route.index(hop.from_), route.index(hop.to)
    for a, b in zip(route[i:j], route[i + 1 : j + 1], strict=True):
        mode, d = _stop_km(sc, a, b)
        km[mode] = km.get(mode, 0.0) + d


def _road_km(sc: Scenario, start: str, destination: str) -> float:
    """Road km along the scenario's road route from ``start`` to ``destination``."""
    route = sc.road.route
    i, j = route.index(start), route.index(destination)
    legs = {leg.key: leg.km for leg in sc.legs if leg.mode == "road"}
    return sum(legs[frozenset(p)] for p in zip(route[i:j], route[i + 1 : j + 1], strict=True))


def transport_chain(
    sc: Scenario, mode: str, service: str, origin: str, first: str, destination: str, empty: bool
) -> Chain:
    """The chain of a box as the model moves it.

    Parameters
    ----------
    sc
        The scenario.
    mode
        ``rail`` or ``road`` (the box's ``mode``).
    service, origin, first, destination
        The box's service, origin city, first terminal (the place of its first hop) and
        destination.
    empty
        An empty box (booked at ``first`` back to its service's origin).
    """
    places = sc.places
    terminals = {sc.hub.place, *(t.place for t in sc.terminals.values())}
    km: dict[str, float] = {}
    if origin != first and (mode == "road" or first in terminals):
        km["road"] = drayage_km(places[origin], places[first], sc.drayage.detour_factor)
    if mode == "road":
        km["road"] = km.get("road", 0.0) + _road_km(sc, first, destination)
        return Chain(km, 0)
    hops = sc.itinerary_from(first, destination) if empty else sc.itinerary(service, destination)
    for hop in hops or ():
        _hop_km(sc, hop, km)
    lifted = [hops[0].from_, *(h.to for h in hops if h.kind == "rail")] if hops else []
    return Chain(km, sum(1 for p in lifted if p in terminals))


def _per_teu(total: float, teu: float) -> float:
    return total / teu if teu > 0 else NAN


DELIVERY_KEYS = ("mode", "service", "origin", "first_terminal", "destination", "empty")
"""How delivered boxes are grouped for their footprint (:func:`delivery_groups`)."""


def delivery_groups(containers: pd.DataFrame) -> pd.DataFrame:
    """The delivered boxes of a containers table, grouped by :data:`DELIVERY_KEYS`, with
    their ``teu``, ``tonnes`` and the number of 20-foot (``box20``) and 40-foot
    (``box40``) boxes: what :func:`footprint_kpis` reads."""
    done = containers[containers["t_delivered"].notna()]
    frame = pd.DataFrame(
        {
            "mode": done["mode"],
            "service": done["service"],
            "origin": done["origin"],
            "first_terminal": done["first_terminal"],
            "destination": done["destination"],
            "empty": done["commodity"] == EMPTY,
            "teu": done["teu"].astype(float),
            "tonnes": done["tonnes"].astype(float),
            "box20": (done["teu"] == 1).astype(float),
            "box40": (done["teu"] == 2).astype(float),
        }
    )
    return frame.groupby(list(DELIVERY_KEYS), sort=True).sum(numeric_only=True).reset_index()


def footprint_kpis(scenario: Scenario, deliveries: pd.DataFrame) -> dict[str, float]:
    """kg CO2e and cost per TEU by route of the boxes a run delivered.

    Parameters
    ----------
    scenario
        The scenario that was run; its ``footprint`` gives the factors (none: no KPIs).
    deliveries
        The delivered boxes by group: columns :data:`DELIVERY_KEYS` and ``teu``,
        ``tonnes``, ``box20``, ``box40`` (sums over the group), as
        :func:`delivery_groups` makes them from a containers table (the model counts
        them as boxes are delivered, whether or not it records the containers).

    Returns
    -------
    dict of str to float
        The ``footprint.*`` KPIs of the module docstring: emissions in kg CO2e per TEU,
        costs per TEU in ``scenario.footprint.currency``; NaN where a mode delivered no
        loaded TEU.
    """
    f = scenario.footprint
    if f is None:
        return {}
    groups = deliveries.groupby(list(DELIVERY_KEYS), sort=True).sum(numeric_only=True).reset_index()
    acc: dict[str, dict[str, float]] = {}
    for row in groups.to_dict("records"):
        mode, first, dest = row["mode"], row["first_terminal"], row["destination"]
        empty = bool(row["empty"])
        c = transport_chain(scenario, mode, row["service"], row["origin"], first, dest, empty)
        teu, tonnes = float(row["teu"]), float(row["tonnes"])
        co2e, cost = _transport(f, c, teu, tonnes, float(row["box20"]), float(row["box40"]))
        hub_co2e = teu * c.terminals * f.hub_kg_co2e_per_teu
        hub_cost = teu * c.terminals * f.hub_cost_per_teu
        pair = f"{mode}.{first}_{dest}"
        for key in (mode, pair):
            a = acc.setdefault(key, dict.fromkeys(("teu", "tonnes", "co2e", "cost"), 0.0))
            a["teu"] += 0.0 if empty else teu
            a["tonnes"] += tonnes
            a["co2e"] += co2e + (hub_co2e if key == pair else 0.0)
            a["cost"] += cost + (hub_cost if key == pair else 0.0)
        h = acc.setdefault("hub", {"co2e": 0.0, "cost": 0.0})
        h["co2e"] += hub_co2e
        h["cost"] += hub_cost
    out: dict[str, float] = {}
    for mode in ("rail", "road"):
        a = acc.get(mode, {"teu": 0.0, "tonnes": 0.0, "co2e": 0.0, "cost": 0.0})
        out[f"footprint.{mode}.teu"] = a["teu"]
        out[f"footprint.{mode}.tonnes"] = a["tonnes"]
        out[f"footprint.{mode}.co2e_kg_per_teu"] = _per_teu(a["co2e"], a["teu"])
        out[f"footprint.{mode}.cost_per_teu"] = _per_teu(a["cost"], a["teu"])
    rail_teu = out["footprint.rail.teu"]
    hub = acc.get("hub", {"co2e": 0.0, "cost": 0.0})
    out["footprint.hub.co2e_kg_per_teu"] = _per_teu(hub["co2e"], rail_teu)
    out["footprint.hub.cost_per_teu"] = _per_teu(hub["cost"], rail_teu)
    for what in ("co2e_kg_per_teu", "cost_per_teu"):
        out[f"footprint.rail_chain.{what}"] = (
            out[f"footprint.rail.{what}"] + out[f"footprint.hub.{what}"]
        )
    for key in sorted(k for k in acc if k.count(".") == 1):
        a = acc[key]
        out[f"footprint.{key}.co2e_kg_per_teu"] = _per_teu(a["co2e"], a["teu"])
        out[f"footprint.{key}.cost_per_teu"] = _per_teu(a["cost"], a["teu"])
    return out


def _transport(
    f: FootprintSpec, c: Chain, teu: float, tonnes: float, box20: float, box40: float
) -> tuple[float, float]:
    """(kg CO2e, cost) of moving boxes along a chain: ``teu``, ``tonnes`` and the number
    of 20- and 40-foot boxes of a group."""
    co2e = sum(tonnes * km * f.g_co2e_per_tkm(mode) / 1000.0 for mode, km in c.km.items())
    rail_km = c.km.get("rail", 0.0)
    cost = teu * (
        c.km.get("rail_metre", 0.0) * f.rail_metre_cost_per_teu_km
        + c.km.get("road", 0.0) * f.road_cost_per_teu_km
    )
    if rail_km > 0:
        cost += box20 * (f.rail_cost_per_box_20ft + f.rail_cost_per_box_km_20ft * rail_km)
        cost += box40 * (f.rail_cost_per_box_40ft + f.rail_cost_per_box_km_40ft * rail_km)
    return co2e, cost
