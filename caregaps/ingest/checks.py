"""Checks every resource gets on the fast path, and the strict full validation.

The fast path checks the envelope (resourceType, id), rejects shapes of other FHIR versions in
the elements the engine reads, and leaves the element-level checks to fact extraction, which
reads those elements anyway. Strict mode validates everything with `fhir.resources.R4B`.
"""

from __future__ import annotations

import re

from caregaps.ingest.problems import Problem
from caregaps.ingest.r4types import R4_RESOURCE_TYPES

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

# Elements whose shape differs in other FHIR versions: (type, element, test, what it means).
_OTHER_VERSION_SHAPES = [
    ("Encounter", "class", lambda v: isinstance(v, list), "Encounter.class is a list (FHIR R5)"),
    ("MedicationRequest", "medication", lambda v: isinstance(v, dict),
     "MedicationRequest.medication is a CodeableReference (FHIR R5)"),
    ("Condition", "clinicalStatus", lambda v: isinstance(v, str),
     "Condition.clinicalStatus is a plain code (FHIR STU3)"),
    ("Condition", "verificationStatus", lambda v: isinstance(v, str),
     "Condition.verificationStatus is a plain code (FHIR STU3)"),
    ("Observation", "context", lambda v: True, "Observation.context (FHIR STU3; R4 uses encounter)"),
    ("Procedure", "context", lambda v: True, "Procedure.context (FHIR STU3; R4 uses encounter)"),
]


def check_envelope(resource: object) -> tuple[str, str]:
    """The resource's (type, id), or a Problem saying why it cannot be taken at all."""
    if not isinstance(resource, dict):
        raise Problem(f"expected a JSON object, got {type(resource).__name__}", code="structure")
    rtype = resource.get("resourceType")
    if rtype is None:
        raise Problem("missing resourceType", path="resourceType", code="required")
    if not isinstance(rtype, str) or rtype not in R4_RESOURCE_TYPES:
        raise Problem(f"{rtype!r} is not a FHIR R4 resource type", path="resourceType",
                      code="not-supported")
    rid = resource.get("id")
    if rid is None:
        raise Problem("missing id", path=f"{rtype}.id", code="required")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise Problem(f"{rid!r} is not a valid id (1-64 of A-Z a-z 0-9 - .)", path=f"{rtype}.id")
    for shape_type, element, test, meaning in _OTHER_VERSION_SHAPES:
        if rtype == shape_type and element in resource and test(resource[element]):
            raise Problem(f"not FHIR R4: {meaning}; caregaps reads FHIR R4",
                          path=f"{rtype}.{element}", code="not-supported")
    return rtype, rid


def strict_problems(resource: dict) -> list[Problem]:
    """Every problem full FHIR R4 validation (fhir.resources.R4B) finds in the resource."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    rtype = resource["resourceType"]
    try:
        get_fhir_model_class(rtype).model_validate(resource)
    except ValidationError as exc:
        return [Problem(_pydantic_message(err), path=_element_path(rtype, err["loc"]))
                for err in exc.errors()]
    except (KeyError, ValueError) as exc:
        return [Problem(str(exc), path=rtype)]
    return []


def _element_path(rtype: str, loc: tuple) -> str:
    path = rtype
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _pydantic_message(err: dict) -> str:
    message = err.get("msg", "invalid").removeprefix("Value error, ")
    if "input" in err and not isinstance(err["input"], (dict, list)):
        message += f" (got {err['input']!r})"
    return message
