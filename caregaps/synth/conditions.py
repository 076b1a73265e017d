"""Condition resources: the problem list, and the diagnoses addressed at each visit.

Chronic conditions are `problem-list-item`s (active, confirmed) with an onset; each visit also
records `encounter-diagnosis` Conditions for what it addressed: one to three chronic problems
at office visits, the acute problem behind an emergency visit or admission (resolved a few
weeks later), palliative care at a palliative consult.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from caregaps.synth.chart import Chart, Visit
from caregaps.synth.clock import clinic_time
from caregaps.synth.diseases import BACKGROUND, MINOR_REASONS, Diagnosis, pick
from caregaps.synth.elements import concept, coding
from caregaps.synth.people import Problem

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACTIVE = concept(coding(CLINICAL, "active", "Active"))
RESOLVED = concept(coding(CLINICAL, "resolved", "Resolved"))
CONFIRMED = concept(coding(VERIFICATION, "confirmed", "Confirmed"))
PROBLEM_LIST = [concept(coding(CATEGORY, "problem-list-item", "Problem List Item"))]
ENCOUNTER_DIAGNOSIS = [concept(coding(CATEGORY, "encounter-diagnosis", "Encounter Diagnosis"))]
LATE = time(23, 59)


def add_problem_list(chart: Chart) -> None:
    for problem in chart.person.problems.values():
        diagnosed = next((v for v in chart.visits if v.day >= problem.onset and v.kind != "phone"), None)
        recorded = diagnosed.start if diagnosed and problem.onset >= chart.person.enrolled else \
            clinic_time(chart.rng, problem.onset)
        chart.add({
            "resourceType": "Condition", "id": problem.id,
            "clinicalStatus": ACTIVE, "verificationStatus": CONFIRMED, "category": PROBLEM_LIST,
            "code": problem.diagnosis.code, "subject": chart.subject,
            "onsetDateTime": problem.onset.isoformat(), "recordedDate": chart.stamp(recorded),
            "recorder": {"reference": f"Practitioner/{chart.person.gp}"},
        })


def add_encounter_diagnoses(chart: Chart) -> None:
    for visit in chart.visits:
        for diagnosis, problem in _addressed(chart, visit):
            visit.diagnoses.append(_encounter_diagnosis(chart, visit, diagnosis, problem))


def _addressed(chart: Chart, visit: Visit) -> list[tuple[Diagnosis, Problem | None]]:
    """What a visit was about: (diagnosis, the problem-list entry it belongs to, if chronic)."""
    person, rng = chart.person, chart.rng
    active = [p for kind, p in person.problems.items() if p.onset <= visit.day and kind not in BACKGROUND]
    if visit.kind in ("ed", "inpatient"):
        if visit.reason in person.problems:  # an exacerbation of a chronic condition
            problem = person.problems[visit.reason]
            return [(problem.diagnosis, problem)]
        return [(pick(rng, chart.vs, visit.reason), None)]
    if visit.kind == "palliative":
        found = [(pick(rng, chart.vs, "palliative"), None)]
        return found + [(p.diagnosis, p) for p in active[:1]]
    if visit.kind == "hospice":
        return [(p.diagnosis, p) for p in active[:1]]
    if visit.kind == "awv" and rng.random() < 0.5:
        return []
    if not active:
        return [(pick(rng, chart.vs, rng.choice(MINOR_REASONS)), None)] if visit.kind != "awv" else []
    count = min(len(active), rng.choices((1, 2, 3), (55, 35, 10))[0])
    return [(p.diagnosis, p) for p in rng.sample(active, count)]


def _encounter_diagnosis(chart: Chart, visit: Visit, diagnosis: Diagnosis, problem: Problem | None) -> str:
    condition_id = chart.new_id()
    resource = {
        "resourceType": "Condition", "id": condition_id,
        "clinicalStatus": ACTIVE if problem else RESOLVED, "verificationStatus": CONFIRMED,
        "category": ENCOUNTER_DIAGNOSIS, "code": diagnosis.code, "subject": chart.subject,
        "encounter": chart.ref("Encounter", visit.id),
        "onsetDateTime": problem.onset.isoformat() if problem else chart.stamp(visit.start),
    }
    if problem is None:
        resolved = visit.end + timedelta(days=chart.rng.randint(7, 30))
        resource["abatementDateTime"] = chart.stamp(min(resolved, datetime.combine(chart.person.last_day, LATE)))
    resource["recordedDate"] = chart.stamp(visit.start)
    chart.add(resource)
    return condition_id

