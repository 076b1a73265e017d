"""A practice and the resources its patients share: the practice Organization, its 3-8
Practitioners (with NPIs), the hospital its patients are admitted to, and the payers.

Practice names and timezones follow the practice number (p1 is always Riverside Family
Medicine in America/Chicago); everything else comes from the practice's seeded generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from caregaps.synth import identity
from caregaps.synth.clock import Clock
from caregaps.synth.elements import NPI, coding, concept
from caregaps.synth.identity import Town

PRACTICES = (
    ("Riverside Family Medicine", "America/Chicago"),
    ("Oak Hill Internal Medicine", "America/New_York"),
    ("Mesa Verde Primary Care", "America/Denver"),
    ("Bayview Medical Group", "America/Los_Angeles"),
    ("Prairie Creek Family Practice", "America/Chicago"),
    ("Harbor Point Primary Care", "America/New_York"),
    ("Aspen Ridge Internal Medicine", "America/Denver"),
    ("Golden Hills Family Health", "America/Los_Angeles"),
)
HOSPITALS = {"IL": "Peoria Regional Medical Center", "NY": "Capital District General Hospital",
             "CO": "Southern Colorado Medical Center", "CA": "Central Valley Community Hospital"}
ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"


@dataclass
class Practice:
    """A practice, with the ids of the shared resources that patients' resources refer to."""

    id: str
    name: str
    timezone: str
    town: Town
    clock: Clock
    organization: str
    hospital: str
    medicare: str
    medicaid: str
    practitioners: list[str] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)


def practice_name(number: int) -> tuple[str, str]:
    """Name and timezone of practice number `number` (1-based)."""
    name, timezone = PRACTICES[(number - 1) % len(PRACTICES)]
    cycle = (number - 1) // len(PRACTICES)
    return (f"{name} {cycle + 1}" if cycle else name), timezone


def build_practice(number: int, seed: int) -> Practice:
    """Practice `p<number>` and its shared resources, from its own seeded generator."""
    practice_id = f"p{number}"
    rng = random.Random(f"caregaps-synth/{seed}/{practice_id}")
    name, timezone = practice_name(number)
    town = identity.TOWNS[timezone]
    practice = Practice(practice_id, name, timezone, town, Clock(timezone),
                        organization=identity.new_id(rng), hospital=identity.new_id(rng),
                        medicare=identity.new_id(rng), medicaid=identity.new_id(rng))
    practice.resources.append(_provider_org(rng, practice.organization, name, town))
    practice.resources.append(_provider_org(rng, practice.hospital, HOSPITALS[town.state], town))
    practice.resources.append(_payer(practice.medicare, "Centers for Medicare & Medicaid Services"))
    practice.resources.append(_payer(practice.medicaid, f"{town.state} Medicaid"))
    for _ in range(rng.randint(3, 8)):
        practitioner = _practitioner(rng, town)
        practice.practitioners.append(practitioner["id"])
        practice.resources.append(practitioner)
    return practice


def _provider_org(rng: random.Random, org_id: str, name: str, town: Town) -> dict:
    return {
        "resourceType": "Organization", "id": org_id,
        "identifier": [{"system": NPI, "value": identity.npi(rng)}],
        "active": True,
        "type": [concept(coding(ORG_TYPE, "prov", "Healthcare Provider"))],
        "name": name,
        "telecom": [{"system": "phone", "value": identity.phone(rng, town), "use": "work"}],
        "address": [{**identity.address(rng, town), "use": "work"}],
    }


def _payer(org_id: str, name: str) -> dict:
    return {"resourceType": "Organization", "id": org_id, "active": True,
            "type": [concept(coding(ORG_TYPE, "pay", "Payer"))], "name": name}


def _practitioner(rng: random.Random, town: Town) -> dict:
    female = rng.random() < 0.5
    name = identity.human_name(rng, female)
    credential = rng.choices(("MD", "DO", "NP", "PA-C"), weights=(55, 15, 20, 10))[0]
    return {
        "resourceType": "Practitioner", "id": identity.new_id(rng),
        "identifier": [{"system": NPI, "value": identity.npi(rng)}],
        "active": True,
        "name": [{**name, "suffix": [credential]}],
        "telecom": [{"system": "phone", "value": identity.phone(rng, town), "use": "work"}],
        "gender": "female" if female else "male",
    }
