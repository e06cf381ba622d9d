"""Statements about KPIs that experiments make and figures draw: service-level
constraints (``"hub.dwell_to_train_h_p95 <= 48"``) and the columns of a KPI summary.

Plain data below both :mod:`g60rail.experiment` and :mod:`g60rail.plot`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from g60rail.errors import ScenarioError

__all__ = ["STAT_COLUMNS", "Constraint", "parse_constraint"]

STAT_COLUMNS = ("mean", "std", "n", "ci_low", "ci_high", "half_width")
"""Columns of a KPI summary over replications, in order."""

_CONSTRAINT = re.compile(
    r"^\s*([A-Za-z_][\w.\-]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class Constraint:
    """A service level on a KPI's mean over replications, e.g. ``hub.dwell_h_p95 <= 72``."""

    kpi: str
    op: str
    bound: float

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.bound:g}"

    def violation(self, value: float) -> float:
        """How far ``value`` is from meeting the constraint (<= 0 when it is met)."""
        if not math.isfinite(value):
            return 1e12
        c = value - self.bound if self.op in ("<=", "<") else self.bound - value
        if self.op in ("<", ">") and c == 0.0:
            return 1e-12
        return c


def parse_constraint(text: str | Constraint) -> Constraint:
    """Parse ``"kpi <= number"`` (also ``>=``, ``<``, ``>``); no expressions are evaluated."""
    if isinstance(text, Constraint):
        return text
    m = _CONSTRAINT.match(str(text))
    if not m:
        raise ScenarioError(
            "a constraint must look like 'kpi.name <= 72' (operators <=, >=, <, >)",
            field="constraint",
            value=text,
        )
    return Constraint(m.group(1), m.group(2), float(m.group(3)))
