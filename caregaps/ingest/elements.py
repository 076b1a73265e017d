"""Readers for the FHIR R4 elements the engine uses: codings, references, times, quantities.

Each reader takes the element's path for its error messages and raises `Problem` when the
element is there but malformed, so a bad value is reported where it is.
"""

from __future__ import annotations

from datetime import tzinfo

from caregaps.ingest.fhirtime import NO_TIME, FhirTimeError, Span, parse_span
from caregaps.ingest.problems import Problem


def codings(concept: object, path: str) -> list[tuple[str | None, str]]:
    """The (system, code) of every coding in a CodeableConcept."""
    if not isinstance(concept, dict):
        raise Problem("expected a CodeableConcept object", path=path, code="structure")
    found = concept.get("coding")
    if found is None:
        return []
    if not isinstance(found, list):
        raise Problem("coding must be a list", path=f"{path}.coding", code="structure")
    return [pair for i, c in enumerate(found) if (pair := coding(c, f"{path}.coding[{i}]"))]


def coding(value: object, path: str) -> tuple[str | None, str] | None:
    """(system, code) of a Coding, or None when it has no code."""
    if not isinstance(value, dict):
        raise Problem("expected a Coding object", path=path, code="structure")
    code = value.get("code")
    if code is None:
        return None
    if not isinstance(code, str):
        raise Problem(f"code must be a string, got {code!r}", path=f"{path}.code")
    system = value.get("system")
    return (system if isinstance(system, str) else None), code


def concepts(value: object, path: str) -> list[tuple[str | None, str]]:
    """Codings of a CodeableConcept or of a list of them (0..* elements)."""
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            out.extend(codings(item, f"{path}[{i}]"))
        return out
    return codings(value, path)


def reference(value: object, path: str) -> tuple[str, str] | None:
    """(type, id) of a Reference like "Patient/123", ".../Patient/123/_history/2"; None if absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem("expected a Reference object", path=path, code="structure")
    ref = value.get("reference")
    if ref is None:
        return None
    if not isinstance(ref, str):
        raise Problem(f"reference must be a string, got {ref!r}", path=f"{path}.reference")
    parts = ref.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-2] or not parts[-1] or ref.startswith(("urn:", "#")):
        raise Problem(f"cannot resolve reference {ref!r} (expected Type/id, or a urn:uuid "
                      "of an entry in the same Bundle)", path=f"{path}.reference")
    return parts[-2], parts[-1]


def patient_of(resource: dict, element: str, rtype: str) -> str:
    """The id of the Patient a resource is about; a Problem when it names no Patient."""
    path = f"{rtype}.{element}"
    target = reference(resource.get(element), path)
    if target is None:
        raise Problem(f"missing {element}: the resource must reference its Patient", path=path,
                      code="required")
    if target[0] != "Patient":
        raise Problem(f"{element} must reference a Patient, not {target[0]}", path=f"{path}.reference",
                      code="not-supported")
    return target[1]


def when(resource: dict, rtype: str, names: tuple[str, ...], tz: tzinfo) -> Span:
    """The span of the first present time element among `names` (choice types like
    effective[x] are given by their prefix: effectiveDateTime, effectivePeriod, ...)."""
    for name in names:
        for suffix in ("", "DateTime", "Instant", "Period", "Date"):
            value = resource.get(name + suffix)
            if value is None:
                continue
            path = f"{rtype}.{name}{suffix}"
            if suffix == "Period" or (suffix == "" and isinstance(value, dict)):
                return period(value, path, tz)
            return interval(value, path, tz)
    return NO_TIME


def period(value: object, path: str, tz: tzinfo) -> Span:
    """A Period from the start of its start to the end of its end (either may be missing)."""
    if not isinstance(value, dict):
        raise Problem("expected a Period object", path=path, code="structure")
    start = interval(value["start"], f"{path}.start", tz) if "start" in value else NO_TIME
    end = interval(value["end"], f"{path}.end", tz) if "end" in value else NO_TIME
    if start.start and end.end and end.end < start.start:
        raise Problem("period ends before it starts", path=path, code="value")
    offset = start.offset if start.start is not None else end.offset
    return Span(start.start, end.end, start.first_day, end.last_day, offset, start.start_latest, end.end_earliest,
                start.first_day_latest, end.last_day_earliest)


def interval(value: object, path: str, tz: tzinfo) -> Span:
    try:
        return parse_span(value, tz)
    except FhirTimeError as exc:
        raise Problem(str(exc), path=path, code="value") from None


def quantity(value: object, path: str) -> tuple[float | None, str | None]:
    """(number, unit) of a Quantity; the unit is its UCUM code, else its display unit."""
    if not isinstance(value, dict):
        raise Problem("expected a Quantity object", path=path, code="structure")
    number = value.get("value")
    if number is not None and (isinstance(number, bool) or not isinstance(number, (int, float))):
        raise Problem(f"value must be a number, got {number!r}", path=f"{path}.value", code="value")
    unit = value.get("code") or value.get("unit")
    return (float(number) if number is not None else None), unit
