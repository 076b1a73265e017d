"""The working state while one patient's record is generated: the seeded generator, the
patient, their visits, and the resources made so far.

References to the patient's own resources go through `Chart.ref`, which writes `Type/id` for
NDJSON and `urn:uuid:<id>` for transaction Bundles; references to the practice's shared
resources (practitioners, organizations) are always `Type/id`. Resources share constant
elements (codes, categories, references) freely: nothing changes an element once it is made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable
from datetime import date, datetime

from caregaps.synth import identity
from caregaps.synth.people import Person
from caregaps.synth.practice import Practice
from caregaps.synth.valuesets import ValueSets

CLINIC = ("office", "new", "awv")  # in-person visits at the practice (vitals, orders, screening)


@dataclass
class Visit:
    """An encounter: office, new (new patient), awv, phone, ed, inpatient, hospice, palliative."""

    kind: str
    start: datetime
    end: datetime
    id: str
    practitioner: str | None
    reason: str | None = None  # acute problem kind of ed/inpatient visits
    diagnoses: list[str] = field(default_factory=list)  # encounter-diagnosis Condition ids

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass
class Chart:
    rng: random.Random
    vs: ValueSets
    practice: Practice
    person: Person
    bundle: bool
    visits: list[Visit] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)
    _refs: dict[str, dict] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.stamp: Callable[[datetime], str] = self.practice.clock.stamp  # local time -> FHIR dateTime
        self.subject = self.ref("Patient", self.person.id)  # the reference to the patient

    def new_id(self) -> str:
        return identity.new_id(self.rng)

    def ref(self, rtype: str, rid: str) -> dict:
        """A reference to one of this patient's resources (one shared dict per target)."""
        found = self._refs.get(rid)
        if found is None:
            found = self._refs[rid] = {"reference": f"urn:uuid:{rid}" if self.bundle else f"{rtype}/{rid}"}
        return found

    def add(self, resource: dict) -> dict:
        self.resources.append(resource)
        return resource

    def clinic_visits(self) -> list[Visit]:
        return [v for v in self.visits if v.kind in CLINIC]


def practitioner_ref(practitioner_id: str) -> dict:
    return {"reference": f"Practitioner/{practitioner_id}"}


def organization_ref(org_id: str) -> dict:
    return {"reference": f"Organization/{org_id}"}
