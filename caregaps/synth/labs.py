"""Laboratory Observations and their DiagnosticReports: a yearly comprehensive metabolic panel
with eGFR, lipid panel, blood count and sometimes TSH; extra basic metabolic panels for the
kidney-, heart- and diabetes-ill; urine albumin/creatinine and HbA1c for diabetics.

HbA1c codes come from the HbA1cLaboratoryTest value set, valued in %. Diabetics fall in three
control groups (about half near 7%, a third near 8%, a sixth above 9%), so ~15-20% of the
latest results are over 9.0; ~12% of diabetics have no test in 2026 and ~6% none at all.
eGFR follows CKD-EPI 2021 from the creatinine, consistent with the patient's CKD stage.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from caregaps.synth.chart import Chart, Visit, organization_ref
from caregaps.synth.clock import LAST_MOMENT
from caregaps.synth.elements import LOINC, V2_0074, coding, concept, observation_category, quantity

LABORATORY = observation_category("laboratory")
LAB_REPORT = [concept(coding(V2_0074, "LAB", "Laboratory"))]
BMP = concept(coding(LOINC, "51990-0", "Basic metabolic panel - Blood"))
CMP = concept(coding(LOINC, "24323-8", "Comprehensive metabolic 2000 panel - Serum or Plasma"))
LIPIDS = concept(coding(LOINC, "57698-3", "Lipid panel with direct LDL - Serum or Plasma"))
CBC = concept(coding(LOINC, "58410-2", "CBC panel - Blood by Automated count"))
UACR = concept(coding(LOINC, "9318-7", "Albumin/Creatinine [Mass Ratio] in Urine"))
EGFR = concept(coding(LOINC, "98979-8", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in "
                      "Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)"))


def _test(code: str, display: str, unit: str) -> tuple[dict, str]:
    return concept(coding(LOINC, code, display)), unit


GLUCOSE = _test("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL")
UREA = _test("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL")
CREATININE = _test("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL")
SODIUM = _test("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L")
POTASSIUM = _test("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L")
CHLORIDE = _test("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L")
CO2 = _test("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L")
CALCIUM = _test("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL")
ALBUMIN = _test("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL")
PROTEIN = _test("2885-2", "Protein [Mass/volume] in Serum or Plasma", "g/dL")
ALT = _test("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L")
AST = _test("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L")
ALP = _test("6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L")
BILIRUBIN = _test("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL")
TSH = _test("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L")
CHOLESTEROL = _test("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL")
TRIGLYCERIDE = _test("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL")
HDL = _test("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL")
LDL = _test("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL")
WBC = _test("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL")
HEMOGLOBIN = _test("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL")
HEMATOCRIT = _test("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%")
PLATELETS = _test("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL")
EGFR_RANGE = {"N18.31": (45, 59), "N18.32": (30, 44), "N18.30": (30, 59), "N18.4": (15, 29), "N18.5": (8, 14)}
A1C_GROUPS = ((6.9, 0.45, 0.50), (8.0, 0.45, 0.32), (9.9, 0.9, 0.18))  # (mean, sd, share)


@dataclass
class Physiology:
    creatinine: float
    a1c: float
    ldl: float
    hdl: float
    triglyceride: float
    hemoglobin: float
    albuminuria: float


def egfr(creatinine: float, age: int, female: bool) -> float:
    """CKD-EPI 2021 (race-free) eGFR in mL/min/1.73 m2."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine / kappa
    return 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.2 * 0.9938 ** age * (1.012 if female else 1)


def _creatinine_for(target: float, age: int, female: bool) -> float:
    kappa = 0.7 if female else 0.9
    return kappa * (target / (142 * 0.9938 ** age * (1.012 if female else 1))) ** (-1 / 1.2)


def physiology(rng: random.Random, chart: Chart) -> Physiology:
    person = chart.person
    ckd = person.problems.get("ckd")
    if ckd:
        creatinine = _creatinine_for(rng.uniform(*EGFR_RANGE[ckd.diagnosis.icd]), person.age, person.female)
    else:
        creatinine = max(0.5, rng.gauss(0.82, 0.14) if person.female else rng.gauss(1.0, 0.16))
    mean, sd, _ = rng.choices(A1C_GROUPS, [g[2] for g in A1C_GROUPS])[0]
    treated = any(person.has(k) for k in ("cad", "diabetes", "hyperlipidemia"))
    return Physiology(
        creatinine=creatinine,
        a1c=rng.gauss(mean, sd),
        ldl=rng.gauss(95, 28) if treated else rng.gauss(120, 30),
        hdl=rng.gauss(58, 12) if person.female else rng.gauss(46, 10),
        triglyceride=rng.gauss(140, 45),
        hemoglobin=(rng.gauss(13.0, 1.0) if person.female else rng.gauss(14.2, 1.1)) - 1.2 * bool(ckd),
        albuminuria=rng.lognormvariate(2.6 + 1.0 * bool(ckd), 1.0),
    )


def add_labs(chart: Chart) -> None:
    body = physiology(chart.rng, chart)
    rng, person = chart.rng, chart.person
    closely_followed = any(person.has(k) for k in ("ckd", "heart_failure", "diabetes"))
    for year in (2024, 2025, 2026):
        visits = [v for v in chart.clinic_visits() if v.start.year == year]
        if not visits:
            continue
        annual = next((v for v in visits if v.kind == "awv"), None) or rng.choice(visits)
        if rng.random() < 0.85:
            _annual_labs(chart, annual, body)
        for visit in visits:
            if visit is not annual and rng.random() < (0.35 if closely_followed else 0.12):
                _metabolic(chart, visit, body, comprehensive=False)
    _a1c_tests(chart, body)


def _annual_labs(chart: Chart, visit: Visit, body: Physiology) -> None:
    rng, person = chart.rng, chart.person
    _metabolic(chart, visit, body, comprehensive=True)
    treated = any(person.has(k, visit.day) for k in ("cad", "diabetes", "hyperlipidemia"))
    if rng.random() < (0.8 if treated else 0.5):
        _lipids(chart, visit, body)
    if rng.random() < 0.65:
        _blood_count(chart, visit, body)
    if rng.random() < 0.35:
        (code, unit), value = TSH, round(rng.lognormvariate(0.6, 0.45), 2)
        _observation(chart, visit, code, quantity(value, unit))
    if person.has("diabetes", visit.day) and rng.random() < 0.5:
        _observation(chart, visit, UACR, quantity(round(body.albuminuria * rng.uniform(0.8, 1.25), 1), "mg/g"))


def _lipids(chart: Chart, visit: Visit, body: Physiology) -> None:
    rng = chart.rng
    ldl = max(35, round(body.ldl + rng.gauss(0, 12)))
    hdl = max(25, round(body.hdl + rng.gauss(0, 4)))
    tg = max(45, round(body.triglyceride + rng.gauss(0, 25)))
    _panel(chart, visit, LIPIDS, [(CHOLESTEROL, ldl + hdl + round(tg / 5)), (TRIGLYCERIDE, tg), (HDL, hdl),
                                  (LDL, ldl)])


def _blood_count(chart: Chart, visit: Visit, body: Physiology) -> None:
    rng = chart.rng
    hgb = round(body.hemoglobin + rng.gauss(0, 0.4), 1)
    _panel(chart, visit, CBC, [(WBC, round(rng.gauss(7.0, 1.5), 1)), (HEMOGLOBIN, hgb),
                               (HEMATOCRIT, round(hgb * 3 + rng.gauss(0, 1), 1)),
                               (PLATELETS, round(rng.gauss(240, 50)))])


def _metabolic(chart: Chart, visit: Visit, body: Physiology, comprehensive: bool) -> None:
    rng, person = chart.rng, chart.person
    creatinine = round(body.creatinine * (1 + rng.gauss(0, 0.05)), 2)
    rate = egfr(creatinine, person.age_on(visit.day), person.female)
    glucose = rng.gauss(150, 35) if person.has("diabetes", visit.day) else rng.gauss(96, 9)
    results = [(GLUCOSE, round(max(65, glucose))), (UREA, round(12 + max(0, 60 - rate) * 0.5 + rng.gauss(0, 3))),
               (CREATININE, creatinine), (SODIUM, rng.randint(135, 144)),
               (POTASSIUM, round(rng.gauss(4.3 + 0.3 * (rate < 45), 0.35), 1)), (CHLORIDE, rng.randint(98, 107)),
               (CO2, rng.randint(22, 29)), (CALCIUM, round(rng.gauss(9.4, 0.35), 1))]
    if comprehensive:
        results += [(ALBUMIN, round(rng.gauss(4.0, 0.3), 1)), (PROTEIN, round(rng.gauss(7.0, 0.4), 1)),
                    (ALT, max(7, round(rng.gauss(22, 8)))), (AST, max(10, round(rng.gauss(24, 7)))),
                    (ALP, max(35, round(rng.gauss(80, 20)))), (BILIRUBIN, round(max(0.2, rng.gauss(0.6, 0.2)), 1))]
    ids = [_observation(chart, visit, code, quantity(value, unit)) for (code, unit), value in results]
    ids.append(_observation(chart, visit, EGFR, quantity(round(rate), "mL/min/{1.73_m2}")))
    _report(chart, visit, CMP if comprehensive else BMP, ids)


def _a1c_tests(chart: Chart, body: Physiology) -> None:
    rng, person = chart.rng, chart.person
    diabetes = person.problems.get("diabetes")
    if diabetes is None or rng.random() < 0.06:
        return
    last_year = 2025 if rng.random() < 0.12 else 2026
    codes = [chart.vs.coding("HbA1cLaboratoryTest", code) for code in ("17856-6", "4548-4")]
    code = concept(rng.choices(codes, (0.2, 0.8))[0])
    for year in range(2024, last_year + 1):
        visits = [v for v in chart.clinic_visits() if v.start.year == year and v.day >= diabetes.onset]
        for visit in visits:
            if rng.random() < min(1.0, 2.6 / len(visits)):
                value = round(min(14.0, max(5.2, body.a1c + rng.gauss(0, 0.35))), 1)
                _report(chart, visit, code, [_observation(chart, visit, code, quantity(value, "%"))])


def _panel(chart: Chart, visit: Visit, code: dict, results: list) -> None:
    ids = [_observation(chart, visit, test, quantity(value, unit)) for (test, unit), value in results]
    _report(chart, visit, code, ids)


def _observation(chart: Chart, visit: Visit, code: dict, value: dict) -> str:
    resource = chart.add({"resourceType": "Observation", "id": chart.new_id(), "status": "final",
                          "category": LABORATORY, "code": code, "subject": chart.subject,
                          "encounter": chart.ref("Encounter", visit.id),
                          "effectiveDateTime": chart.stamp(visit.end), "valueQuantity": value})
    return resource["id"]


def _report(chart: Chart, visit: Visit, code: dict, results: list[str]) -> None:
    issued = max(visit.end, min(visit.end + timedelta(hours=chart.rng.randint(4, 30)), LAST_MOMENT))
    chart.add({"resourceType": "DiagnosticReport", "id": chart.new_id(), "status": "final", "category": LAB_REPORT,
               "code": code, "subject": chart.subject, "encounter": chart.ref("Encounter", visit.id),
               "effectiveDateTime": chart.stamp(visit.end), "issued": chart.stamp(issued),
               "performer": [organization_ref(chart.practice.hospital)],
               "result": [chart.ref("Observation", rid) for rid in results]})

