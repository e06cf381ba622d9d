"""Invariants every run must satisfy, shared by the validation suite and the property tests.

* Conservation of containers (DESIGN.md, "Conservation holds at the end of every run"):
  ``teu_created == teu_delivered + teu_in_system_end``, and the containers table agrees
  box by box.
* Milestones in order (model/cargo.py ``MILESTONES``): a container reaches its milestones
  in the order listed, and none without its predecessors, with the documented exceptions
  (road boxes skip the terminal; siding boxes enter at creation; border milestones only
  on routes through a port).
* Conservation of passengers when the station runs: every passenger boards or misses.
* Railway lines (``sections`` table): no two trains in a single-track section at once
  (nor within the station interval), headway one way on double track, and never more
  trains standing at a station than its tracks of their direction.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from g60rail.result import Result
from g60rail.scenario.schema import Scenario

RAIL_CHAIN = (
    "t_created",
    "t_gate_arrive",
    "t_gate_in",
    "t_loaded",
    "t_departed",
    "t_arrived",
    "t_delivered",
)
"""Milestones every rail box reaches in this order (border milestones sit between
``t_departed`` and ``t_arrived`` when the route crosses a port)."""

EPS = 1e-9


def check_conservation(result: Result) -> None:
    """TEU created = delivered + still inside, in the KPIs and in the containers table."""
    k = result.kpis
    created, delivered, inside = (
        k["freight.teu_created"],
        k["freight.teu_delivered"],
        k["freight.teu_in_system_end"],
    )
    assert created == delivered + inside, (created, delivered, inside)
    assert min(created, delivered, inside) >= 0
    c = result.tables.get("containers")
    if c is None or (len(c) == 0 and created > 0):
        return  # run without container records
    assert c["cid"].is_unique
    assert c["teu"].isin([1, 2]).all()
    assert c["teu"].sum() == created
    done = c["t_delivered"].notna()
    assert c.loc[done, "teu"].sum() == delivered
    assert c.loc[~done, "teu"].sum() == inside


def check_milestones(c: pd.DataFrame, horizon_h: float) -> None:
    """Every container's milestones are ordered and none is reached without its
    predecessors.

    Parameters
    ----------
    c
        The containers table.
    horizon_h
        Run length [h]; every milestone lies in ``[0, horizon_h]``.
    """
    if len(c) == 0:
        return
    t = {m: c[m].to_numpy(float) for m in c.columns if m.startswith("t_")}
    have = {m: ~np.isnan(v) for m, v in t.items()}
    for m, v in t.items():
        ok = ~have[m] | ((v >= -EPS) & (v <= horizon_h + EPS))
        assert ok.all(), f"{m} outside [0, {horizon_h}]: {c.loc[~ok, ['cid', m]].head()}"
    assert have["t_created"].all(), "a container without t_created"

    road = (c["mode"] == "road").to_numpy()
    rail = ~road
    # road boxes: created -> arrived = delivered; no terminal milestone
    for m in (
        "t_gate_arrive",
        "t_gate_in",
        "t_loaded",
        "t_departed",
        "t_border_in",
        "t_border_out",
    ):
        bad = road & have[m]
        assert not bad.any(), f"road box with {m}: {c.loc[bad, 'cid'].tolist()[:5]}"
    rb = road & have["t_arrived"]
    assert (have["t_delivered"][rb]).all()
    assert np.all(t["t_delivered"][rb] == t["t_arrived"][rb])
    assert np.all(t["t_arrived"][rb] >= t["t_created"][rb] - EPS)
    assert not (road & have["t_delivered"] & ~have["t_arrived"]).any()

    # rail boxes: the chain, with predecessors
    chain = RAIL_CHAIN
    for prev, nxt in itertools.pairwise(chain):
        reached = rail & have[nxt]
        missing = reached & ~have[prev]
        assert not missing.any(), (
            f"{nxt} reached without {prev}: "
            f"{c.loc[missing, ['cid', 'service', prev, nxt]].head().to_dict('records')}"
        )
        early = reached & (t[nxt] < t[prev] - EPS)
        assert not early.any(), (
            f"{nxt} before {prev}: "
            f"{c.loc[early, ['cid', 'service', prev, nxt]].head().to_dict('records')}"
        )
    # border milestones: inside [t_departed, t_arrived], in at or before out
    b_in, b_out = have["t_border_in"], have["t_border_out"]
    assert not (rail & b_in & ~have["t_departed"]).any(), "border reached before departure"
    assert not (rail & b_out & ~b_in).any(), "border left without entering"
    x = rail & b_in
    assert np.all(t["t_border_in"][x] >= t["t_departed"][x] - EPS)
    x = rail & b_out
    assert np.all(t["t_border_out"][x] >= t["t_border_in"][x] - EPS)
    x = rail & b_out & have["t_arrived"]
    assert np.all(t["t_arrived"][x] >= t["t_border_out"][x] - EPS)
    # a box that arrived somewhere after a port has been cleared there
    x = rail & b_in & have["t_arrived"]
    assert b_out[x].all(), "arrived without border clearance"

    # boxes entering at a siding (no terminal at the first place) enter at creation
    siding = rail & have["t_gate_in"] & (t["t_gate_in"] == t["t_created"])
    assert np.all(t["t_gate_arrive"][siding] == t["t_created"][siding])
    # held boxes were inspected at a border
    held = c["held"].to_numpy(bool)
    assert not (held & ~b_in).any(), "held box that never reached a border"


def check_passengers(result: Result) -> None:
    """Every passenger of the station either boards or misses the train."""
    k = result.kpis
    if "pax.passengers" not in k:
        return
    assert k["pax.passengers"] == k["pax.boarded"] + k["pax.missed_departures"]
    dep = result.tables.get("pax_departures")
    if dep is not None and len(dep):
        assert (dep["passengers"] == dep["boarded"] + dep["missed"]).all()
        assert dep["passengers"].sum() == k["pax.passengers"]
    p = result.tables.get("passengers")
    if p is not None and len(p):
        assert len(p) == k["pax.passengers"]
        assert (p["boarded"].astype(bool) != p["missed"].astype(bool)).all()
        # a passenger who misses the train may leave without reaching the gate (NaN)
        order = (
            "arrival_h",
            "security_start_h",
            "security_exit_h",
            "gate_arrival_h",
            "gate_pass_h",
        )
        assert p["security_exit_h"].notna().all()
        for a, b in itertools.pairwise(order):
            reached = p[b].notna()
            assert p.loc[reached, a].notna().all(), f"{b} reached without {a}"
            assert (p.loc[reached, b] >= p.loc[reached, a] - EPS).all(), f"{b} before {a}"
        assert p.loc[p["boarded"].astype(bool), "gate_pass_h"].notna().all()


def check_sections(result: Result, scenario: Scenario | None = None) -> None:
    """Occupation rules of the lines, from the ``sections`` table (stations: when the
    scenario is given, for their track counts)."""
    sec = result.tables.get("sections")
    if sec is None or len(sec) == 0:
        return
    assert (sec["t_exit"] >= sec["t_enter"] - EPS).all()
    assert (sec["t_enter"] >= sec["t_ready"] - EPS).all()
    lines = scenario.lines if scenario is not None else {}
    for (line_id, sid), g in sec.groupby(["line", "section"], sort=False):
        g = g.sort_values("t_enter", kind="stable")
        spec = lines.get(str(line_id))
        if g["track"].iloc[0] == "single":
            gap = spec.station_interval_min / 60.0 if spec is not None else 0.0
            enter, leave = g["t_enter"].to_numpy(), g["t_exit"].to_numpy()
            assert (enter[1:] >= leave[:-1] + gap - EPS).all(), f"two trains in {sid}"
        else:
            for _, one_way in g.groupby("direction"):
                e = one_way["t_enter"].to_numpy()
                i = [spec.section_ids.index(str(sid))] if spec is not None else []
                head = spec.headway_min_of(i[0]) / 60.0 if i else 0.0
                assert (np.diff(e) >= head - EPS).all(), f"headway broken in {sid}"
    for line_id, spec in lines.items():
        limited = scenario.limited_stations(line_id) if scenario is not None else []
        mine = sec[sec["line"] == line_id]
        for k, st in enumerate(spec.stations):
            if not limited[k] or st.tracks is None:
                continue
            arrive = mine[mine["to"] == st.id][["tid", "direction", "t_exit"]]
            leave = mine[mine["from"] == st.id][["tid", "direction", "t_enter"]]
            stay = arrive.merge(leave, on=["tid", "direction"])
            stay = stay[stay["t_enter"] >= stay["t_exit"] - EPS]
            quota = {"increasing": math.ceil(st.tracks / 2), "decreasing": st.tracks // 2}
            for d, g in stay.groupby("direction"):
                events = sorted([(t, 1) for t in g["t_exit"]] + [(t, -1) for t in g["t_enter"]])
                level = max(itertools.accumulate(step for _, step in events), default=0)
                assert level <= quota[str(d)], f"{level} trains at {st.id} ({d})"


def check_run(result: Result, scenario: Scenario | None = None) -> None:
    """All invariants of one finished run."""
    check_conservation(result)
    check_sections(result, scenario)
    c = result.tables.get("containers")
    if c is not None:
        check_milestones(c, 24.0 * float(result.manifest["days"]))
    check_passengers(result)
    for name, v in result.kpis.items():
        assert not (isinstance(v, float) and math.isinf(v)), f"KPI {name} is infinite"
        if name.endswith("_utilization") and v == v:  # busy share of what was there
            assert -EPS <= v <= 1.0 + EPS, f"KPI {name} = {v} is not a share"
