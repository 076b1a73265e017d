"""Vital-sign Observations taken at visits: blood pressure (one Observation, LOINC 85354-9, with
systolic 8480-6 and diastolic 8462-4 components), heart rate, weight, BMI, respiratory rate,
oxygen saturation, body temperature, and height at wellness visits.

Each patient has their own baseline (hypertensives run higher, ~60-65% of them under 140/90 at
a given visit) and every reading varies around it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from caregaps.synth.chart import Chart, Visit
from caregaps.synth.elements import LOINC, coding, concept, observation_category, quantity

VITAL_SIGNS = observation_category("vital-signs")
BP = concept(coding(LOINC, "85354-9", "Blood pressure panel with all children optional"))
SYSTOLIC = concept(coding(LOINC, "8480-6", "Systolic blood pressure"))
DIASTOLIC = concept(coding(LOINC, "8462-4", "Diastolic blood pressure"))
HEART_RATE = concept(coding(LOINC, "8867-4", "Heart rate"))
WEIGHT = concept(coding(LOINC, "29463-7", "Body weight"))
HEIGHT = concept(coding(LOINC, "8302-2", "Body height"))
BMI = concept(coding(LOINC, "39156-5", "Body mass index (BMI) [Ratio]"))
TEMPERATURE = concept(coding(LOINC, "8310-5", "Body temperature"))
RESPIRATORY_RATE = concept(coding(LOINC, "9279-1", "Respiratory rate"))
SPO2 = concept(coding(LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
               coding(LOINC, "2708-6", "Oxygen saturation in Arterial blood"))
MEASURED_AT = ("office", "new", "awv", "ed", "inpatient", "palliative")


@dataclass
class Baseline:
    systolic: float
    diastolic: float
    heart_rate: float
    height_cm: float
    weight_kg: float


def baseline(rng: random.Random, chart: Chart) -> Baseline:
    person = chart.person
    if person.has("hypertension"):
        systolic, diastolic = rng.gauss(134, 10), rng.gauss(77, 7)
    else:
        systolic, diastolic = rng.gauss(122, 9), rng.gauss(73, 6)
    height = rng.gauss(161, 6.5) if person.female else rng.gauss(175, 7)
    bmi = min(46.0, max(17.5, rng.gauss(28.8, 5.5) - 2.0 * (person.age >= 80)))
    return Baseline(systolic, diastolic, rng.gauss(74, 8), height, bmi * (height / 100) ** 2)


def add_vitals(chart: Chart) -> None:
    base = baseline(chart.rng, chart)
    for visit in chart.visits:
        if visit.kind in MEASURED_AT and chart.rng.random() < 0.96:
            _measure(chart, visit, base)


def _measure(chart: Chart, visit: Visit, base: Baseline) -> None:
    rng = chart.rng
    acute = visit.kind in ("ed", "inpatient")
    systolic = round(base.systolic + rng.gauss(0, 9) + 8 * acute)
    diastolic = round(min(base.diastolic + rng.gauss(0, 5.5), systolic - 25))
    _vital(chart, visit, BP, component=[
        {"code": SYSTOLIC, "valueQuantity": quantity(systolic, "mm[Hg]")},
        {"code": DIASTOLIC, "valueQuantity": quantity(diastolic, "mm[Hg]")},
    ])
    _vital(chart, visit, HEART_RATE, quantity(round(base.heart_rate + rng.gauss(0, 6) + 12 * acute), "/min"))
    if acute or rng.random() < 0.7:
        _vital(chart, visit, RESPIRATORY_RATE, quantity(rng.randint(12, 18) + 4 * acute, "/min"))
        low = 88 if chart.person.has("copd") else 93
        _vital(chart, visit, SPO2, quantity(rng.randint(low, 99) - 2 * acute, "%"))
    if acute or rng.random() < 0.8:
        fever = acute and rng.random() < 0.3
        _vital(chart, visit, TEMPERATURE, quantity(round(rng.gauss(38.4 if fever else 36.8, 0.3), 1), "Cel"))
    if acute:
        return
    base.weight_kg += rng.gauss(0, 0.8)
    weight = round(base.weight_kg, 1)
    _vital(chart, visit, WEIGHT, quantity(weight, "kg"))
    _vital(chart, visit, BMI, quantity(round(weight / (base.height_cm / 100) ** 2, 1), "kg/m2"))
    if visit.kind == "awv":
        _vital(chart, visit, HEIGHT, quantity(round(base.height_cm + rng.gauss(0, 0.5), 1), "cm"))


def _vital(chart: Chart, visit: Visit, code: dict, value: dict | None = None, component: list | None = None) -> None:
    resource = {"resourceType": "Observation", "id": chart.new_id(), "status": "final", "category": VITAL_SIGNS,
                "code": code, "subject": chart.subject, "encounter": chart.ref("Encounter", visit.id),
                "effectiveDateTime": chart.stamp(visit.start + (visit.end - visit.start) / 4)}
    if value is not None:
        resource["valueQuantity"] = value
    if component is not None:
        resource["component"] = component
    chart.add(resource)
