"""Fruin's queuing level of service of the station's queue areas, zone by zone and hour.

Fruin (*Pedestrian Planning and Design*, 1971; the queuing-area levels reproduced in
TCRP Report 165, *Transit Capacity and Quality of Service Manual*, 3rd ed., 2013) grades a
queue by the floor area per person:

=====  ==========================
level  area per person [m²]
=====  ==========================
A      1.2 or more
B      0.9 – 1.2
C      0.6 – 0.9
D      0.3 – 0.6
E      0.2 – 0.3
F      below 0.2
=====  ==========================

A zone's level in an hour is that of its *highest* occupancy in the hour (the worst
instant), ``area / occupancy_max``; an empty zone is at A.  Zones: the security queue of
each entrance (``security:<name>``), the queue of each ticket-gate group (``gate:<k>``),
the waiting hall (``hall``: everyone past security and not yet through a gate, queues
included, over the hall's whole floor) and the exit-gate queue (``exit``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FRUIN_QUEUE_M2", "LOS_LETTERS", "los_level", "max_queue_for"]

LOS_LETTERS = "ABCDEF"
"""Levels of service, best first; level ``k`` (1-6) is ``LOS_LETTERS[k - 1]``."""

FRUIN_QUEUE_M2 = (1.2, 0.9, 0.6, 0.3, 0.2)
"""Lower bounds of the area per person [m²] of levels A to E (F is below the last)."""


def los_level(area_m2: float | np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """Fruin queuing level (1 = A ... 6 = F) of ``occupancy`` people on ``area_m2``."""
    occ = np.asarray(occupancy, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(occ > 0, np.asarray(area_m2, dtype=float) / occ, np.inf)
    level = np.ones(per.shape, dtype=np.int8)
    for bound in FRUIN_QUEUE_M2:
        level += per < bound
    return level


def max_queue_for(area_m2: float, letter: str) -> int:
    """Most people ``area_m2`` holds at level ``letter`` or better (any for F)."""
    letter = letter.upper()
    if len(letter) != 1 or letter not in LOS_LETTERS:
        raise ValueError(
            f"level of service must be one of {', '.join(LOS_LETTERS)}, got {letter!r}"
        )
    k = LOS_LETTERS.index(letter)
    if k == len(FRUIN_QUEUE_M2):
        return int(np.iinfo(np.int64).max)
    q = int(np.floor(area_m2 / FRUIN_QUEUE_M2[k])) + 1
    while q > 0 and los_level(area_m2, np.array([q]))[0] > k + 1:
        q -= 1
    return q
