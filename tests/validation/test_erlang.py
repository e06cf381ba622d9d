"""Erlang C: M/M/c queues in the customs model and the station's security lanes.

Theory: the M/M/c queue (A. K. Erlang, 1917; e.g. Gross & Harris, *Fundamentals of
Queueing Theory*, 4th ed., §2.3).  With arrival rate λ, service rate μ per server, c
servers, offered load a = λ/μ and utilisation ρ = a/c < 1, the probability of waiting is

    C(c, a) = (a^c / c!) / (1 - ρ) / (Σ_{k<c} a^k / k! + (a^c / c!) / (1 - ρ))

and the mean wait before service is W_q = C(c, a) / (c μ - λ).

Customs (model/border.py).  A :class:`~g60rail.model.border.BorderPort` is driven
directly: one-box trains arrive as a Poisson process, every declaration goes to the
officers (``predeclared_share`` 0, exponential ``declaration_h``), scan, technical
handling and inspection take no time and the port never closes, so the officers are an
M/M/c FIFO queue and a train's clearance minus its own declaration time is its wait.

Station (model/station).  The security lanes of one entrance, staffed with c lanes in
every hour, with Poisson arrivals and exponential screening, through the station's own
:class:`~g60rail.model.station.records.SecurityBank`.  The exit gates have a fixed service
time: one gate with Poisson arrivals is M/D/1, whose mean wait is Pollaczek-Khinchine's
W_q = ρ / (2 μ (1 - ρ)) (Gross & Harris §5.1.1), through
:class:`~g60rail.model.station.records.ExitBank`.

Tolerance.  Estimates are batch means (30 batches after a warm-up of 10 % of the run).
The queue forgets its start within roughly 1 / (c μ (1 - √ρ)²) hours, about
ρ / (1 - √ρ)² ≈ 1,500 customers at ρ = 0.95 and a few dozen at ρ = 0.5, well below a
batch (≥ 3,000 customers, 9,000 at ρ = 0.95), so the batch means are close to
independent and normal.  Erlang C must lie inside the 99.9 % Student-t interval of the
batch means: with a fixed seed the test is deterministic, and a correct model fails it
with probability 0.1 % per case over seeds.  The interval must also be informative:
half-width below 20 % of W_q (40 % at ρ = 0.95, where the wait's autocorrelation makes
SimPy runs long).  The probability of waiting, C(c, a), is checked the same way (its
interval below 10 % of C).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from scipy import stats

import g60rail as g6
from g60rail.model.border import BorderPort
from g60rail.model.cargo import Container, Hop
from g60rail.model.rolling_stock import Train
from g60rail.random import Streams
from g60rail.scenario.schema import BorderSpec

N_BATCHES = 30
LEVEL = 0.999


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """Probability of waiting and mean wait before service [h] of an M/M/c queue.

    Parameters
    ----------
    lam
        Arrival rate [1/h].
    mu
        Service rate of one server [1/h].
    c
        Servers.
    """
    a = lam / mu
    rho = a / c
    assert rho < 1
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) / (1.0 - rho)
    p_wait = tail / (head + tail)
    return p_wait, p_wait / (c * mu - lam)


def batch_interval(x: np.ndarray, warmup: int) -> tuple[float, float]:
    """Mean and half-width of the ``LEVEL`` t-interval from ``N_BATCHES`` batch means."""
    size = (len(x) - warmup) // N_BATCHES
    batches = x[warmup : warmup + size * N_BATCHES].reshape(N_BATCHES, size).mean(axis=1)
    half = stats.t.ppf(0.5 + LEVEL / 2, N_BATCHES - 1) * batches.std(ddof=1)
    return float(batches.mean()), float(half / math.sqrt(N_BATCHES))


def test_erlang_c_formula() -> None:
    """The reference itself: M/M/1 gives W_q = ρ / (μ - λ); M/M/2 at a = 1 gives 1/3."""
    p, w = erlang_c(0.8, 1.0, 1)
    assert p == pytest.approx(0.8) and w == pytest.approx(0.8 / 0.2)
    p, _ = erlang_c(1.0, 1.0, 2)
    assert p == pytest.approx(1.0 / 3.0)


# -- customs --------------------------------------------------------------------------------
OFFICERS = 3
DECLARATION_H = 0.25  # mean declaration time [h]


def customs_waits(rho: float, n: int, seed: int) -> tuple[np.ndarray, float]:
    """Waits [h] of ``n`` one-box trains at an M/M/c customs port, in arrival order.

    Returns
    -------
    waits, lam
        Clearance minus own declaration time per train, and the arrival rate [1/h].
    """
    env = simpy.Environment()
    spec = BorderSpec(
        place="x",
        officers=OFFICERS,
        declaration_h={"dist": "exponential", "mean": DECLARATION_H},
        predeclared_share=0.0,
        scan_h=0.0,
        technical_h=0.0,
        inspection_h=0.0,
        inspect_share_exit=0.0,
        inspect_share_entry=0.0,
    )
    streams = Streams(seed)
    port = BorderPort(env, spec, "CN", streams, day0_h=0.0)
    draws: list[float] = []
    sampler = port.declaration_h

    def recorded() -> float:  # the port draws one declaration per train on arrival
        v = sampler()
        draws.append(v)
        return v

    port.declaration_h = recorded
    lam = rho * OFFICERS / DECLARATION_H
    gaps = streams.rng("test.arrivals").exponential(1.0 / lam, n).tolist()
    hop = (Hop("rail", "s", "x", "y"),)
    never_inspected = (1.0, 1.0, 1.0, 1.0)

    def trains():
        for i, gap in enumerate(gaps):
            yield env.timeout(gap)
            train = Train(i, "s", 10, env.now)
            train.add(Container(i, 1, "x", "y", "s", hop, env.now, 0.0, never_inspected))
            env.process(port.clear(train, exit_=False))

    env.process(trains())
    env.run()
    log = sorted(port.log)  # (tid, service, t_in, t_out, teu, held) by train id
    assert len(log) == n == len(draws)
    t_in = np.array([r[2] for r in log])
    t_out = np.array([r[3] for r in log])
    return t_out - t_in - np.asarray(draws), lam


@pytest.mark.parametrize(
    ("rho", "n", "max_rel_half"),
    [(0.5, 100_000, 0.20), (0.8, 160_000, 0.20), (0.95, 300_000, 0.40)],
)
def test_customs_mmc_matches_erlang_c(rho: float, n: int, max_rel_half: float) -> None:
    """Mean wait for a customs officer = Erlang C at ρ = 0.5, 0.8, 0.95 (see module doc)."""
    waits, lam = customs_waits(rho, n, seed=1)
    assert waits.min() > -1e-9  # nobody is served before arriving
    p_exact, w_exact = erlang_c(lam, 1.0 / DECLARATION_H, OFFICERS)
    mean, half = batch_interval(waits, warmup=n // 10)
    assert abs(mean - w_exact) <= half, (mean, w_exact, half)
    assert half <= max_rel_half * w_exact, "interval too wide to say anything"
    # the other half of Erlang C: the probability of waiting at all
    p_mean, p_half = batch_interval((waits > 1e-12).astype(float), warmup=n // 10)
    assert abs(p_mean - p_exact) <= p_half, (p_mean, p_exact, p_half)
    assert p_half <= 0.10 * p_exact


# -- station security -------------------------------------------------------------------------
LANES = 4
SCREEN_S = 10.5  # mean screening time [s] (baseline station, corridor-facts "security lane")


def _security_bank(lanes: int):
    from g60rail.model.station.records import SecurityBank
    from g60rail.scenario.station_spec import Entrance

    base = g6.load_scenario("baseline").station
    assert base is not None, "the baseline has a station"
    entrance = Entrance(name="one", share=1.0, security_lanes_per_hour=[lanes] * 24)
    spec = base.model_copy(update={"entrances": (entrance,)})
    return SecurityBank(spec, 0.0)


@pytest.mark.parametrize(("rho", "size"), [(0.5, 10_000), (0.8, 20_000), (0.95, 100_000)])
def test_station_security_matches_erlang_c(rho: float, size: int) -> None:
    """Mean security wait = Erlang C at ρ = 0.5, 0.8, 0.95 through the station's
    :class:`SecurityBank` (one entrance, c lanes all day; see module doc)."""
    bank = _security_bank(LANES)
    mu = 3600.0 / SCREEN_S
    lam = rho * LANES * mu
    rng = Streams(11).rng("test.station.erlang")
    n = size * N_BATCHES + size * N_BATCHES // 10
    arrival = np.cumsum(rng.exponential(1.0 / lam, n))
    service = rng.exponential(1.0 / mu, n)
    start = bank.starts(arrival, service, np.zeros(n, dtype=np.int64))
    waits = start - arrival
    _, w_exact = erlang_c(lam, mu, LANES)
    mean, half = batch_interval(waits, warmup=n - size * N_BATCHES)
    assert abs(mean - w_exact) <= half, (mean, w_exact, half)
    assert half <= 0.2 * w_exact


@pytest.mark.parametrize(("rho", "size"), [(0.5, 10_000), (0.9, 40_000)])
def test_station_exit_gate_matches_pollaczek_khinchine(rho: float, size: int) -> None:
    """M/D/1 exit gate: mean wait = ρ / (2 μ (1 - ρ)); the hourly queue integral equals
    the summed waits (Little's law on the run's own records)."""
    from g60rail.model.station.records import ExitBank
    from g60rail.scenario.station_spec import ExitGates

    per_min = 25.0
    mu = 60.0 * per_min
    lam = rho * mu
    rng = Streams(12).rng("test.station.exit")
    n = size * N_BATCHES + size * N_BATCHES // 10
    reach = np.cumsum(rng.exponential(1.0 / lam, n))
    n_slots = int(np.ceil(reach[-1])) + 2
    bank = ExitBank(ExitGates(gates=1, passengers_per_min=per_min), n_slots)
    acc = np.zeros((n_slots, 3))
    half_n = n // 2  # in two batches: the carried state continues one queue
    s1, _ = bank.stream(reach[:half_n], float(reach[half_n]), acc)
    s2, _ = bank.stream(reach[half_n:], float(n_slots), acc)
    bank.finish()
    waits = np.concatenate((s1, s2)) - reach
    w_exact = rho / (2.0 * mu * (1.0 - rho))
    mean, half = batch_interval(waits, warmup=n - size * N_BATCHES)
    assert abs(mean - w_exact) <= half, (mean, w_exact, half)
    assert half <= 0.2 * w_exact
    assert bank.q_sum.sum() == pytest.approx(waits.sum(), rel=1e-9)
    assert acc[:, 0].sum() == n
