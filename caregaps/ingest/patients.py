"""Read a Patient resource into the practice's patient row (identity and demographics)."""

from __future__ import annotations

from datetime import timezone, tzinfo

from caregaps.ingest import elements as el
from caregaps.ingest.fhirtime import FhirTimeError, parse_date, parse_span
from caregaps.ingest.problems import Problem

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
GENDERS = {"male", "female", "other", "unknown"}


def patient_row(resource: dict, tz: tzinfo = timezone.utc) -> dict:
    """Columns of the `patient` table for a Patient resource; a Problem for a bad element."""
    birth = resource.get("birthDate")
    try:
        birth_date = parse_date(birth) if birth is not None else None
    except FhirTimeError as exc:
        raise Problem(str(exc), path="Patient.birthDate", code="value") from None
    gender = resource.get("gender")
    if gender is not None and gender not in GENDERS:
        raise Problem(f"gender must be one of {sorted(GENDERS)}, got {gender!r}", path="Patient.gender",
                      code="value")
    family, given = _name(resource.get("name"))
    gp = None
    for i, ref in enumerate(resource.get("generalPractitioner") or []):
        target = el.reference(ref, f"Patient.generalPractitioner[{i}]")
        if target and gp is None:
            gp = "/".join(target)
    return {
        "resource_id": resource["id"],
        "identifiers": _identifiers(resource.get("identifier")),
        "family": family,
        "given": given,
        "birth_date": birth_date,
        "gender": gender,
        "sex": _sex(resource),
        "race": _omb_category(resource, "us-core-race"),
        "ethnicity": _omb_category(resource, "us-core-ethnicity"),
        "deceased": bool(resource.get("deceasedBoolean") or resource.get("deceasedDateTime")),
        **_deceased(resource, tz),
        "general_practitioner": gp,
    }


def _identifiers(value: object) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [{"system": i.get("system"), "value": i["value"]}
            for i in value if isinstance(i, dict) and isinstance(i.get("value"), str)]


def _name(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, list) or not value:
        return None, None
    names = [n for n in value if isinstance(n, dict)]
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = official.get("given")
    given = " ".join(g for g in given if isinstance(g, str)) if isinstance(given, list) else None
    family = official.get("family")
    return (family if isinstance(family, str) else None), (given or None)


def _deceased(resource: dict, tz: tzinfo) -> dict:
    """When the patient died, if the export says: some instant in [deceased_at, deceased_latest]
    (naive UTC), as precisely as deceasedDateTime is written."""
    value = resource.get("deceasedDateTime")
    if value is None:
        return {"deceased_at": None, "deceased_latest": None}
    try:
        span = parse_span(value, tz)
    except FhirTimeError as exc:
        raise Problem(str(exc), path="Patient.deceasedDateTime", code="value") from None
    return {"deceased_at": span.start, "deceased_latest": span.start_latest}


def _sex(resource: dict) -> str | None:
    """The code of the US Core sex extension (SNOMED CT: 248152002 female, 248153007 male)."""
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == US_CORE + "us-core-sex":
            if isinstance(code := ext.get("valueCode"), str):
                return code
            coding = ext.get("valueCoding")
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return coding["code"]
    return None


def _omb_category(resource: dict, name: str) -> str | None:
    """The first OMB category code of a US Core race or ethnicity extension."""
    for ext in resource.get("extension") or []:
        if not isinstance(ext, dict) or ext.get("url") != US_CORE + name:
            continue
        for inner in ext.get("extension") or []:
            if isinstance(inner, dict) and inner.get("url") == "ombCategory":
                coding = inner.get("valueCoding") or {}
                if isinstance(coding, dict) and coding.get("code"):
                    return coding["code"]
    return None
