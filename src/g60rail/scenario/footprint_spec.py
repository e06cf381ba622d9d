"""Emission and cost factors of the transport chains: trains, trucks and terminals.

The ``[footprint]`` section of a scenario gives, per mode, a well-to-wheel emission
intensity per tonne-km of cargo (the accounting of ISO 14083 and the GLEC Framework:
empty running and average loads are inside the intensity, so a box is charged for its
own cargo tonnes only) and what moving a box costs; per terminal, what handling a TEU
emits and costs.

```toml
[footprint]
currency = "CNY"
rail_g_co2e_per_tkm = 17.0        # electric standard gauge, g CO2e per tonne-km
rail_metre_g_co2e_per_tkm = 25.0  # diesel metre gauge
road_g_co2e_per_tkm = 110.0       # articulated diesel truck with a container
hub_kg_co2e_per_teu = 3.0         # per TEU lifted through one terminal
rail_cost_per_box_20ft = 500.0    # fixed charge per 20-foot box and rail trip
rail_cost_per_box_km_20ft = 2.205 # per 20-foot box and rail km
...
```

:func:`g60rail.model.footprint.footprint_kpis` turns a finished run's containers into
kg CO2e and cost per TEU by route.  Costs are in :attr:`FootprintSpec.currency`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from g60rail.scenario.base import FrozenModel

__all__ = ["FootprintSpec"]

NonNegFloat = Annotated[float, Field(ge=0.0)]


class FootprintSpec(FrozenModel):
    """Emission intensities and unit costs of rail, road and terminal handling.

    Emissions are well-to-wheel (fuel or electricity supply included), kg or g of CO2
    equivalent; tonne-km count the cargo's gross tonnes (a box's ``tonnes``), so an empty
    box carries no transport emissions of its own.  Every cost is in ``currency``.
    """

    currency: str = Field(
        "CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every cost field"
    )
    rail_g_co2e_per_tkm: NonNegFloat = Field(
        description="standard-gauge container train (lines and rail legs of mode 'rail'), "
        "g CO2e per tonne-km of cargo, well-to-wheel"
    )
    rail_metre_g_co2e_per_tkm: NonNegFloat = Field(
        description="metre-gauge train (lines, legs and onward legs of mode 'rail_metre'), "
        "g CO2e per tonne-km, well-to-wheel"
    )
    road_g_co2e_per_tkm: NonNegFloat = Field(
        description="heavy truck with a container (road trips, drayage to the first "
        "terminal, onward legs by road), g CO2e per tonne-km, well-to-wheel"
    )
    hub_kg_co2e_per_teu: NonNegFloat = Field(
        description="handling one TEU through one terminal (its lifts on and off and its "
        "yard stay), kg CO2e"
    )
    rail_cost_per_box_20ft: NonNegFloat = Field(
        description="fixed rail charge per 20-foot box and rail trip (currency)"
    )
    rail_cost_per_box_km_20ft: NonNegFloat = Field(
        description="rail charge per 20-foot box and standard-gauge km (currency)"
    )
    rail_cost_per_box_40ft: NonNegFloat = Field(
        description="fixed rail charge per 40-foot box and rail trip (currency)"
    )
    rail_cost_per_box_km_40ft: NonNegFloat = Field(
        description="rail charge per 40-foot box and standard-gauge km (currency)"
    )
    rail_metre_cost_per_teu_km: NonNegFloat = Field(
        description="metre-gauge charge per TEU and km (currency)"
    )
    road_cost_per_teu_km: NonNegFloat = Field(
        description="trucking charge per TEU and km, empty running included (currency)"
    )
    hub_cost_per_teu: NonNegFloat = Field(
        description="terminal handling charge per TEU and terminal (currency)"
    )

    def g_co2e_per_tkm(self, mode: str) -> float:
        """Emission intensity of a mode (``rail``, ``rail_metre`` or ``road``), g CO2e per
        tonne-km."""
        if mode == "rail":
            return self.rail_g_co2e_per_tkm
        if mode == "rail_metre":
            return self.rail_metre_g_co2e_per_tkm
        if mode == "road":
            return self.road_g_co2e_per_tkm
        raise ValueError(f"no emission intensity for mode {mode!r}")
