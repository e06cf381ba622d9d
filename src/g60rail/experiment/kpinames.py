"""The KPI names a scenario's runs report, known before the experiment starts.

A sweep plots KPIs and a tuning study constrains and optimises them; a misspelt name must
be refused before the first run, not after the last.  :meth:`KpiNames.of` runs the
scenario for a short time (:data:`PROBE_DAYS`) to learn the names its runs report.  Names
that appear only once something has been observed are accepted by their pattern:
``transit.<from>_<to>.h_mean`` (and ``door.``, ``road.``; statistics ``h_mean``,
``h_p95``, ``n``) for any two places of the scenario.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from g60rail.model.run import simulate
from g60rail.scenario.schema import Scenario

__all__ = ["PROBE_DAYS", "KpiNames"]

PROBE_DAYS = 2.0
"""Length of the short run that lists a scenario's KPI names, days."""

_KNOWN: dict[tuple[str, float], KpiNames] = {}

_PAIR = re.compile(r"^(transit|door|road)\.([a-z0-9_]+)\.(h_mean|h_p95|n)$")


@dataclass(frozen=True)
class KpiNames:
    """The KPI names runs of one scenario report.

    Attributes
    ----------
    names
        The names a short run reported.
    places
        The scenario's place ids (for the names of origin-destination pairs).
    """

    names: frozenset[str]
    places: frozenset[str]

    @classmethod
    def of(cls, scenario: Scenario, days: float = PROBE_DAYS) -> KpiNames:
        """The KPI names of ``scenario``, from a run of ``min(days, PROBE_DAYS)`` days
        (remembered for the scenario: a second call for it runs nothing)."""
        probe_days = min(float(days), PROBE_DAYS)
        key = (scenario.hash, probe_days)
        if key not in _KNOWN:
            probe = simulate(
                scenario,
                days=probe_days,
                seed=0,
                warmup_days=0.0,
                record_containers=False,
                record_trains=False,
            )
            _KNOWN.clear()  # one scenario at a time is enough
            _KNOWN[key] = cls(frozenset(probe.kpis), frozenset(scenario.places))
        return _KNOWN[key]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name in self.names:
            return True
        m = _PAIR.match(name)
        if m is None:
            return False
        pair = m.group(2)
        return any(
            pair[:i] in self.places and pair[i + 1 :] in self.places
            for i, ch in enumerate(pair)
            if ch == "_"
        )

    def problem(self, name: str) -> str | None:
        """Why ``name`` is not a KPI of these runs (with the closest names), or None."""
        if name in self:
            return None
        near = difflib.get_close_matches(name, sorted(self.names), n=3)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        return f"no KPI of that name{hint}"
