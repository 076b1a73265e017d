"""Preventive screening: mammograms, colorectal cancer screening and depression screening.

- Women 50-74: ~70% have a mammogram (an imaging Observation and its DiagnosticReport,
  Mammography value set) within the 27 months before the extract date; some of the rest have an
  older one only.
- Ages 45-75: ~70% are up to date on colorectal screening: a colonoscopy (Procedure, Colonoscopy
  value set) within 10 years, a FIT (FecalOccultBloodTest(FOBT)) this year, or a stool DNA test
  (sDNAFITTest) within 3 years; some of the rest have expired ones (an old colonoscopy, last
  year's FIT).
- Depression screening at most wellness visits: LOINC 73832-8 (adult depression screening
  assessment, with a negative/positive finding) and often a PHQ-9 total score (44261-6);
  positive screens are usually followed up (FollowUpForAdultDepression value set).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from caregaps.synth.chart import Chart, Visit, organization_ref
from caregaps.synth.clock import END, START, clinic_time, random_day
from caregaps.synth.elements import LOINC, SNOMED, V2_0074, coding, concept, observation_category

RADIOLOGY = [concept(coding(V2_0074, "RAD", "Radiology"))]
LABORATORY = observation_category("laboratory")
SURVEY = observation_category("survey")
NEGATIVE = concept(coding(SNOMED, "260385009", "Negative (qualifier value)"))
POSITIVE = concept(coding(SNOMED, "10828004", "Positive (qualifier value)"))
SCREEN = concept(coding(LOINC, "73832-8", "Adult depression screening assessment"))
SCREEN_NEGATIVE = concept(coding(SNOMED, "428171000124102", "Depression screening negative (finding)"))
SCREEN_POSITIVE = concept(coding(SNOMED, "428181000124104", "Depression screening positive (finding)"))
PHQ9 = concept(coding(LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"))
MAMMOGRAMS = ("24606-6", "26175-0", "39153-2", "42174-3", "72142-3")
COLONOSCOPY = (("73761001", "444783004"), ("45378", "45380", "45385", "G0121"))  # (SNOMED, CPT/HCPCS)
FIT = ("2335-8", "29771-3", "57905-2", "80372-6")
FOLLOW_UP = ("768835002", "88848003", "410234004")
MONTHS_27 = timedelta(days=821)


def add_screening(chart: Chart) -> None:
    person = chart.person
    if person.female and 50 <= person.age <= 74:
        _mammograms(chart)
    if 45 <= person.age <= 75:
        _colorectal(chart)
    _depression_screens(chart)


def _mammograms(chart: Chart) -> None:
    rng, last = chart.rng, chart.person.active_until
    if rng.random() < 0.70:
        latest = _day(rng, END - MONTHS_27 + timedelta(days=7), last - timedelta(days=3))
        days = [latest] if latest else []
        if latest and latest - timedelta(days=700) >= START and rng.random() < 0.6:
            days.insert(0, latest - timedelta(days=rng.randint(360, 760)))
    else:
        old = _day(rng, START, min(END - MONTHS_27 - timedelta(days=10), last)) if rng.random() < 0.4 else None
        days = [old] if old else []
    codes = [chart.vs.coding("Mammography", code) for code in MAMMOGRAMS]
    for day in days:
        when = clinic_time(rng, day)
        code = concept(rng.choice(codes))
        # QI-Core reads the study as an imaging Observation; the report points at it.
        study = {"resourceType": "Observation", "id": chart.new_id(), "status": "final",
                 "category": observation_category("imaging"), "code": code, "subject": chart.subject,
                 "effectiveDateTime": chart.stamp(when)}
        chart.add(study)
        chart.add({"resourceType": "DiagnosticReport", "id": chart.new_id(), "status": "final",
                   "result": [chart.ref("Observation", study["id"])],
                   "category": RADIOLOGY, "code": code, "subject": chart.subject,
                   "effectiveDateTime": chart.stamp(when), "issued": chart.stamp(when + timedelta(hours=26)),
                   "performer": [organization_ref(chart.practice.hospital)],
                   "conclusion": rng.choices(("BI-RADS 1: Negative.", "BI-RADS 2: Benign findings."), (70, 30))[0]})


def _colorectal(chart: Chart) -> None:
    rng, last = chart.rng, chart.person.active_until
    this_year = date(END.year, 1, 1)
    if rng.random() < 0.70:
        kind = rng.choices(("colonoscopy", "fit", "sdna"), (70, 18, 12))[0]
        if kind == "colonoscopy":
            _colonoscopy(chart, _day(rng, END - timedelta(days=int(365.25 * 9.5)), last - timedelta(days=5)))
        elif kind == "fit":
            _stool_test(chart, "FecalOccultBloodTest(FOBT)", FIT, _day(rng, this_year, last - timedelta(days=3)))
        else:
            _stool_test(chart, "sDNAFITTest", ("77354-9",), _day(rng, END - timedelta(days=1000), last))
    else:
        lapsed = rng.choices(("colonoscopy", "fit", None), (35, 35, 30))[0]
        if lapsed == "colonoscopy":
            _colonoscopy(chart, _day(rng, END - timedelta(days=365 * 15), END - timedelta(days=365 * 11)))
        elif lapsed == "fit":
            _stool_test(chart, "FecalOccultBloodTest(FOBT)", FIT,
                        _day(rng, START, min(this_year - timedelta(days=20), last)))


def _day(rng: random.Random, first: date, last: date) -> date | None:
    """A random day in [first, last], or None when the patient's history ends before `first`."""
    return random_day(rng, first, last) if first <= last else None


def _colonoscopy(chart: Chart, day: date | None) -> None:
    if day is None:
        return
    rng, vs = chart.rng, chart.vs
    sct = vs.coding("Colonoscopy", rng.choice(COLONOSCOPY[0]))
    billing = vs.coding("Colonoscopy", rng.choice(COLONOSCOPY[1]))
    chart.add({"resourceType": "Procedure", "id": chart.new_id(), "status": "completed",
               "code": concept(sct, billing, text="Colonoscopy"), "subject": chart.subject,
               "performedDateTime": chart.stamp(clinic_time(rng, day)),
               "performer": [{"actor": organization_ref(chart.practice.hospital)}]})


def _stool_test(chart: Chart, valueset: str, codes: tuple[str, ...], day: date | None) -> None:
    if day is None:
        return
    rng = chart.rng
    code = chart.vs.coding(valueset, rng.choice(codes))
    chart.add({"resourceType": "Observation", "id": chart.new_id(), "status": "final", "category": LABORATORY,
               "code": concept(code), "subject": chart.subject,
               "effectiveDateTime": chart.stamp(clinic_time(rng, day)),
               "valueCodeableConcept": POSITIVE if rng.random() < 0.05 else NEGATIVE})


def _depression_screens(chart: Chart) -> None:
    rng = chart.rng
    depressed = chart.person.has("depression")
    for year in (2024, 2025, 2026):
        visits = [v for v in chart.clinic_visits() if v.start.year == year]
        wellness = [v for v in visits if v.kind == "awv"]
        if wellness and rng.random() < 0.85:
            _screen(chart, wellness[0], rng.random() < (0.3 if depressed else 0.07))
        elif visits and rng.random() < 0.35:
            _screen(chart, rng.choice(visits), rng.random() < (0.3 if depressed else 0.07))


def _screen(chart: Chart, visit: Visit, positive: bool) -> None:
    rng = chart.rng
    when = visit.start + timedelta(minutes=10)
    _survey(chart, visit, when, SCREEN, {"valueCodeableConcept": SCREEN_POSITIVE if positive else SCREEN_NEGATIVE})
    if positive or rng.random() < 0.5:
        score = rng.randint(10, 22) if positive else rng.randint(0, 4)
        _survey(chart, visit, when, PHQ9, {"valueInteger": score})
    if positive and rng.random() < 0.65:
        _follow_up(chart, visit, rng)


def _survey(chart: Chart, visit: Visit, when: datetime, code: dict, value: dict) -> None:
    chart.add({"resourceType": "Observation", "id": chart.new_id(), "status": "final", "category": SURVEY,
               "code": code, "subject": chart.subject, "encounter": chart.ref("Encounter", visit.id),
               "effectiveDateTime": chart.stamp(when), **value})


def _follow_up(chart: Chart, visit: Visit, rng: random.Random) -> None:
    code = chart.vs.coding("FollowUpForAdultDepression", rng.choice(FOLLOW_UP))
    chart.add({"resourceType": "Procedure", "id": chart.new_id(), "status": "completed", "code": concept(code),
               "subject": chart.subject, "encounter": chart.ref("Encounter", visit.id),
               "performedDateTime": chart.stamp(visit.end)})
