"""Replications up to a relative precision: the stopping rule and the sequential procedure
on synthetic samples, then ``replicate(..., precision=...)`` on short runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import g60rail as g6
from g60rail.experiment.precision import (
    adjusted_relative_precision,
    precision_status,
    replicate_until_precise,
    replications_for_relative_precision,
)
from g60rail.experiment.replications import replicate, replication_seeds
from g60rail.experiment.stats import summarize
from tests.conftest import songjiang_hub

GAMMA = 0.05
TARGET = GAMMA / (1 + GAMMA)  # Law & Kelton's adjusted γ'


# -- the stopping rule --------------------------------------------------------------------
def test_the_stopping_rule_reads_every_kpi_of_a_summary() -> None:
    rng = np.random.default_rng(5)
    runs = pd.DataFrame(
        {
            "precise": rng.normal(100.0, 2.0, 8),  # relative half-width about 1.7 %
            "noisy": rng.normal(10.0, 2.0, 8),  # about 17 %
            "zero": np.zeros(8),  # no spread: a zero-width interval
        }
    )
    summary = summarize(runs)
    one = precision_status(summary, ["precise", "zero"], GAMMA)
    assert one.met and one.needed == 8
    assert one.relative_half_widths["zero"] == 0.0
    assert one.relative_half_widths["precise"] == pytest.approx(
        summary.loc["precise", "half_width"] / abs(summary.loc["precise", "mean"])
    )
    both = precision_status(summary, ["precise", "noisy"], GAMMA)
    assert not both.met
    s = summary.loc["noisy"]
    assert both.needed == replications_for_relative_precision(s["mean"], s["std"], 8, GAMMA)
    assert both.needed is not None and both.needed > 8
    assert both.half_widths["noisy"] == summary.loc["noisy", "half_width"]
    # a KPI no run reported cannot meet the precision, nor estimate what it needs
    missing = precision_status(summary, ["precise", "transit.a_b.h_mean"], GAMMA)
    assert not missing.met and missing.needed is None
    assert math.isnan(missing.relative_half_widths["transit.a_b.h_mean"])


class NormalKpi:
    """A KPI whose replications are i.i.d. normal, drawn in replication order."""

    def __init__(self, mean: float, std: float, seed: int) -> None:
        self.mean, self.std = mean, std
        self.rng = np.random.default_rng(seed)
        self.values: list[float] = []
        self.rounds: list[tuple[int, int]] = []

    def __call__(self, start: int, stop: int) -> pd.DataFrame:
        self.rounds.append((start, stop))
        while len(self.values) < stop:
            self.values.append(float(self.rng.normal(self.mean, self.std)))
        return pd.DataFrame({"kpi": self.values[start:stop]})


MACRO = 200


def test_the_sequential_procedure_reaches_the_relative_precision() -> None:
    """Law & Kelton's procedure ends with a relative error ``|X̄ - μ| / |μ| <= γ`` with
    probability about ``1 - α`` (exactly so as ``γ → 0``).

    The KPI has a coefficient of variation of 0.2, so about 70 replications are needed
    from a start of 3.  Over M = 200 independent macro-replications the share of runs
    within ``γ`` has a standard error of sqrt(0.95 · 0.05 / 200) ≈ 0.015 at the nominal
    0.95; the test accepts 0.95 - 3 SE ≈ 0.904, which a procedure at its nominal level
    fails with probability about 0.1 % (normal tail).
    """
    mu, within, sizes = 10.0, 0, []
    for m in range(MACRO):
        observe = NormalKpi(mu, 2.0, seed=2_000 + m)
        out = replicate_until_precise(
            observe, ["kpi"], precision=GAMMA, initial=3, max_replications=1_000
        )
        assert out.stopped_because == "precision"
        assert out.status.relative_half_widths["kpi"] <= TARGET
        assert out.batches[0] == 3 and sum(out.batches) == out.replications
        # rounds follow each other: each starts where the last one stopped
        assert [a for a, _ in observe.rounds] == [0, *(b for _, b in observe.rounds[:-1])]
        mean = float(np.mean(observe.values[: out.replications]))
        within += abs(mean - mu) / mu <= GAMMA
        sizes.append(out.replications)
    share = within / MACRO
    print(f"relative error <= {GAMMA}: {share:.3f}; replications: median {np.median(sizes)}")
    assert share >= 0.95 - 3.0 * math.sqrt(0.95 * 0.05 / MACRO)
    assert 40 <= np.median(sizes) <= 120  # (1.96 · 0.2 / γ')² ≈ 68


def test_the_sequential_procedure_stops_at_max_replications() -> None:
    observe = NormalKpi(1.0, 5.0, seed=9)  # a coefficient of variation of 5
    out = replicate_until_precise(observe, ["kpi"], precision=GAMMA, initial=4, max_replications=12)
    assert out.stopped_because == "max_replications"
    assert out.replications == 12 and sum(out.batches) == 12
    assert out.status.relative_half_widths["kpi"] > TARGET
    with pytest.raises(ValueError, match="max_replications"):
        replicate_until_precise(observe, ["kpi"], precision=GAMMA, initial=4, max_replications=3)
    with pytest.raises(ValueError, match="precision"):
        replicate_until_precise(observe, ["kpi"], precision=0.0, initial=4, max_replications=9)


def test_later_replications_keep_the_seeds_of_earlier_ones() -> None:
    """Rounds of any size draw the same seed for replication ``i``."""
    longest = replication_seeds(17, 64)
    for n in (1, 2, 3, 7, 20, 63):
        assert replication_seeds(17, n) == longest[:n]


# -- replicate with precision -------------------------------------------------------------
DAYS = 10
KPIS = ["hub.dwell_h_mean", "freight.teu_delivered", "hub.reach_stacker_utilization"]


@pytest.fixture(scope="module")
def hub() -> g6.Scenario:
    """The baseline's Songjiang services (the hub KPIs, at a seventh of the events)."""
    return songjiang_hub()


def test_replicate_adds_replications_until_every_kpi_is_precise(hub: g6.Scenario) -> None:
    res = replicate(
        hub, 3, DAYS, seed=3, executor="serial", progress=False, precision=GAMMA, kpis=KPIS
    )
    print(
        f"{res.replications} replications in rounds {res.batches}: half-widths",
        {k: f"{res.half_widths[k]:.4g} ({res.relative_half_widths[k]:.2%})" for k in KPIS},
    )
    assert res.stopped_because == "precision"
    assert res.kpis == KPIS and res.precision == GAMMA
    assert len(res.batches) >= 2 and res.batches[0] == 3  # the first round was not enough
    assert res.replications == len(res.runs) == sum(res.batches)
    assert list(res.runs["seed"]) == replication_seeds(3, res.replications)
    for kpi in KPIS:
        ci = res.ci(kpi)
        assert ci.n == res.replications
        assert res.half_widths[kpi] == pytest.approx(ci.half_width)
        assert res.relative_half_widths[kpi] == pytest.approx(ci.half_width / abs(ci.mean))
        assert res.relative_half_widths[kpi] <= TARGET < GAMMA
    # a replication of a later round is the run of its seed
    last = res.runs.iloc[-1]
    alone = g6.simulate(hub, days=DAYS, seed=int(last["seed"]))
    assert alone.kpis["hub.dwell_h_mean"] == last["hub.dwell_h_mean"]


def test_replicate_stops_at_max_replications(hub: g6.Scenario) -> None:
    res = replicate(
        hub,
        2,
        5,
        seed=1,
        executor="serial",
        progress=False,
        precision=0.001,
        kpis=["hub.dwell_h_mean"],
        max_replications=3,
    )
    assert res.stopped_because == "max_replications"
    assert res.replications == 3 and res.batches == [2, 1]
    assert res.relative_half_widths["hub.dwell_h_mean"] > adjusted_relative_precision(0.001)


def test_replicate_without_precision_runs_the_fixed_number(hub: g6.Scenario) -> None:
    res = replicate(hub, 2, 5, seed=1, executor="serial", progress=False)
    assert res.stopped_because == "replications" and res.batches == [2]
    assert res.precision is None and res.kpis == [] and res.half_widths == {}
    assert res.replications == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"precision": 0.0}, r"precision must be a positive number, got 0\.0"),
        ({"precision": -0.1}, r"precision must be a positive number, got -0\.1"),
        ({"precision": math.nan}, "precision must be a positive number, got nan"),
        ({"precision": True}, "precision must be a positive number, got True"),
        ({"precision": GAMMA, "kpis": ["hub.dwell_h_mena"]}, r"kpis has 'hub\.dwell_h_mena'"),
        ({"precision": GAMMA, "kpis": "hub.dwell_h_mean"}, "non-empty list"),
        ({"precision": GAMMA, "kpis": []}, "non-empty list"),
        ({"precision": GAMMA}, "precision needs kpis"),
        (
            {"precision": GAMMA, "kpis": ["hub.dwell_h_mean"], "max_replications": 3},
            r"max_replications must be >= replications \(4\), got 3",
        ),
        ({"kpis": ["hub.dwell_h_mean"]}, "kpis applies only with precision"),
        ({"max_replications": 9}, "max_replications applies only with precision"),
    ],
)
def test_replicate_refuses_bad_precision_input(
    hub: g6.Scenario, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        replicate(hub, 4, DAYS, executor="serial", progress=False, **kwargs)  # type: ignore[arg-type]


def test_precision_needs_two_first_replications(hub: g6.Scenario) -> None:
    with pytest.raises(ValueError, match="replications must be >= 2 with precision, got 1"):
        replicate(hub, 1, DAYS, progress=False, precision=GAMMA, kpis=["hub.dwell_h_mean"])
