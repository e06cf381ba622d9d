"""Rail versus road from Songjiang to Vientiane, on the same G60 demand.

Runs the packaged scenario ``rail_vs_road`` (half of the G60 bookings go by truck) and
compares the door-to-door time of each mode - from the booking to the box standing at its
destination - as distributions, and prints the means next to the rail transit (train
departure to arrival), with each mode's emissions (kg CO2e per TEU, well to wheel) and
cost per TEU (in the scenario's ``footprint.currency``).

    python examples/rail_vs_road.py --days 60 --out figures/
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

import g60rail as g6


def main(argv: list[str] | None = None) -> Path:
    """Run the scenario, print the times and save ``rail_vs_road.png``; return its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=60, help="simulated days (60)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the figure (temp)")
    args = parser.parse_args(argv)

    scenario = g6.load_scenario("rail_vs_road")
    result = g6.simulate(scenario, days=args.days, seed=args.seed)
    k = result.kpis
    for name in (
        "door.songjiang_vientiane.h_mean",
        "transit.songjiang_vientiane.h_mean",
        "road.songjiang_vientiane.h_mean",
    ):
        print(f"{name:<40} {k.get(name, float('nan')):8.1f} h")
    currency = scenario.footprint.currency if scenario.footprint is not None else ""
    for mode in ("rail", "road"):
        co2 = k.get(f"footprint.{mode}.songjiang_vientiane.co2e_kg_per_teu", float("nan"))
        cost = k.get(f"footprint.{mode}.songjiang_vientiane.cost_per_teu", float("nan"))
        print(f"{mode:<5} Songjiang -> Vientiane {co2:8.0f} kg CO2e/TEU {cost:9.0f} {currency}/TEU")

    c = result.tables["containers"]
    g60 = c[(c["service"] == "g60") & (c["destination"] == "vientiane") & c["t_arrived"].notna()]
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for mode, color in (("rail", "tab:red"), ("road", "0.3")):
        days = ((g60["t_arrived"] - g60["t_created"])[g60["mode"] == mode] / 24).to_numpy()
        if len(days):
            ax.ecdf(days, color=color, label=f"{mode} (n={len(days)}, mean {days.mean():.1f} d)")
    ax.set_xlabel("door to door, booking to arrival at Vientiane (days)")
    ax.set_ylabel("share of boxes (cumulative)")
    ax.set_title(f"G60 bookings Songjiang -> Vientiane by mode ({args.days:g} days)")
    ax.legend(loc="lower right")

    out = args.out or Path(tempfile.mkdtemp(prefix="g60rail-"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "rail_vs_road.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
