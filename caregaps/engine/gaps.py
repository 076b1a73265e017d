"""Pure decisions: population membership rules of a proportion measure, its performance rate,
and gap status (tests/test_gaps.py checks each row of the tables below)."""

from __future__ import annotations

from collections.abc import Mapping

from caregaps.engine.codes import GAPS, POPULATIONS, GapChange, GapStatus, Population


def proportion_membership(raw: dict[str, bool]) -> dict[str, bool]:
    """Final membership from each population's own criteria, as eCQM proportion scoring nests them.

    - denominator requires the initial population;
    - denominator-exclusion requires the denominator;
    - numerator requires the denominator and no exclusion;
    - numerator-exclusion requires the numerator;
    - denominator-exception requires the denominator, no exclusion and not the numerator.
    A population the measure does not define is False.
    """
    ip = bool(raw.get(Population.INITIAL_POPULATION))
    den = ip and bool(raw.get(Population.DENOMINATOR))
    dex = den and bool(raw.get(Population.DENOMINATOR_EXCLUSION))
    num = den and not dex and bool(raw.get(Population.NUMERATOR))
    nex = num and bool(raw.get(Population.NUMERATOR_EXCLUSION))
    dexc = den and not dex and not num and bool(raw.get(Population.DENOMINATOR_EXCEPTION))
    return dict(zip(POPULATIONS, (ip, den, dex, dexc, num, nex), strict=True))


def eligible(counts: Mapping[str, int]) -> int:
    """Denominator less exclusions and exceptions: who the performance rate is about."""
    excluded = counts[Population.DENOMINATOR_EXCLUSION] + counts[Population.DENOMINATOR_EXCEPTION]
    return counts[Population.DENOMINATOR] - excluded


def performance_rate(counts: Mapping[str, int]) -> float | None:
    """numerator / (denominator - exclusions - exceptions), to 4 places; None when nobody is eligible."""
    pool = eligible(counts)
    return round(counts[Population.NUMERATOR] / pool, 4) if pool > 0 else None


def gap_status(membership: dict[str, bool], inverse: bool, numerator_as_of: bool | None = None) -> GapStatus:
    """The DEQM gap status of one patient for one measure.

    `membership` is the outcome for the period (from `proportion_membership`); `numerator_as_of`
    is the numerator's criterion on the rolling period of the same length that ends on the data's
    as-of day (None when the period is over), i.e. whether the patient is covered *today*. For an
    inverse measure (improvement notation: decrease) being in the numerator is the gap.

    | in denominator | excluded or excepted | inverse | numerator at end | numerator as of | status          |
    |----------------|----------------------|---------|------------------|-----------------|-----------------|
    | no             | -                    | -       | -                | -               | not-applicable  |
    | yes            | yes                  | -       | -                | -               | not-applicable  |
    | yes            | no                   | no      | yes              | -               | closed-gap      |
    | yes            | no                   | no      | no               | yes             | prospective-gap |
    | yes            | no                   | no      | no               | no / None       | open-gap        |
    | yes            | no                   | yes     | yes              | -               | open-gap        |
    | yes            | no                   | yes     | no               | -               | closed-gap      |

    The prospective row is a screening that counts today but will not count for the period
    unless it is redone before the period ends (a FIT from last June, a colonoscopy whose window
    has moved past it): unless acted on, it becomes open.
    """
    if not membership.get(Population.DENOMINATOR):
        return GapStatus.NOT_APPLICABLE
    if membership.get(Population.DENOMINATOR_EXCLUSION) or membership.get(Population.DENOMINATOR_EXCEPTION):
        return GapStatus.NOT_APPLICABLE
    numerator = bool(membership.get(Population.NUMERATOR)) and not membership.get(Population.NUMERATOR_EXCLUSION)
    if inverse:
        return GapStatus.OPEN if numerator else GapStatus.CLOSED
    if numerator:
        return GapStatus.CLOSED
    return GapStatus.PROSPECTIVE if numerator_as_of else GapStatus.OPEN


def gap_change(previous: str | None, current: str) -> GapChange | None:
    """What a run records about a patient's gap, given its status before and now.

    | before                      | now                   | event              |
    |-----------------------------|-----------------------|--------------------|
    | none or not-applicable      | open or prospective   | detected           |
    | open or prospective         | closed                | closed             |
    | closed                      | open or prospective   | reopened           |
    | open                        | prospective           | became-prospective |
    | prospective                 | open                  | became-open        |
    | open, prospective or closed | not-applicable        | not-applicable     |
    | anything else (incl. same)  |                       | none               |
    """
    if previous == current:
        return None
    if current in GAPS:
        if previous in (None, GapStatus.NOT_APPLICABLE):
            return GapChange.DETECTED
        if previous == GapStatus.CLOSED:
            return GapChange.REOPENED
        return GapChange.BECAME_PROSPECTIVE if current == GapStatus.PROSPECTIVE else GapChange.BECAME_OPEN
    if current == GapStatus.CLOSED:
        return GapChange.CLOSED if previous in GAPS else None
    return GapChange.NOT_APPLICABLE if previous not in (None, GapStatus.NOT_APPLICABLE) else None
