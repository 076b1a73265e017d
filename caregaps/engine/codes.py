"""The codes of the measure domain, each defined once (as fqm-execution's Enums.ts): the FHIR
measure-population codes, the DEQM gap statuses and the events of a gap's history.

A StrEnum member equals its string, so stored runs, JSON and templates read exactly as before;
every other module and template names the codes from here (tests/test_codes.py fails on a code
typed out anywhere else). The plain tuples serve where a code becomes a dict key that orjson
writes (it takes only exact strings as keys).
"""

from __future__ import annotations

from enum import StrEnum


class Population(StrEnum):
    """http://terminology.hl7.org/CodeSystem/measure-population, in the order proportion scoring nests them."""

    INITIAL_POPULATION = "initial-population"
    DENOMINATOR = "denominator"
    DENOMINATOR_EXCLUSION = "denominator-exclusion"
    DENOMINATOR_EXCEPTION = "denominator-exception"
    NUMERATOR = "numerator"
    NUMERATOR_EXCLUSION = "numerator-exclusion"

    @property
    def column(self) -> str:
        """Its column in measure_result (initial_population, ...)."""
        return self.value.replace("-", "_")

    @property
    def display(self) -> str:
        """The code system's display ("Initial Population", "Denominator Exclusion", ...)."""
        return self.value.replace("-", " ").title()


class GapStatus(StrEnum):
    """A patient's DEQM gap status for a measure, most urgent first (engine/gaps.py decides it)."""

    OPEN = "open-gap"
    PROSPECTIVE = "prospective-gap"
    CLOSED = "closed-gap"
    NOT_APPLICABLE = "not-applicable"


class GapChange(StrEnum):
    """What a run records in a gap's history (`gap_event.event`, decided by engine/gaps.py `gap_change`)."""

    DETECTED = "detected"
    CLOSED = "closed"
    REOPENED = "reopened"
    BECAME_PROSPECTIVE = "became-prospective"
    BECAME_OPEN = "became-open"
    NOT_APPLICABLE = "not-applicable"  # the gap no longer applies (excluded, left the denominator)


POPULATIONS: tuple[str, ...] = tuple(p.value for p in Population)
GAP_STATUSES: tuple[str, ...] = tuple(s.value for s in GapStatus)
GAPS = (GapStatus.OPEN, GapStatus.PROSPECTIVE)  # the statuses that are a gap to close
