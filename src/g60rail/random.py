"""Named random streams and distribution specifications.

Every run owns one :class:`Streams` built from a single integer seed.  Each source of
randomness (demand of one service, the gate, the customs officers of one port, the
passengers ...) asks for its stream by name.  A stream's numbers depend only on the seed
and its name, never on which other streams exist or in which order they were created, so
changing one capacity does not shift the random numbers of another part of the model
(common random numbers across scenarios).

Distributions are declared in scenario files as small tables such as
``{ dist = "lognormal", mean = 60.0, cv = 0.4 }`` or as a plain number (a constant).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections.abc import Iterator
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = [
    "Constant",
    "DistSpec",
    "Distribution",
    "Exponential",
    "Gamma",
    "LogNormal",
    "Sampler",
    "Streams",
    "Triangular",
    "Uniform",
    "UniformBuffer",
    "as_distribution",
]

_BLOCK = 1024


def _name_key(name: str) -> tuple[int, ...]:
    """Four 32-bit words derived from a stream name (stable across runs and platforms)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class Streams:
    """Independent random generators keyed by name, all derived from one seed.

    Parameters
    ----------
    seed
        Non-negative integer; the same seed gives the same numbers on every machine.

    Examples
    --------
    >>> s = Streams(7)
    >>> a = s.rng("gate").random()
    >>> a == Streams(7).rng("gate").random()
    True
    """

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self._rngs: dict[str, np.random.Generator] = {}

    def rng(self, name: str) -> np.random.Generator:
        """Return the generator for ``name``, creating it on first use."""
        gen = self._rngs.get(name)
        if gen is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=_name_key(name))
            gen = np.random.Generator(np.random.PCG64(seq))
            self._rngs[name] = gen
        return gen

    def sampler(self, name: str, dist: float | _Dist) -> Sampler:
        """A buffered scalar sampler of ``dist`` (a :data:`DistSpec` value: a distribution
        or a plain number) drawing from the stream ``name``."""
        return Sampler(dist, self.rng(name))


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover
        raise NotImplementedError


class Constant(_Dist):
    """Always ``value``."""

    dist: Literal["constant"] = "constant"
    value: float = Field(ge=0, allow_inf_nan=False)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    @property
    def mean(self) -> float:
        return self.value


class Exponential(_Dist):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0, allow_inf_nan=False)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)

    @property
    def mean(self) -> float:
        return self.mean_


class Uniform(_Dist):
    """Uniform on ``[low, high]``."""

    dist: Literal["uniform"]
    low: float = Field(ge=0, allow_inf_nan=False)
    high: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)


class Triangular(_Dist):
    """Triangular with ``low <= mode <= high``."""

    dist: Literal["triangular"]
    low: float = Field(ge=0, allow_inf_nan=False)
    mode: float = Field(ge=0, allow_inf_nan=False)
    high: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0


class LogNormal(_Dist):
    """Log-normal given by its mean and coefficient of variation (sd / mean)."""

    dist: Literal["lognormal"]
    mean_: float = Field(alias="mean", gt=0, allow_inf_nan=False)
    cv: float = Field(gt=0, le=10, allow_inf_nan=False)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean_) - 0.5 * sigma2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    @property
    def mean(self) -> float:
        return self.mean_


class Gamma(_Dist):
    """Gamma given by its mean and coefficient of variation (sd / mean)."""

    dist: Literal["gamma"]
    mean_: float = Field(alias="mean", gt=0, allow_inf_nan=False)
    cv: float = Field(gt=0, le=10, allow_inf_nan=False)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_ / shape, size)

    @property
    def mean(self) -> float:
        return self.mean_


Distribution = Annotated[
    Constant | Exponential | Uniform | Triangular | LogNormal | Gamma,
    Field(discriminator="dist"),
]
"""A distribution table in a scenario, chosen by its ``dist`` key."""


def _dist_or_number(value: object) -> str:
    return "distribution" if isinstance(value, (dict, _Dist)) else "number"


DistSpec = Annotated[
    Annotated[Annotated[float, Field(ge=0, allow_inf_nan=False)], Tag("number")]
    | Annotated[Distribution, Tag("distribution")],
    Discriminator(_dist_or_number),
]
"""A scenario field that takes a plain non-negative number (constant) or a distribution."""


def as_distribution(spec: float | _Dist) -> _Dist:
    """Turn a :data:`DistSpec` value into a distribution object."""
    if isinstance(spec, _Dist):
        return spec
    return Constant(value=float(spec))


class Sampler(functools.partial[float]):
    """Draws scalars from a distribution in blocks, for speed in event loops.

    Call it for the next value.  The sequence depends only on the generator's state and
    the distribution (blocks of 1,024 draws), so two samplers built from equal streams
    give equal sequences.  Calls go straight to C (``next`` on a chain of blocks), which
    matters at hundreds of thousands of draws a run.

    Attributes
    ----------
    mean
        Mean of the underlying distribution.
    """

    mean: float

    def __new__(cls, dist: float | _Dist, rng: np.random.Generator) -> Sampler:
        d = as_distribution(dist)
        if isinstance(d, Constant):
            values: Iterator[float] = itertools.repeat(d.value)
        else:
            blocks = iter(lambda: d.draw(rng, _BLOCK).tolist(), None)
            values = itertools.chain.from_iterable(blocks)
        self = super().__new__(cls, next, values)
        self.mean = d.mean
        return self


class UniformBuffer:
    """Uniform(0, 1) numbers drawn in blocks and handed out a few at a time.

    The sequence is the generator's ``random()`` sequence, so it depends only on the
    stream's seed and how many numbers were taken before.
    """

    __slots__ = ("_buf", "_i", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def take(self, k: int) -> list[float]:
        """The next ``k`` numbers."""
        i, buf = self._i, self._buf
        j = i + k
        if j > len(buf):
            buf = self._buf = buf[i:] + self._rng.random(max(_BLOCK, k)).tolist()
            i, j = 0, k
        self._i = j
        return buf[i:j]

    def one(self) -> float:
        """The next number (as ``take(1)[0]``)."""
        i, buf = self._i, self._buf
        if i >= len(buf):
            buf = self._buf = self._rng.random(_BLOCK).tolist()
            i = 0
        self._i = i + 1
        return buf[i]
