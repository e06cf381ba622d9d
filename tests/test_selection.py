"""Selection of the best configuration: procedure KN on synthetic observations (its
guarantee, its early stop, its ties and budget) and on simulation runs with common
random numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

import g60rail as g6
from g60rail.experiment import selection as sel
from g60rail.experiment.replications import replication_seeds
from g60rail.experiment.selection import kn_constants, kn_select, select_best
from tests.conftest import DESIGN_RUNS, songjiang_design_hub, songjiang_hub


class CrnNormals:
    """Normal observations of ``k`` points with common random numbers.

    Replication ``j`` of point ``i`` is ``μ_i + σ(√ρ Z_j + √(1 - ρ) E_ij)``: the shared
    ``Z_j`` plays the part of the seed every point runs with, so observations of one
    replication are correlated (``ρ``) across points, as under CRN.  Columns are drawn
    in replication order from one seeded generator and kept, so a replication has the
    same values whichever points ask for it.
    """

    def __init__(self, means: Sequence[float], sigma: float, rho: float, seed: int) -> None:
        self.means = np.asarray(means, float)
        self.sigma, self.rho = sigma, rho
        self.rng = np.random.default_rng(seed)
        self.columns: list[np.ndarray] = []
        self.calls: list[tuple[list[int], list[int]]] = []

    def column(self, j: int) -> np.ndarray:
        while len(self.columns) <= j:
            z = self.rng.standard_normal()
            e = self.rng.standard_normal(self.means.size)
            noise = math.sqrt(self.rho) * z + math.sqrt(1.0 - self.rho) * e
            self.columns.append(self.means + self.sigma * noise)
        return self.columns[j]

    def __call__(self, points: Sequence[int], reps: Sequence[int]) -> np.ndarray:
        self.calls.append((list(points), list(reps)))
        return np.array([[self.column(j)[i] for j in reps] for i in points])


# -- the guarantee ----------------------------------------------------------------------
K, DELTA, SIGMA, RHO, BEST = 4, 0.5, 1.0, 0.5, 2
MACRO = 400  # macro-replications of the whole procedure


def test_kn_selects_correctly_with_the_guaranteed_probability() -> None:
    """Slippage configuration: the best mean is exactly δ below the k - 1 others (all
    equal), the least favourable configuration of the indifference-zone guarantee.

    Each macro-replication is an independent Bernoulli trial with success probability
    PCS >= 0.95, so the share of correct selections over M = 400 has a standard error
    of at most sqrt(0.95 · 0.05 / 400) ≈ 0.011 when PCS = 0.95.  The test accepts
    estimates down to 0.95 - 3 SE ≈ 0.917: a procedure that keeps its guarantee fails
    it with probability about 0.1 % (normal tail), while a procedure whose PCS is
    really 0.90 passes it with probability under 10 %.  (KN is conservative: its PCS
    here is near 0.98.)
    """
    means = np.full(K, DELTA)
    means[BEST] = 0.0
    correct, stages = 0, []
    for m in range(MACRO):
        sample = CrnNormals(means, SIGMA, RHO, seed=10_000 + m)
        out = kn_select(sample, K, indifference=DELTA, confidence=0.95, n0=10)
        correct += out.best == BEST
        stages.append(out.stages)
        assert out.reason in {sel.ELIMINATED, sel.SAMPLE_SIZE}
    pcs = correct / MACRO
    tolerance = 3.0 * math.sqrt(0.95 * 0.05 / MACRO)
    print(f"PCS {pcs:.3f} over {MACRO} macro-replications (stages: median {np.median(stages)})")
    assert pcs >= 0.95 - tolerance


def test_kn_constants_follow_kim_and_nelson() -> None:
    eta, h2 = kn_constants(4, 0.95, 10)
    assert eta == pytest.approx(0.5 * ((2 * 0.05 / 3) ** (-2 / 9) - 1))
    assert h2 == pytest.approx(2 * eta * 9)
    # more points or a smaller first stage widen the continuation region
    assert kn_constants(10, 0.95, 10)[1] > h2 > kn_constants(4, 0.95, 30)[1]


# -- early stop, ties, budget -------------------------------------------------------------
def test_a_far_better_point_ends_kn_early() -> None:
    means = [5.0, 5.0, 0.0, 5.0, 5.0]  # point 2 is 10 δ better than every other
    sample = CrnNormals(means, SIGMA, RHO, seed=1)
    out = kn_select(sample, 5, indifference=DELTA, n0=10)
    assert out.best == 2 and out.reason == sel.ELIMINATED
    assert out.stages <= 3
    assert sorted(out.eliminated) == [0, 1, 3, 4]
    assert out.survivors == [2]
    assert out.means[2] == pytest.approx(out.sample_means[2])
    for i, stage in out.eliminated.items():
        assert out.replications[i] == 10 + stage
    # the first stage samples every point, later stages only those still in contention
    assert sample.calls[0] == ([0, 1, 2, 3, 4], list(range(10)))
    for alive, _ in sample.calls[1:]:
        assert 2 in alive and len(alive) < 5


def test_kn_maximises_when_asked() -> None:
    means = [0.0, 5.0, 0.0]
    sample = CrnNormals(means, SIGMA, RHO, seed=2)
    out = kn_select(sample, 3, indifference=DELTA, minimize=False)
    assert out.best == 1
    assert out.means[1] == pytest.approx(5.0, abs=1.0)


def test_identical_points_end_at_the_apex_as_a_tie() -> None:
    """Points whose runs are equal under CRN have differences without variance: KN's
    continuation region is empty and the first of the tied points is selected."""
    out = kn_select(CrnNormals([3.0, 3.0, 3.0], SIGMA, 1.0, seed=3), 3, indifference=DELTA)
    assert out.reason == sel.SAMPLE_SIZE
    assert out.best == 0 and out.stages == 1
    assert out.survivors == [0, 1, 2]


def test_the_budget_stops_kn_without_its_guarantee() -> None:
    sample = CrnNormals([0.0, 0.0], SIGMA, 0.0, seed=4)  # equal means: KN runs long
    out = kn_select(sample, 2, indifference=0.05, n0=5, max_stages=4, stage_size=3)
    assert out.reason == sel.MAX_STAGES and out.stages == 4
    assert out.replications == [5 + 3 * 3] * 2
    assert sample.calls[1][1] == [5, 6, 7]  # stages of three replications each
    assert out.best == int(np.argmin([out.means[0], out.means[1]]))


def test_a_single_point_needs_no_runs() -> None:
    out = kn_select(CrnNormals([1.0], SIGMA, RHO, seed=0), 1, indifference=DELTA)
    assert (out.best, out.reason, out.replications) == (0, sel.SINGLE_POINT, [0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"indifference": 0.0}, "indifference"),
        ({"indifference": -1.0}, "indifference"),
        ({"confidence": 0.2}, "confidence"),
        ({"confidence": 1.0}, "confidence"),
        ({"n0": 1}, "n0"),
        ({"max_stages": 0}, "max_stages"),
        ({"stage_size": 0}, "stage_size"),
    ],
)
def test_kn_refuses_bad_settings(kwargs: dict[str, float], match: str) -> None:
    settings = {"indifference": DELTA, **kwargs}
    with pytest.raises(ValueError, match=match):
        kn_select(CrnNormals([0.0] * 4, SIGMA, RHO, seed=0), 4, **settings)


def test_kn_refuses_bad_observations() -> None:
    with pytest.raises(ValueError, match="shape"):
        kn_select(lambda p, r: np.zeros((len(p), 1)), 2, indifference=DELTA)

    def second_point_fails(points: Sequence[int], reps: Sequence[int]) -> np.ndarray:
        x = np.zeros((len(points), len(reps)))
        x[1, 0] = np.nan
        return x

    with pytest.raises(ValueError, match="point 1, replication 0"):
        kn_select(second_point_fails, 2, indifference=DELTA)


# -- on simulation runs -------------------------------------------------------------------
DAYS = 8
KPI = "hub.truck_turnaround_h_mean"
POINTS = [{"hub.reach_stackers": 1}, {"hub.reach_stackers": 2}, {"hub.reach_stackers": 4}]


@pytest.fixture(scope="module")
def hub() -> g6.Scenario:
    return songjiang_hub()


def test_select_best_runs_kn_on_common_random_numbers(hub: g6.Scenario) -> None:
    out = g6.select_best(
        hub,
        POINTS,
        KPI,
        indifference=0.02,
        n0=4,
        days=DAYS,
        seed=1,
        executor="serial",
        progress=False,
    )
    # four reach stackers turn trucks round fastest
    assert out.best == 2 and out.best_overrides == {"hub.reach_stackers": 4}
    assert out.reason in {sel.ELIMINATED, sel.SAMPLE_SIZE}
    assert out.kpi == KPI and out.points == POINTS
    runs = out.runs
    assert runs is not None
    assert len(runs) == sum(out.replications)
    seeds = replication_seeds(1, max(out.replications))
    for _, g in runs.groupby("point"):
        assert list(g["seed"]) == seeds[: len(g)]  # every point runs the same seeds
    means = runs.groupby("point")[KPI].mean()
    assert out.sample_means == pytest.approx(list(means))
    print(out.reason, out.stages, out.replications, out.eliminated, out.sample_means)


def test_select_best_warns_when_its_pick_has_no_steady_state() -> None:
    """Two stackers at the design load: served first come first served they turn the
    trucks round faster than with train work first, but trains leave boxes behind and
    the backlog grows, which the pick's warning says."""
    two = songjiang_design_hub().with_overrides({"hub.reach_stackers": 2})
    rules = [{"hub.stacker_priority": "trains_first"}, {"hub.stacker_priority": "fcfs"}]
    with pytest.warns(UserWarning, match=r"backlog kept growing in 50% of its replications"):
        out = g6.select_best(
            two,
            rules,
            "hub.truck_turnaround_h_p95",
            indifference=0.1,
            n0=2,
            max_replications=2,
            **DESIGN_RUNS,
        )
    assert out.best_overrides == {"hub.stacker_priority": "fcfs"}
    assert out.growing_backlog == {1: 0.5}


def test_select_best_refuses_bad_input_before_running(hub: g6.Scenario) -> None:
    def call(
        points: list[dict[str, int]] = POINTS,
        kpi: str = KPI,
        indifference: float = 0.02,
        n0: int = 4,
        max_replications: int = 20,
    ) -> None:
        select_best(
            hub,
            points,
            kpi,
            indifference=indifference,
            n0=n0,
            max_replications=max_replications,
            days=DAYS,
            executor="serial",
            progress=False,
        )

    with pytest.raises(ValueError, match="points"):
        call(points=[])
    with pytest.raises(ValueError, match=r"points\[2\] repeats points\[0\]"):
        call(points=[*POINTS[:2], POINTS[0]])
    with pytest.raises(ValueError, match=r"kpi 'hub\.truck_turnaround'"):
        call(kpi="hub.truck_turnaround")
    with pytest.raises(ValueError, match="max_replications must be >= n0"):
        call(n0=10, max_replications=5)
    with pytest.raises(ValueError, match="indifference"):
        call(indifference=0)
    with pytest.raises(g6.ScenarioError):
        call(points=[{"hub.reach_stackers": -1}, {}])


def test_g60rail_forwards_select_best() -> None:
    from g60rail import experiment

    assert g6.select_best is experiment.select_best is select_best
