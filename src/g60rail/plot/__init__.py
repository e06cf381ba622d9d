"""Figures of a run.  Every function takes a :class:`~g60rail.result.Result` (or its
tables) and an optional matplotlib ``Axes`` and returns the ``Figure``; none runs a
simulation."""

from g60rail.plot.freight import teu_per_day, yard_and_gate

__all__ = ["teu_per_day", "yard_and_gate"]
