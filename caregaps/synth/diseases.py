"""What patients have: chronic conditions with their age-specific prevalence, and the acute
problems behind emergency visits and admissions, each coded in ICD-10-CM and SNOMED CT.

Conditions a measure looks for take both codes from a value set (`valueset`): hypertension
from EssentialHypertension, diabetes from Diabetes, frailty from FrailtyDiagnosis, ... Those
with no value set here (CKD, CAD, heart failure, COPD, depression, dementia, hyperlipidemia,
osteoarthritis, acute problems) use public codes written out below.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from caregaps.synth.elements import ICD10CM, SNOMED, coding, concept
from caregaps.synth.valuesets import ValueSets


@dataclass(frozen=True)
class Variant:
    icd: str
    snomed: str
    weight: float
    icd_display: str | None = None  # None: the display is read from `valueset`
    snomed_display: str | None = None
    valueset: str | None = None


def _vs(name: str, *pairs: tuple[str, str, float]) -> tuple[Variant, ...]:
    return tuple(Variant(icd, sct, weight, valueset=name) for icd, sct, weight in pairs)


CHRONIC: dict[str, tuple[Variant, ...]] = {
    "hypertension": _vs("EssentialHypertension", ("I10", "59621000", 0.85), ("I10", "1201005", 0.15)),
    "diabetes": _vs("Diabetes", ("E11.9", "44054006", 0.42), ("E11.65", "44054006", 0.12),
                    ("E11.22", "420279001", 0.12), ("E11.42", "713706002", 0.08),
                    ("E11.40", "368581000119106", 0.06), ("E11.319", "422034002", 0.06),
                    ("E11.51", "314902007", 0.04), ("E11.9", "81531005", 0.10)),
    "ckd": (Variant("N18.31", "700378005", 0.44, "Chronic kidney disease, stage 3a",
                    "Chronic kidney disease stage 3A (disorder)"),
            Variant("N18.32", "700379002", 0.24, "Chronic kidney disease, stage 3b",
                    "Chronic kidney disease stage 3B (disorder)"),
            Variant("N18.30", "433144002", 0.16, "Chronic kidney disease, stage 3 unspecified",
                    "Chronic kidney disease stage 3 (disorder)"),
            Variant("N18.4", "431857002", 0.12, "Chronic kidney disease, stage 4 (severe)",
                    "Chronic kidney disease stage 4 (disorder)"),
            *_vs("ChronicKidneyDisease,Stage5", ("N18.5", "433146000", 0.04))),
    "cad": (Variant("I25.10", "53741008", 1.0,
                    "Atherosclerotic heart disease of native coronary artery without angina pectoris",
                    "Coronary arteriosclerosis (disorder)"),),
    "heart_failure": (Variant("I50.9", "84114007", 0.5, "Heart failure, unspecified", "Heart failure (disorder)"),
                      Variant("I50.32", "441481004", 0.3, "Chronic diastolic (congestive) heart failure",
                              "Chronic diastolic heart failure (disorder)"),
                      Variant("I50.22", "441530006", 0.2, "Chronic systolic (congestive) heart failure",
                              "Chronic systolic heart failure (disorder)")),
    "copd": (Variant("J44.9", "13645005", 1.0, "Chronic obstructive pulmonary disease, unspecified",
                     "Chronic obstructive lung disease (disorder)"),),
    "depression": (Variant("F32.A", "35489007", 0.5, "Depression, unspecified", "Depressive disorder (disorder)"),
                   Variant("F33.1", "18818009", 0.3, "Major depressive disorder, recurrent, moderate",
                           "Moderate recurrent major depression (disorder)"),
                   Variant("F32.1", "832007", 0.2, "Major depressive disorder, single episode, moderate",
                           "Moderate major depression (disorder)")),
    "dementia": (Variant("F03.90", "52448006", 0.6, "Unspecified dementia, unspecified severity, without "
                         "behavioral disturbance, psychotic disturbance, mood disturbance, and anxiety",
                         "Dementia (disorder)"),
                 Variant("G30.9", "26929004", 0.4, "Alzheimer's disease, unspecified",
                         "Alzheimer's disease (disorder)")),
    "hyperlipidemia": (Variant("E78.5", "55822004", 0.7, "Hyperlipidemia, unspecified", "Hyperlipidemia (disorder)"),
                       Variant("E78.00", "13644009", 0.3, "Pure hypercholesterolemia, unspecified",
                               "Hypercholesterolemia (disorder)")),
    "osteoarthritis": (Variant("M17.9", "239873007", 0.6, "Osteoarthritis of knee, unspecified",
                               "Osteoarthritis of knee (disorder)"),
                       Variant("M19.90", "396275006", 0.4, "Unspecified osteoarthritis, unspecified site",
                               "Osteoarthritis (disorder)")),
    "frailty": _vs("FrailtyDiagnosis", ("R29.6", "217082002", 1.0)),
}

# Share of patients with each condition by age band (40-64, 65-79, 80+). With the panel's age
# mix (15% / 60% / 25%) this gives hypertension ~60%, diabetes ~27%, CKD ~15%, CAD ~20%,
# heart failure ~12%, COPD ~11%, depression ~15%, dementia ~8%.
PREVALENCE: dict[str, tuple[float, float, float]] = {
    "hypertension": (0.45, 0.60, 0.68),
    "diabetes": (0.25, 0.29, 0.24),
    "ckd": (0.06, 0.13, 0.25),
    "cad": (0.10, 0.19, 0.27),
    "heart_failure": (0.04, 0.10, 0.20),
    "copd": (0.09, 0.11, 0.12),
    "depression": (0.22, 0.14, 0.14),
    "dementia": (0.01, 0.05, 0.22),
    "hyperlipidemia": (0.40, 0.52, 0.50),
    "osteoarthritis": (0.20, 0.35, 0.45),
    "frailty": (0.01, 0.05, 0.20),
}

ACUTE: dict[str, tuple[Variant, ...]] = {
    "chest_pain": (Variant("R07.9", "29857009", 1, "Chest pain, unspecified", "Chest pain (finding)"),),
    "syncope": (Variant("R55", "271594007", 1, "Syncope and collapse", "Syncope (disorder)"),),
    "pneumonia": (Variant("J18.9", "233604007", 1, "Pneumonia, unspecified organism", "Pneumonia (disorder)"),),
    "uti": (Variant("N39.0", "68566005", 1, "Urinary tract infection, site not specified",
                    "Urinary tract infectious disease (disorder)"),),
    "sepsis": (Variant("A41.9", "91302008", 1, "Sepsis, unspecified organism", "Sepsis (disorder)"),),
    "copd_exacerbation": (Variant("J44.1", "195951007", 1,
                                  "Chronic obstructive pulmonary disease with (acute) exacerbation",
                                  "Acute exacerbation of chronic obstructive airways disease (disorder)"),),
    "fall": _vs("FrailtyDiagnosis", ("W19.XXXA", "217082002", 1)),
    "uri": (Variant("J06.9", "54150009", 1, "Acute upper respiratory infection, unspecified",
                    "Upper respiratory infection (disorder)"),),
    "back_pain": (Variant("M54.50", "279039007", 1, "Low back pain, unspecified", "Low back pain (finding)"),),
    "dizziness": (Variant("R42", "404640003", 1, "Dizziness and giddiness", "Dizziness (finding)"),),
    "palliative": _vs("PalliativeCareDiagnosis", ("Z51.5", "441874000", 1)),
}
BACKGROUND = ("hyperlipidemia", "frailty", "osteoarthritis")  # seldom what a visit is about
EMERGENCY_REASONS = ("chest_pain", "syncope", "pneumonia", "uti", "fall", "sepsis")
MINOR_REASONS = ("uri", "back_pain", "dizziness")
ADMITTED = {"pneumonia": 0.6, "sepsis": 0.95, "chest_pain": 0.3, "syncope": 0.35, "uti": 0.25, "fall": 0.3,
            "copd_exacerbation": 0.5, "heart_failure": 0.6}


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    icd: str
    code: dict  # CodeableConcept with an ICD-10-CM and a SNOMED CT coding


@lru_cache(maxsize=4)
def _table(vs: ValueSets) -> dict[str, tuple[list[Diagnosis], list[float]]]:
    table = {}
    for kind, variants in {**CHRONIC, **ACUTE}.items():
        table[kind] = ([Diagnosis(kind, v.icd, _concept(vs, v)) for v in variants], [v.weight for v in variants])
    return table


def _concept(vs: ValueSets, v: Variant) -> dict:
    if v.valueset:
        icd, sct = vs.coding(v.valueset, v.icd), vs.coding(v.valueset, v.snomed)
        if not (icd["system"] == ICD10CM and sct["system"] == SNOMED):
            raise ValueError(f"{v.icd}/{v.snomed} in {v.valueset} are not ICD-10-CM and SNOMED CT codes")
        return concept(icd, sct, text=icd["display"])
    return concept(coding(ICD10CM, v.icd, v.icd_display), coding(SNOMED, v.snomed, v.snomed_display),
                   text=v.icd_display)


def pick(rng: random.Random, vs: ValueSets, kind: str) -> Diagnosis:
    """One coded diagnosis of a kind (a weighted choice among its variants)."""
    choices, weights = _table(vs)[kind]
    return choices[0] if len(choices) == 1 else rng.choices(choices, weights)[0]


def age_band(age: int) -> int:
    return 0 if age < 65 else 1 if age < 80 else 2
