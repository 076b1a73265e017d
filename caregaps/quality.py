"""Data-quality reports: what a practice (or one import) sent, and what is wrong or missing in it.

Both reports count inside the database (GROUP BY, EXISTS) and bring back only aggregates and a
few examples, so they cost the same few queries for a hundred patients or a million. Sections:

- `resources_by_type`: live (current, non-deleted) resources per type;
- `coding`: per resource type, how many primary codings (`fact_code.element = 'code'`, Observation
  components included) are in a standard terminology, and the count per system;
- `observations_without_value` / `observations_without_effective_time`;
- `patients_without_encounters`;
- `future_dates`: facts starting after `now`, and birth dates after `now`;
- `time_offsets`: facts whose time was written in an offset other than the practice's own at that
  moment (exports often write UTC `Z`), and how many of them are another day in local time: at
  day precision a measure counts the day as written, so those may fall in or out of a period;
- `missing_references`: references to resources never received (or since deleted), and facts
  whose patient has no Patient row (reported under target type `Patient`).

An import's report covers the resources whose current version that import stored; a reference
from one of them still counts as resolved when its target came in another import. Every query is
bounded to one practice. Times are naive UTC, as stored; the result is JSON-ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, exists, func, literal, not_, or_, select, tuple_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from caregaps.ingest.facts import SPECS
from caregaps.models import Fact, FactCode, ImportIssue, ImportJob, Patient, Practice, RawResource, ResourceReference

RAW, FACT, CODE, PATIENT, REF, ISSUE = (RawResource.__table__, Fact.__table__, FactCode.__table__,
                                        Patient.__table__, ResourceReference.__table__, ImportIssue.__table__)

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
STANDARD_SYSTEMS: dict[str, str] = {
    "LOINC": "http://loinc.org",
    "SNOMED CT": "http://snomed.info/sct",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "HCPCS": HCPCS,
    "CVX": "http://hl7.org/fhir/sid/cvx",
    "RxNorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
}
# system url -> label; HCPCS is also sent under its http:// address.
SYSTEM_LABELS: dict[str, str] = {url: label for label, url in STANDARD_SYSTEMS.items()} | {
    "http://" + HCPCS.removeprefix("https://"): "HCPCS"}
NO_SYSTEM = "(no system)"
EXAMPLES = 20
ISSUES_SHOWN = 50


class binary_order(FunctionElement):
    """A string column ordered by code point on every backend (PostgreSQL otherwise uses the
    database's locale collation, SQLite always compares bytes)."""

    type = String()
    inherit_cache = True


@compiles(binary_order)
def _binary_order_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(binary_order, "postgresql")
def _binary_order_postgresql(element, compiler, **kw):
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


@dataclass(frozen=True)
class Scope:
    """The rows a report covers: one practice, or the resources one import made current there."""

    practice_id: str
    import_id: str | None = None

    def owns(self, practice_col, type_col, id_col):
        """Rows of the practice whose source resource (`type_col`/`id_col`) is in scope; for an
        import, (type, id) IN the import's current resources: a semi-join both backends plan
        from the raw_resource.import_id index."""
        cond = practice_col == self.practice_id
        if self.import_id is None:
            return cond
        raw = RAW.alias()
        stored = select(raw.c.resource_type, raw.c.resource_id).where(
            raw.c.practice_id == self.practice_id, raw.c.import_id == self.import_id,
            raw.c.is_current)
        if isinstance(type_col, str):
            return and_(cond, id_col.in_(stored.with_only_columns(raw.c.resource_id)
                                         .where(raw.c.resource_type == type_col)))
        return and_(cond, tuple_(type_col, id_col).in_(stored))

    def owns_fact(self):
        return self.owns(FACT.c.practice_id, FACT.c.resource_type, FACT.c.resource_id)

    def owns_patient(self):
        return self.owns(PATIENT.c.practice_id, "Patient", PATIENT.c.resource_id)


def practice_quality(session, practice_id: str, now: datetime) -> dict:
    """The data-quality report of everything a practice has sent."""
    now = _naive_utc(now)
    return {"practice_id": practice_id, "generated_at": now.isoformat(),
            **_sections(session, Scope(practice_id), now)}


def import_quality(session, import_id: str, now: datetime, *, practice_id: str | None = None) -> dict:
    """The data-quality report of one import: its job, its issues, and the resources it stored.

    With `practice_id`, an import of another practice is reported as unknown (LookupError)."""
    job = session.get(ImportJob, import_id)
    if job is None or (practice_id is not None and job.practice_id != practice_id):
        raise LookupError(f"unknown import {import_id!r}")
    now = _naive_utc(now)
    return {"import_id": job.id, "practice_id": job.practice_id, "generated_at": now.isoformat(),
            "status": job.status, "source": job.source,
            "created_at": _iso(job.created_at), "finished_at": _iso(job.finished_at),
            "error": job.error, "counts": job.counts or {}, "issues": _issues(session, job.id),
            **_sections(session, Scope(job.practice_id, job.id), now)}


def _sections(session, scope: Scope, now: datetime) -> dict:
    return {
        "resources_by_type": _resources_by_type(session, scope),
        "coding": _coding(session, scope),
        "observations_without_value": _observations_without_value(session, scope),
        "observations_without_effective_time": _observations_without_effective_time(session, scope),
        "patients_without_encounters": _patients_without_encounters(session, scope),
        "future_dates": _future_dates(session, scope, now),
        "time_offsets": _time_offsets(session, scope),
        "missing_references": _missing_references(session, scope),
    }


def _resources_by_type(session, scope: Scope) -> dict[str, int]:
    query = select(RAW.c.resource_type, func.count()).where(
        RAW.c.practice_id == scope.practice_id, RAW.c.is_current, RAW.c.deleted.is_(False))
    if scope.import_id is not None:
        query = query.where(RAW.c.import_id == scope.import_id)
    return _sorted(session.execute(query.group_by(RAW.c.resource_type)).all())


def _coding(session, scope: Scope) -> dict[str, dict]:
    """Per resource type: primary codings, how many in a standard system, and per system."""
    query = (select(FACT.c.resource_type, CODE.c.system, func.count())
             .select_from(FACT.join(CODE, CODE.c.fact_id == FACT.c.id))
             .where(scope.owns_fact(), CODE.c.element == "code")
             .group_by(FACT.c.resource_type, CODE.c.system))
    out: dict[str, dict] = {}
    for rtype, system, n in session.execute(query):
        entry = out.setdefault(rtype, {"codings": 0, "standard": 0, "standard_share": 0.0, "by_system": {}})
        label = SYSTEM_LABELS.get(system, system or NO_SYSTEM)
        entry["codings"] += n
        entry["standard"] += n if system in SYSTEM_LABELS else 0
        entry["by_system"][label] = entry["by_system"].get(label, 0) + n
    for entry in out.values():
        entry["standard_share"] = round(entry["standard"] / entry["codings"], 3)
        entry["by_system"] = dict(sorted(entry["by_system"].items()))
    return dict(sorted(out.items()))


def _value_code(fact):
    """The fact has a coded value (Observation.valueCodeableConcept)."""
    code = CODE.alias()
    return exists().where(code.c.fact_id == fact.c.id, code.c.element == "value")


def _observations_without_value(session, scope: Scope) -> dict:
    """Observations with no value of their own and no component that has one. (Written as
    NOT ... AND NOT EXISTS so that PostgreSQL plans the checks as anti-joins.)"""
    comp = FACT.alias()
    component_value = exists().where(
        comp.c.practice_id == FACT.c.practice_id, comp.c.resource_type == FACT.c.resource_type,
        comp.c.resource_id == FACT.c.resource_id, comp.c.component.is_not(None),
        or_(comp.c.value_num.is_not(None), _value_code(comp)))
    where = and_(_observations(scope), FACT.c.value_num.is_(None), not_(_value_code(FACT)),
                 not_(component_value))
    return _count_and_ids(session, FACT, FACT.c.resource_id, where)


def _observations_without_effective_time(session, scope: Scope) -> dict:
    return _count_and_ids(session, FACT, FACT.c.resource_id,
                          and_(_observations(scope), FACT.c.start.is_(None)))


def _observations(scope: Scope):
    return and_(scope.owns_fact(), FACT.c.resource_type == "Observation", FACT.c.component.is_(None))


def _patients_without_encounters(session, scope: Scope) -> dict:
    """Patients with no Encounter fact anywhere in the practice."""
    encounter = exists().where(FACT.c.practice_id == PATIENT.c.practice_id,
                               FACT.c.patient_id == PATIENT.c.resource_id, FACT.c.kind == "encounter")
    return _count_and_ids(session, PATIENT, PATIENT.c.resource_id,
                          and_(scope.owns_patient(), not_(encounter)))


def _count_and_ids(session, table, id_col, where) -> dict:
    count = session.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    ids = session.execute(select(id_col).where(where).order_by(binary_order(id_col))
                          .limit(EXAMPLES)).scalars().all()
    return {"count": count, "examples": list(ids)}


def _future_dates(session, scope: Scope, now: datetime) -> dict:
    """Facts (not components) starting after `now`, and patients born after it."""
    where = and_(scope.owns_fact(), FACT.c.component.is_(None), FACT.c.start > now)
    by_type = session.execute(select(FACT.c.resource_type, func.count()).where(where)
                              .group_by(FACT.c.resource_type)).all()
    found = select(FACT.c.resource_type.label("type"), FACT.c.resource_id.label("id"),
                   FACT.c.start).where(where).subquery()
    examples = [{"resource": f"{r.type}/{r.id}", "start": r.start.isoformat()}
                for r in _spread(session, found, found.c.type, found.c.id)]
    born = and_(scope.owns_patient(), PATIENT.c.birth_date > now.date())
    births = session.execute(select(PATIENT.c.resource_id, PATIENT.c.birth_date).where(born)
                             .order_by(binary_order(PATIENT.c.resource_id)).limit(EXAMPLES)).all()
    return {
        "facts": {"count": sum(n for _, n in by_type), "by_type": _sorted(by_type), "examples": examples},
        "birth_dates": {
            "count": session.execute(select(func.count()).select_from(PATIENT).where(born)).scalar_one(),
            "examples": [{"patient": pid, "birth_date": born_on.isoformat()} for pid, born_on in births]},
    }


def _time_offsets(session, scope: Scope) -> dict:
    """Facts written in an offset other than the practice's (counted per offset), and those of
    them whose written day is not their local day. A stream over the facts with an offset: the
    practice's offset changes with daylight saving time, which SQL cannot tell on SQLite."""
    zone = session.execute(select(Practice.__table__.c.timezone).where(
        Practice.__table__.c.id == scope.practice_id)).scalar()
    tz = ZoneInfo(zone or "UTC")
    where = and_(scope.owns_fact(), FACT.c.component.is_(None), FACT.c.time_offset.is_not(None),
                 FACT.c.start.is_not(None))
    rows = session.execute(select(FACT.c.resource_type, FACT.c.resource_id, FACT.c.start, FACT.c.start_day,
                                  FACT.c.time_offset).where(where).execution_options(yield_per=5000))
    by_offset: dict[str, int] = {}
    other_day, examples = 0, []
    for rtype, rid, start, written_day, offset in rows:
        local = start.replace(tzinfo=timezone.utc).astimezone(tz)
        if int(local.utcoffset().total_seconds() // 60) == offset:
            continue
        label = _offset_label(offset)
        by_offset[label] = by_offset.get(label, 0) + 1
        if local.date() != written_day:
            other_day += 1
            if len(examples) < EXAMPLES:
                examples.append({"resource": f"{rtype}/{rid}", "written_day": written_day.isoformat(),
                                 "local_day": local.date().isoformat()})
    return {"count": sum(by_offset.values()), "by_offset": _sorted(by_offset.items()),
            "on_another_local_day": {"count": other_day, "examples": examples}}


def _offset_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _missing_references(session, scope: Scope) -> dict:
    """References whose target is not a live resource of the practice, and facts whose
    patient has no Patient row (as references to target type Patient)."""
    target = RAW.alias()
    received = exists().where(
        target.c.practice_id == REF.c.practice_id, target.c.resource_type == REF.c.target_type,
        target.c.resource_id == REF.c.target_id, target.c.is_current, target.c.deleted.is_(False))
    references = select(
        REF.c.source_type, REF.c.source_id, REF.c.path, REF.c.target_type, REF.c.target_id).where(
        scope.owns(REF.c.practice_id, REF.c.source_type, REF.c.source_id), not_(received))
    patient = exists().where(PATIENT.c.practice_id == FACT.c.practice_id,
                             PATIENT.c.resource_id == FACT.c.patient_id)
    subjects = select(FACT.c.resource_type, FACT.c.resource_id, _patient_element(),
                      literal("Patient", String), FACT.c.patient_id).where(
        scope.owns_fact(), FACT.c.component.is_(None), FACT.c.patient_id != "", not_(patient))
    missing = union_all(references, subjects).subquery("missing")
    by_type = session.execute(select(missing.c.target_type, func.count())
                              .group_by(missing.c.target_type)).all()
    rows = _spread(session, missing, missing.c.target_type,
                   missing.c.source_type, missing.c.source_id, missing.c.path, missing.c.target_id)
    examples = [{"source": f"{r.source_type}/{r.source_id}", "path": r.path,
                 "target": f"{r.target_type}/{r.target_id}"} for r in rows]
    return {"count": sum(n for _, n in by_type), "by_type": _sorted(by_type), "examples": examples}


def _patient_element():
    """The element that names a fact's patient (subject, patient or beneficiary)."""
    others = {rtype: spec.patient for rtype, spec in SPECS.items() if spec.patient not in ("subject", "")}
    return case(others, value=FACT.c.resource_type, else_=literal("subject", String))


def _spread(session, found, type_col, *order_cols) -> list:
    """Up to EXAMPLES rows of subquery `found`, taking turns across types so that every type
    shows even when one has thousands; within a type in `order_cols` order."""
    rank = func.row_number().over(partition_by=type_col,
                                  order_by=[binary_order(c) for c in order_cols]).label("rank")
    ranked = select(*found.c, rank).subquery("ranked")
    return session.execute(select(ranked).order_by(ranked.c.rank, binary_order(ranked.c[type_col.name]))
                           .limit(EXAMPLES)).all()


def _issues(session, import_id: str) -> dict:
    """The import's issues by severity and code, and the first ones with where they were."""
    grouped = session.execute(select(ISSUE.c.severity, ISSUE.c.code, func.count())
                              .where(ISSUE.c.import_id == import_id)
                              .group_by(ISSUE.c.severity, ISSUE.c.code)).all()
    by_severity: dict[str, int] = {}
    by_code: dict[str, dict[str, int]] = {}
    for severity, code, n in sorted(grouped):
        by_severity[severity] = by_severity.get(severity, 0) + n
        by_code.setdefault(severity, {})[code] = n
    first = session.execute(select(ISSUE).where(ISSUE.c.import_id == import_id)
                            .order_by(ISSUE.c.id).limit(ISSUES_SHOWN)).mappings().all()
    shown = ("severity", "code", "file", "line", "entry", "resource_type", "resource_id", "path", "message")
    return {"count": sum(by_severity.values()), "by_severity": by_severity, "by_code": by_code,
            "first": [{key: row[key] for key in shown} for row in first]}


def _sorted(pairs) -> dict[str, Any]:
    return {key: n for key, n in sorted(pairs)}


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
