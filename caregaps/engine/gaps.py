"""Pure decisions: population membership rules of a proportion measure, and gap status."""

from __future__ import annotations

POPULATION_KEYS = ("initial-population", "denominator", "denominator-exclusion", "denominator-exception",
                   "numerator", "numerator-exclusion")
OPEN, CLOSED, PROSPECTIVE, NOT_APPLICABLE = "open-gap", "closed-gap", "prospective-gap", "not-applicable"


def proportion_membership(raw: dict[str, bool]) -> dict[str, bool]:
    """Final membership from each population's own criteria, as eCQM proportion scoring nests them.

    - denominator requires the initial population;
    - denominator-exclusion requires the denominator;
    - numerator requires the denominator and no exclusion;
    - numerator-exclusion requires the numerator;
    - denominator-exception requires the denominator, no exclusion and not the numerator.
    A population the measure does not define is False.
    """
    ip = bool(raw.get("initial-population"))
    den = ip and bool(raw.get("denominator"))
    dex = den and bool(raw.get("denominator-exclusion"))
    num = den and not dex and bool(raw.get("numerator"))
    nex = num and bool(raw.get("numerator-exclusion"))
    dexc = den and not dex and not num and bool(raw.get("denominator-exception"))
    return {"initial-population": ip, "denominator": den, "denominator-exclusion": dex,
            "denominator-exception": dexc, "numerator": num, "numerator-exclusion": nex}


def gap_status(membership: dict[str, bool], inverse: bool, numerator_as_of: bool | None = None) -> str:
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
    if not membership.get("denominator"):
        return NOT_APPLICABLE
    if membership.get("denominator-exclusion") or membership.get("denominator-exception"):
        return NOT_APPLICABLE
    numerator = bool(membership.get("numerator")) and not membership.get("numerator-exclusion")
    if inverse:
        return OPEN if numerator else CLOSED
    if numerator:
        return CLOSED
    return PROSPECTIVE if numerator_as_of else OPEN


GAPS = (OPEN, PROSPECTIVE)


def gap_change(previous: str | None, current: str) -> str | None:
    """What a run records about a patient's gap, given its status before and now.

    | before                      | now                   | event              |
    |-----------------------------|-----------------------|--------------------|
    | none or not-applicable      | open or prospective   | detected           |
    | open or prospective         | closed                | closed             |
    | closed                      | open or prospective   | reopened           |
    | open                        | prospective           | became-prospective |
    | prospective                 | open                  | became-open        |
    | anything but not-applicable | not-applicable        | not-applicable     |
    | anything else (incl. same)  |                       | none               |
    """
    if previous == current:
        return None
    if current in GAPS:
        if previous in (None, NOT_APPLICABLE):
            return "detected"
        if previous == CLOSED:
            return "reopened"
        return "became-prospective" if current == PROSPECTIVE else "became-open"
    if current == CLOSED:
        return "closed" if previous in GAPS else None
    return "not-applicable" if previous not in (None, NOT_APPLICABLE) else None
