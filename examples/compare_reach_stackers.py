"""How many reach stackers does the Songjiang hub need in the growth case?

Runs the packaged scenario ``hub_expansion`` (daily trains at Songjiang) with 1 to 6
reach stackers, the same seeds for every fleet size (common random numbers, so differences
come from the fleet, not from luck), and plots against the fleet size the trucks'
turnaround, the boxes' wait in the yard for their train (95th percentiles) and the
stacker utilisation.  Stackers serve trains first, so a short fleet shows in the trucks'
turnaround long before boxes wait longer for their trains.

    python examples/compare_reach_stackers.py --days 60 --out figures/
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

import g60rail as g6


def main(argv: list[str] | None = None) -> Path:
    """Run the comparison, print a table and save ``reach_stackers.png``; return its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=60, help="simulated days per run (60)")
    parser.add_argument("--seeds", type=int, default=2, help="replications per fleet size (2)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the figure (temp)")
    args = parser.parse_args(argv)

    scenario = g6.load_scenario("hub_expansion")
    rows = []
    for stackers in range(1, 7):
        variant = scenario.with_overrides({"hub.reach_stackers": stackers})
        for seed in range(args.seeds):
            k = g6.simulate(variant, days=args.days, seed=seed).kpis
            rows.append(
                {
                    "reach_stackers": stackers,
                    "seed": seed,
                    "truck_turnaround_h_p95": k["hub.truck_turnaround_h_p95"],
                    "dwell_to_train_h_p95": k["hub.dwell_to_train_h_p95"],
                    "utilization": k["hub.reach_stacker_utilization"],
                }
            )
    table = pd.DataFrame(rows).groupby("reach_stackers").mean().drop(columns="seed")
    print(table.round(3).to_string())

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(table.index, table["truck_turnaround_h_p95"], "o-", label="truck turnaround, p95")
    ax.plot(table.index, table["dwell_to_train_h_p95"], "s--", label="yard to train, p95")
    ax.set_xlabel("reach stackers at Songjiang")
    ax.set_ylabel("hours")
    ax.set_ylim(bottom=0)
    util = ax.twinx()
    util.bar(table.index, 100 * table["utilization"], color="tab:gray", alpha=0.3, width=0.5)
    util.set_ylabel("reach-stacker utilisation (%)")
    util.set_ylim(0, 100)
    ax.set_zorder(util.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.legend(loc="upper right")
    ax.set_title(f"Growth case: reach stackers ({args.days:g} days, {args.seeds} seeds)")

    out = args.out or Path(tempfile.mkdtemp(prefix="g60rail-"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "reach_stackers.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
