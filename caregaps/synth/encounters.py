"""A patient's visits over the window, and their Encounter resources.

Office visits come more often the more chronic conditions a patient has; most patients have an
annual wellness visit most years; emergency visits (some leading to an admission, then an
office follow-up) are more frequent with heart failure, COPD, CKD and age. Hospice patients
get hospice visits instead of office visits after admission. Encounter types are codes from
the OfficeVisit, AnnualWellnessVisit, EmergencyDepartmentVisit, EncounterInpatient,
TelephoneVisits, HospiceEncounter and PalliativeCareEncounter value sets.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from caregaps.synth.chart import Chart, Visit, organization_ref, practitioner_ref
from caregaps.synth.clock import END, START, any_time, clinic_time, random_day
from caregaps.synth.diseases import ADMITTED, BACKGROUND, EMERGENCY_REASONS
from caregaps.synth.elements import concept, encounter_class
from caregaps.synth.valuesets import ValueSets

TYPES: dict[str, tuple[tuple[str, tuple[str, ...], float], ...]] = {
    # kind: ((value set, codes of one CodeableConcept, weight), ...)
    "office": (("OfficeVisit", ("99212",), 0.10), ("OfficeVisit", ("99213",), 0.42),
               ("OfficeVisit", ("99214",), 0.40), ("OfficeVisit", ("99215",), 0.08)),
    "new": (("OfficeVisit", ("99203",), 0.5), ("OfficeVisit", ("99204",), 0.5)),
    "awv": (("AnnualWellnessVisit", ("G0439", "456201000124103"), 1.0),),
    "awv-initial": (("AnnualWellnessVisit", ("G0438", "456201000124103"), 1.0),),
    "phone": (("TelephoneVisits", ("185317003",), 1.0),),
    "ed": (("EmergencyDepartmentVisit", ("4525004",), 1.0),),
    "inpatient": (("EncounterInpatient", ("183452005",), 0.85), ("EncounterInpatient", ("32485007",), 0.15)),
    "hospice-admission": (("HospiceEncounter", ("305336008",), 1.0),),
    "hospice": (("HospiceEncounter", ("385765002",), 1.0),),
    "palliative": (("PalliativeCareEncounter", ("713281006",), 1.0),),
}
ED_LEVEL = ("99283", "99284", "99285")
CLASS = {"office": "AMB", "new": "AMB", "awv": "AMB", "phone": "VR", "ed": "EMER", "inpatient": "IMP",
         "hospice": "HH", "palliative": "AMB"}
MINUTES = {"office": (15, 40), "new": (30, 60), "awv": (30, 60), "phone": (5, 20), "palliative": (45, 90),
           "hospice": (30, 90)}
DISCHARGE = "http://terminology.hl7.org/CodeSystem/discharge-disposition"


@lru_cache(maxsize=4)
def _types(vs: ValueSets) -> dict[str, tuple[list[dict], list[float]]]:
    out = {}
    for kind, options in TYPES.items():
        out[kind] = ([concept(*(vs.coding(name, code) for code in codes)) for name, codes, _ in options],
                     [weight for _, _, weight in options])
    out["ed-level"] = ([vs.coding("EmergencyDepartmentEvaluationandManagementVisit", c) for c in ED_LEVEL],
                       [0.3, 0.45, 0.25])
    return out


def schedule(chart: Chart) -> list[Visit]:
    """Every visit of the patient, in time order."""
    visits = _office_visits(chart) + _wellness_visits(chart) + _acute_visits(chart) + _end_of_life_visits(chart)
    visits.sort(key=lambda v: (v.start, v.kind))
    return visits


def _visit(chart: Chart, kind: str, start: datetime) -> Visit:
    """A visit with a practice clinician: usually the patient's own GP, sometimes a colleague."""
    low, high = MINUTES[kind]
    end = start + timedelta(minutes=chart.rng.randint(low, high))
    clinician = chart.person.gp if chart.rng.random() < 0.8 else chart.rng.choice(chart.practice.practitioners)
    return Visit(kind, start, end, chart.new_id(), clinician)


def _office_visits(chart: Chart) -> list[Visit]:
    person, rng = chart.person, chart.rng
    chronic = sum(1 for kind in person.problems if kind not in BACKGROUND)
    rate = min(10.0, (2.5 + 0.8 * chronic + 0.5 * (person.age >= 80)) * (0.7 + 0.6 * person.adherence))
    visits = []
    if person.enrolled > START:
        visits.append(_visit(chart, "new", clinic_time(rng, person.enrolled)))
    day = person.enrolled + timedelta(days=rng.expovariate(rate / 365))
    while day <= person.active_until:
        kind = "phone" if rng.random() < 0.08 else "office"
        visits.append(_visit(chart, kind, clinic_time(rng, day)))
        day += timedelta(days=max(7.0, rng.expovariate(rate / 365)))
    return visits


def _wellness_visits(chart: Chart) -> list[Visit]:
    person, rng = chart.person, chart.rng
    visits: list[Visit] = []
    for year in (2024, 2025, 2026):
        first, last = max(date(year, 1, 1), person.enrolled), min(date(year, 12, 31), person.active_until)
        if first <= last and rng.random() < 0.3 + 0.6 * person.adherence:
            visit = _visit(chart, "awv", clinic_time(rng, random_day(rng, first, last)))
            visit.reason = "initial" if not visits and rng.random() < 0.15 else None
            visits.append(visit)
    return visits


def _acute_visits(chart: Chart) -> list[Visit]:
    person, rng = chart.person, chart.rng
    rate = (0.15 + 0.25 * person.has("heart_failure") + 0.2 * person.has("copd") + 0.05 * person.has("ckd")
            + 0.1 * (person.age >= 80))
    visits = []
    day = person.enrolled + timedelta(days=rng.expovariate(rate / 365))
    while day < person.last_day:
        visits.extend(_emergency(chart, day))
        day += timedelta(days=max(14.0, rng.expovariate(rate / 365)))
    return visits


def _emergency(chart: Chart, day: date) -> list[Visit]:
    """An emergency visit, possibly an admission after it, and an office follow-up after that."""
    person, rng = chart.person, chart.rng
    reasons = list(EMERGENCY_REASONS)
    reasons += ["heart_failure"] * 3 * person.has("heart_failure", day)
    reasons += ["copd_exacerbation"] * 3 * person.has("copd", day)
    reason = rng.choice(reasons)
    start = any_time(rng, day)
    ed = Visit("ed", start, start + timedelta(minutes=rng.randint(150, 420)), chart.new_id(), None, reason)
    if rng.random() >= ADMITTED[reason] or day > person.last_day - timedelta(days=9):
        return [ed]
    discharge = ed.end + timedelta(days=rng.randint(2, 7), hours=rng.randint(-4, 4))
    admission = Visit("inpatient", ed.end, discharge, chart.new_id(), None, reason)
    visits = [ed, admission]
    follow_up = admission.end.date() + timedelta(days=rng.randint(5, 14))
    if rng.random() < 0.6 and follow_up <= min(person.active_until, END):
        visits.append(_visit(chart, "office", clinic_time(rng, follow_up)))
    return visits


def _end_of_life_visits(chart: Chart) -> list[Visit]:
    person, rng = chart.person, chart.rng
    visits = []
    if person.palliative:
        visits.append(_visit(chart, "palliative", clinic_time(rng, person.palliative)))
    if person.hospice:
        admission = _visit(chart, "hospice", any_time(rng, person.hospice))
        admission.reason = "admission"
        visits.append(admission)
        day = person.hospice + timedelta(days=rng.randint(10, 30))
        while day <= person.last_day and len(visits) < 10:
            visits.append(_visit(chart, "hospice", clinic_time(rng, day)))
            day += timedelta(days=rng.randint(14, 35))
    return visits


def add_encounters(chart: Chart) -> list[dict]:
    """The Encounter resources of the chart's visits (after their diagnoses are known)."""
    return [_encounter(chart, v) for v in chart.visits]


def _encounter(chart: Chart, visit: Visit) -> dict:
    types, rng = _types(chart.vs), chart.rng
    kind = {"awv": "awv-initial" if visit.reason == "initial" else "awv",
            "hospice": "hospice-admission" if visit.reason == "admission" else "hospice"}.get(visit.kind, visit.kind)
    choices, weights = types[kind]
    encounter_type = rng.choices(choices, weights)[0]
    if visit.kind == "ed":
        level_codes, level_weights = types["ed-level"]
        encounter_type = concept(*encounter_type["coding"], rng.choices(level_codes, level_weights)[0])
    resource = {"resourceType": "Encounter", "id": visit.id, "status": "finished",
                "class": encounter_class(CLASS[visit.kind]), "type": [encounter_type], "subject": chart.subject}
    if visit.practitioner:
        resource["participant"] = [{"individual": practitioner_ref(visit.practitioner)}]
    resource["period"] = {"start": chart.stamp(visit.start), "end": chart.stamp(visit.end)}
    if visit.diagnoses:
        resource["diagnosis"] = [{"condition": chart.ref("Condition", cid), "rank": i}
                                 for i, cid in enumerate(visit.diagnoses, start=1)]
    if visit.kind == "inpatient":
        home = rng.random() < 0.75 or chart.person.age < 75
        code, display = ("home", "Home") if home else ("snf", "Skilled nursing facility")
        resource["hospitalization"] = {"dischargeDisposition": concept({"system": DISCHARGE, "code": code,
                                                                       "display": display})}
    practice = chart.practice
    in_hospital = visit.kind in ("ed", "inpatient")
    resource["serviceProvider"] = organization_ref(practice.hospital if in_hospital else practice.organization)
    return resource
