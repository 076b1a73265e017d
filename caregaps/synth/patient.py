"""The Patient resource (US Core race, ethnicity and birth sex; MRN and Medicare Beneficiary
Identifier; general practitioner) and the patient's Coverage: Medicare for everyone (about a
third through Medicare Advantage), Medicaid as second payer for the ~12% dually eligible.
"""

from __future__ import annotations

from datetime import date, datetime, time

from caregaps.synth import identity
from caregaps.synth.chart import Chart, organization_ref, practitioner_ref
from caregaps.synth.clock import START
from caregaps.synth.elements import MBI, US_CORE, coding, concept, identifier_type

RACE_SYSTEM = "urn:oid:2.16.840.1.113883.6.238"
HISPANIC = coding(RACE_SYSTEM, "2135-2", "Hispanic or Latino")
NOT_HISPANIC = coding(RACE_SYSTEM, "2186-5", "Not Hispanic or Latino")
SOPT = "https://nahdo.org/sopt"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
SELF = concept(coding("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"))
MRN_TYPE = identifier_type("MR", "Medical record number")
MEDICARE_TYPE = identifier_type("MC", "Patient's Medicare number")


def add_patient(chart: Chart) -> None:
    person, rng, practice = chart.person, chart.rng, chart.practice
    resource = {
        "resourceType": "Patient", "id": person.id,
        "extension": _demographics(chart),
        "identifier": [
            {"use": "usual", "type": MRN_TYPE, "system": f"urn:caregaps:synth:{practice.id}:mrn",
             "value": identity.mrn(person.index, rng)},
            {"type": MEDICARE_TYPE, "system": MBI, "value": identity.mbi(rng)},
        ],
        "active": person.death is None,
        "name": [identity.human_name(rng, person.female)],
        "telecom": [{"system": "phone", "value": identity.phone(rng, practice.town), "use": "home"}],
        "gender": "female" if person.female else "male",
        "birthDate": person.birth.isoformat(),
    }
    if person.death:
        died = datetime.combine(person.death, time(22, rng.randint(0, 59)))
        resource["deceasedDateTime"] = chart.stamp(died)
    resource["address"] = [identity.address(rng, practice.town)]
    resource["generalPractitioner"] = [practitioner_ref(person.gp)]
    resource["managingOrganization"] = organization_ref(practice.organization)
    chart.add(resource)
    _coverage(chart, resource["identifier"][1]["value"])


def _demographics(chart: Chart) -> list[dict]:
    person, vs = chart.person, chart.vs
    extensions = []
    if person.race:
        race = vs.coding("Race", person.race)
        extensions.append({"url": US_CORE + "us-core-race", "extension": [
            {"url": "ombCategory", "valueCoding": race}, {"url": "text", "valueString": race["display"]}]})
    else:
        extensions.append({"url": US_CORE + "us-core-race", "extension": [
            {"url": "ombCategory", "valueCoding": coding("http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
                                                        "ASKU", "Asked but no answer")},
            {"url": "text", "valueString": "Asked but no answer"}]})
    ethnicity = vs.coding("Ethnicity", "2135-2" if person.hispanic else "2186-5")
    extensions.append({"url": US_CORE + "us-core-ethnicity", "extension": [
        {"url": "ombCategory", "valueCoding": ethnicity}, {"url": "text", "valueString": ethnicity["display"]}]})
    extensions.append({"url": US_CORE + "us-core-birthsex", "valueCode": "F" if person.female else "M"})
    # US Core 6+ sex (SNOMED CT), which the 2026 eCQMs read (e.g. CMS125's "Patient.sex")
    extensions.append({"url": US_CORE + "us-core-sex", "valueCode": "248152002" if person.female else "248153007"})
    return extensions


def _coverage(chart: Chart, mbi: str) -> None:
    person, rng, practice = chart.person, chart.rng, chart.practice
    turned_65 = date(person.birth.year + 65, person.birth.month, 1)
    if person.age >= 65 and turned_65 <= person.last_day:
        entitled = turned_65
    else:  # entitled before 65, through disability
        entitled = date(rng.randint(2008, 2023), rng.randint(1, 12), 1)
    advantage = rng.random() < 0.33
    plan = ("Medicare Advantage", f"H{rng.randint(1000, 9999)}") if advantage else ("Original Medicare", "Part B")
    chart.add(_coverage_resource(chart, practice.medicare, ("1", "MEDICARE"), plan, entitled, mbi, order=1))
    if rng.random() < 0.12:
        medicaid_id = f"{practice.town.state}{rng.randint(10**8, 10**9 - 1)}"
        chart.add(_coverage_resource(chart, practice.medicaid, ("2", "MEDICAID"),
                                     ("Medicaid (dual eligible)", "Dual"), max(entitled, START), medicaid_id, order=2))


def _coverage_resource(chart: Chart, payer: str, payer_type: tuple[str, str], plan: tuple[str, str],
                       start: date, member_id: str, order: int) -> dict:
    death = chart.person.death
    period = {"start": start.isoformat(), **({"end": death.isoformat()} if death else {})}
    return {
        "resourceType": "Coverage", "id": chart.new_id(), "status": "cancelled" if death else "active",
        "type": concept(coding(SOPT, *payer_type)), "subscriberId": member_id,
        "beneficiary": chart.subject, "relationship": SELF, "period": period,
        "payor": [organization_ref(payer)],
        "class": [{"type": concept(coding(COVERAGE_CLASS, "plan", "Plan")), "value": plan[1], "name": plan[0]}],
        "order": order,
    }
