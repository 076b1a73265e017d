"""Pure arithmetic of the dashboard: gaps to close to reach a target, age bands and population
tallies (the performance rate itself is engine/gaps.py's). No I/O: everything here is tested directly."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date

from caregaps.engine.codes import POPULATIONS, Population
from caregaps.engine.gaps import eligible

AGE_BANDS = ((0, 17, "0-17"), (18, 44, "18-44"), (45, 64, "45-64"), (65, 74, "65-74"), (75, 84, "75-84"),
             (85, 200, "85+"))


def gaps_to_target(counts: dict[str, int], target: float | None, inverse: bool) -> int | None:
    """How many patients must change sides to reach `target` (a rate in 0..1).

    Normal measures: the numerator must reach ceil(target x eligible), so that many more patients
    must close their gap. Inverse measures (lower is better, CMS122): the numerator may be at most
    floor(target x eligible), so that many patients must leave it. None without a target.
    """
    if target is None:
        return None
    n, pool = counts[Population.NUMERATOR], eligible(counts)
    if inverse:
        return max(0, n - math.floor(target * pool + 1e-9))
    return max(0, math.ceil(target * pool - 1e-9) - n)


def age_band(birth: date | None, on: date) -> str:
    """The patient's age band on `on` (the end of the period), or 'unknown'."""
    if birth is None:
        return "unknown"
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return next((label for low, high, label in AGE_BANDS if low <= age <= high), "unknown")  # born after, or 200+


def tally(rows: Iterable[dict], key: Callable[[dict], str | None]) -> dict[str, dict[str, int]]:
    """Population counts per group: rows carry the population flags (POPULATIONS, as 0/1)."""
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        group = key(row) or "unknown"
        counts = out.setdefault(group, {k: 0 for k in POPULATIONS})
        for k in POPULATIONS:
            counts[k] += int(bool(row[k]))
    return dict(sorted(out.items()))
