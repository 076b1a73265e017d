"""Builders for the FHIR R4 datatypes the generator writes: codings, concepts, quantities.

Concepts built from constant codings are shared between resources; nothing mutates them.
"""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
MBI = "http://hl7.org/fhir/sid/us-mbi"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def coding(system: str, code: str, display: str | None = None) -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(*codings: dict, text: str | None = None) -> dict:
    out: dict = {"coding": list(codings)}
    if text:
        out["text"] = text
    return out


def quantity(value: float, unit: str, code: str | None = None) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def observation_category(code: str) -> list[dict]:
    display = {"vital-signs": "Vital Signs", "laboratory": "Laboratory", "survey": "Survey",
               "imaging": "Imaging"}[code]
    return [concept(coding(OBS_CATEGORY, code, display))]


def encounter_class(code: str) -> dict:
    display = {"AMB": "ambulatory", "EMER": "emergency", "IMP": "inpatient encounter",
               "VR": "virtual", "HH": "home health"}[code]
    return coding(ACT_CODE, code, display)


def identifier_type(code: str, display: str) -> dict:
    return concept(coding(V2_0203, code, display))


def display_of(a_concept: dict) -> str:
    """The display of a concept's first coding (for text and narrative-free labels)."""
    first = a_concept["coding"][0]
    return first.get("display") or first["code"]
