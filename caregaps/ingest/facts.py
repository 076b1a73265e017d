"""Turn one FHIR R4 resource into the normalized facts that measures read.

A table (`SPECS`) says, per resource type the engine reads, which element names the patient,
which gives the time, the status, and which codings to keep under which `element` label.
`code` is always the primary code a measure matches against a value set (Encounter.type,
MedicationRequest.medicationCodeableConcept, Immunization.vaccineCode, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from caregaps.ingest import elements as el
from caregaps.ingest import medperiod
from caregaps.ingest.fhirtime import Span, end_of_written_day
from caregaps.ingest.problems import Problem


@dataclass(frozen=True)
class Spec:
    kind: str
    patient: str = "subject"
    time: tuple[str, ...] = ()
    end: tuple[str, ...] = ()
    status: str | None = "status"
    codes: tuple[tuple[str, str], ...] = ()  # (label, element name)
    plain_codes: tuple[tuple[str, str], ...] = ()  # (label, element holding a bare code)
    required: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    value: bool = False


_MED = (("code", "medicationCodeableConcept"),)
QICORE = "http://hl7.org/fhir/us/qicore/StructureDefinition/"
# why something was not done or not requested, kept as one label: the extension QI-Core 6's
# negation profile of each resource type reads (ObservationCancelled.notDoneReason,
# ServiceNotRequested.reasonRefused, DeviceNotRequested.reasonRefused); another extension there
# is not that reason, as the measures' ELM reads it
NOT_DONE_REASONS = {"Observation": QICORE + "qicore-notDoneReason",
                    "ServiceRequest": QICORE + "qicore-doNotPerformReason",
                    "DeviceRequest": QICORE + "qicore-doNotPerformReason"}
# QI-Core's two Condition profiles, as a CQL retrieve names them, and their canonical urls
CONDITION_PROFILE_URLS = {"ConditionEncounterDiagnosis": QICORE + "qicore-condition-encounter-diagnosis",
                          "ConditionProblemsHealthConcerns": QICORE + "qicore-condition-problems-health-concerns"}
SPECS: dict[str, Spec] = {
    "Observation": Spec("observation", time=("effective",), required=("status", "code"), value=True,
                        codes=(("code", "code"), ("category", "category")), refs=("encounter",)),
    # QICoreCommon's prevalenceInterval() starts at the onset alone (recordedDate is not a start)
    "Condition": Spec("condition", time=("onset",), end=("abatement",), status=None,
                      codes=(("code", "code"), ("category", "category"),
                             ("clinical-status", "clinicalStatus"), ("verification", "verificationStatus"),
                             ("body-site", "bodySite")),
                      refs=("encounter",)),
    "Encounter": Spec("encounter", time=("period",), required=("status",),
                      codes=(("code", "type"), ("reason", "reasonCode")), refs=()),
    "Procedure": Spec("procedure", time=("performed",), required=("status",),
                      codes=(("code", "code"), ("category", "category"), ("status-reason", "statusReason"),
                             ("body-site", "bodySite"), ("reason", "reasonCode")),
                      refs=("encounter",)),
    "MedicationRequest": Spec("medication-request", time=("authoredOn",), required=("status", "intent"),
                              codes=_MED + (("category", "category"), ("reason", "reasonCode")),
                              plain_codes=(("intent", "intent"),),
                              refs=("encounter", "medicationReference")),
    "MedicationDispense": Spec("medication-dispense", time=("whenHandedOver", "whenPrepared"),
                               required=("status",), codes=_MED, refs=("medicationReference",)),
    "MedicationAdministration": Spec("medication-administration", time=("effective",),
                                     required=("status",), codes=_MED, refs=("medicationReference",)),
    "MedicationStatement": Spec("medication-statement", time=("effective", "dateAsserted"),
                                required=("status",), codes=_MED, refs=("medicationReference",)),
    "Immunization": Spec("immunization", patient="patient", time=("occurrence",),
                         required=("status", "vaccineCode"), codes=(("code", "vaccineCode"),)),
    "DiagnosticReport": Spec("diagnostic-report", time=("effective", "issued"), required=("status", "code"),
                             codes=(("code", "code"), ("category", "category")), refs=("encounter",)),
    # an order is dated by its authoredOn alone, as every measure's CQL reads it
    "ServiceRequest": Spec("service-request", time=("authoredOn",),
                           required=("status", "intent"),
                           codes=(("code", "code"), ("category", "category"), ("reason", "reasonCode")),
                           plain_codes=(("intent", "intent"),), refs=("encounter",)),
    "DeviceRequest": Spec("device-request", time=("authoredOn",),
                          required=("status", "intent"), codes=(("code", "codeCodeableConcept"),),
                          plain_codes=(("intent", "intent"),), refs=("encounter",)),
    # QI-Core's Communication (and CommunicationNotDone: status not-done) is retrieved by its
    # category: that is its primary code here; it is dated by when it was sent
    "Communication": Spec("communication", time=("sent",), required=("status",),
                          codes=(("code", "category"), ("status-reason", "statusReason"), ("reason", "reasonCode")),
                          refs=("encounter",)),
    "AllergyIntolerance": Spec("allergy", patient="patient", time=("onset", "recordedDate"), status=None,
                               codes=(("code", "code"), ("clinical-status", "clinicalStatus"),
                                      ("verification", "verificationStatus"))),
    # A Medication belongs to no patient: its codes are what a medicationReference points at.
    "Medication": Spec("medication", patient="", status="status", codes=(("code", "code"),)),
    "Coverage": Spec("coverage", patient="beneficiary", time=("period",), required=("status",),
                     codes=(("code", "type"),), refs=("payor",)),
}


@dataclass(slots=True)
class FactRow:
    kind: str
    patient_id: str
    component: int | None
    start: datetime | None
    end: datetime | None
    start_latest: datetime | None = None  # the start lies in [start, start_latest], the end in [end_earliest, end]
    end_earliest: datetime | None = None
    start_day: date | None = None  # the days as written (CQL compares days without normalising)
    end_day: date | None = None
    start_day_latest: date | None = None  # set for partial dates only: their days are not known
    end_day_earliest: date | None = None
    offset: int | None = None  # minutes east of UTC the time was written in; None: written without one
    value_num: float | None = None
    value_unit: str | None = None
    status: str | None = None
    codes: list[tuple[str, str | None, str]] = field(default_factory=list)
    datings: list[tuple[str, Span]] = field(default_factory=list)  # other elements that date it


@dataclass(slots=True)
class Extracted:
    """What one resource yields: its facts, its references, and whether it is withdrawn."""

    facts: list[FactRow] = field(default_factory=list)
    references: list[tuple[str, str, str]] = field(default_factory=list)  # (path, type, id)
    entered_in_error: bool = False
    warnings: list[Problem] = field(default_factory=list)


def extract(resource: dict, rtype: str, tz: tzinfo) -> Extracted:
    """The facts of a resource of a type in SPECS; raises Problem if an element it reads is bad."""
    spec = SPECS[rtype]
    out = Extracted()
    for name in spec.required:
        if resource.get(name) is None and not _has_choice(resource, name):
            raise Problem(f"missing {name}", path=f"{rtype}.{name}", code="required")
    patient_id = el.patient_of(resource, spec.patient, rtype) if spec.patient else ""
    span = el.when(resource, rtype, spec.time, tz)
    if spec.end:
        ending = el.when(resource, rtype, spec.end, tz)
        span = Span(span.start, ending.end, span.first_day, ending.last_day, span.offset, span.start_latest,
                    ending.end_earliest, span.first_day_latest, ending.last_day_earliest)
    status = _status(resource, rtype, spec)
    if rtype == "MedicationRequest" and span.start is not None:
        span = _medication_period(resource, span, tz)
    fact = FactRow(spec.kind, patient_id, None, span.start, span.end, span.start_latest, span.end_earliest,
                   span.first_day, span.last_day, span.first_day_latest, span.last_day_earliest, span.offset,
                   status=status, codes=_codes(resource, rtype, spec))
    if rtype == "Observation" and status == "cancelled" and resource.get("issued") is not None:
        # ObservationCancelled: some measures date it by `issued`, others by `effective` (dated by:)
        fact.datings.append(("issued", el.when(resource, rtype, ("issued",), tz)))
    out.entered_in_error = status == "entered-in-error" or any(
        label == "verification" and code == "entered-in-error" for label, _, code in fact.codes)
    if spec.value:
        _read_value(resource, rtype, fact)
        out.facts.append(fact)
        _components(resource, rtype, fact, out)
        if span.start is None:
            out.warnings.append(Problem("no effective time", path=f"{rtype}.effective[x]",
                                        code="incomplete", severity="warning"))
    else:
        out.facts.append(fact)
    for name in spec.refs:
        for i, ref in enumerate(_as_list(resource.get(name))):
            if (target := el.reference(ref, f"{rtype}.{name}")) is not None:
                out.references.append((name if i == 0 else f"{name}[{i}]", *target))
    return out


def _medication_period(resource: dict, span: Span, tz: tzinfo) -> Span:
    """The request's span to the end of the days it supplies (see medperiod), where it says."""
    bounds = (((_first(resource.get("dosageInstruction")).get("timing") or {}).get("repeat") or {})
              .get("boundsPeriod"))
    bounds_end = None
    if isinstance(bounds, dict) and "end" in bounds:
        try:
            bounds_end = el.interval(bounds["end"], "MedicationRequest.dosageInstruction[0].timing.repeat.boundsPeriod.end",
                                     tz)
        except Problem:
            bounds_end = None
    days = medperiod.supplied_whole_days(resource)
    if days is not None:
        end = end_of_written_day(span, tz) + timedelta(days=days - 1)
        return Span(span.start, end, span.first_day, span.first_day + timedelta(days=days - 1), span.offset,
                    span.start_latest, end, span.first_day_latest)
    if bounds_end is not None:
        return Span(span.start, bounds_end.end, span.first_day, bounds_end.last_day, span.offset,
                    span.start_latest, bounds_end.end_earliest, span.first_day_latest, bounds_end.last_day_earliest)
    return span


def _first(value: object) -> dict:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


def _has_choice(resource: dict, prefix: str) -> bool:
    return any(key.startswith(prefix) for key in resource)


def _status(resource: dict, rtype: str, spec: Spec) -> str | None:
    if spec.status is None:
        concept = resource.get("clinicalStatus")
        found = el.codings(concept, f"{rtype}.clinicalStatus") if concept is not None else []
        return found[0][1] if found else None
    status = resource.get(spec.status)
    if status is not None and not isinstance(status, str):
        raise Problem(f"status must be a code, got {status!r}", path=f"{rtype}.{spec.status}")
    return status


def _codes(resource: dict, rtype: str, spec: Spec) -> list[tuple[str, str | None, str]]:
    out = []
    for label, name in spec.codes:
        value = resource.get(name)
        if value is not None:
            out.extend((label, system, code) for system, code in el.concepts(value, f"{rtype}.{name}"))
    for label, name in spec.plain_codes:
        if isinstance(value := resource.get(name), str):
            out.append((label, None, value))
    if rtype == "Encounter" and (klass := resource.get("class")) is not None:
        if (pair := el.coding(klass, "Encounter.class")) is not None:
            out.append(("class", *pair))
    for i, ext in enumerate(_as_list(resource.get("extension"))):
        if isinstance(ext, dict) and ext.get("url") == NOT_DONE_REASONS.get(rtype) and "valueCodeableConcept" in ext:
            path = f"{rtype}.extension[{i}].valueCodeableConcept"
            out.extend(("not-done-reason", s, c) for s, c in el.codings(ext["valueCodeableConcept"], path))
    if rtype == "Condition":  # the QI-Core Condition profile it declares, if any (measures read by profile)
        meta = resource.get("meta")
        declared = meta.get("profile") if isinstance(meta, dict) else None
        out.extend(("profile", None, url) for url in _as_list(declared) if url in CONDITION_PROFILE_URLS.values())
    if resource.get("doNotPerform") is True:  # a request NOT to do something (QI-Core ...NotRequested)
        out.append(("do-not-perform", None, "true"))
    if rtype == "Encounter" and isinstance(hosp := resource.get("hospitalization"), dict):
        if (disposition := hosp.get("dischargeDisposition")) is not None:
            path = "Encounter.hospitalization.dischargeDisposition"
            out.extend(("discharge", s, c) for s, c in el.codings(disposition, path))
    return out


def _read_value(item: dict, path: str, fact: FactRow) -> None:
    """Numeric or coded value[x] of an Observation (or of one of its components)."""
    if (q := item.get("valueQuantity")) is not None:
        fact.value_num, fact.value_unit = el.quantity(q, f"{path}.valueQuantity")
    elif (number := item.get("valueInteger")) is not None:
        if isinstance(number, bool) or not isinstance(number, int):
            raise Problem(f"valueInteger must be an integer, got {number!r}", path=f"{path}.valueInteger")
        fact.value_num = float(number)
    elif (concept := item.get("valueCodeableConcept")) is not None:
        fact.codes.extend(("value", s, c) for s, c in el.codings(concept, f"{path}.valueCodeableConcept"))
    elif isinstance(flag := item.get("valueBoolean"), bool):
        fact.value_num = 1.0 if flag else 0.0


def _components(resource: dict, rtype: str, parent: FactRow, out: Extracted) -> None:
    for i, component in enumerate(_as_list(resource.get("component"))):
        path = f"{rtype}.component[{i}]"
        if not isinstance(component, dict):
            raise Problem("expected a component object", path=path, code="structure")
        codes = [("code", s, c) for s, c in el.codings(component.get("code") or {}, f"{path}.code")]
        fact = FactRow(parent.kind, parent.patient_id, i, parent.start, parent.end, parent.start_latest,
                       parent.end_earliest, parent.start_day, parent.end_day, parent.start_day_latest,
                       parent.end_day_earliest, parent.offset, status=parent.status, codes=codes)
        _read_value(component, path, fact)
        out.facts.append(fact)


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
