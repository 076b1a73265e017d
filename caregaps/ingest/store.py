"""Write checked resources to the store in batches: raw versions, facts, codes, references.

A batch is one transaction. For each resource the writer compares the content hash with the
current version: the same hash is `unchanged`; a new hash adds a version, makes it current and
replaces the resource's facts. Deletes and `entered-in-error` keep the raw history and remove
the facts. Everything runs as set-based statements, a handful per batch, not per resource.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import tzinfo

import orjson
from sqlalchemy import Connection, insert

from caregaps.ingest.bulk import allocate_ids, insert_rows, param_mark, stored_day, stored_time
from caregaps.ingest.facts import SPECS, extract
from caregaps.ingest.patients import patient_row
from caregaps.ingest.problems import Location
from caregaps.models import TIMED, Fact, FactCode, FactTime, Patient, RawResource, ResourceReference, utcnow

RAW, FACT, CODE, REF, PATIENT = (RawResource.__table__, Fact.__table__, FactCode.__table__,
                                 ResourceReference.__table__, Patient.__table__)
TIME = FactTime.__table__
LOOKUP_CHUNK = 500
RAW_COLUMNS = ("practice_id", "resource_type", "resource_id", "version", "content_hash", "received_at",
               "import_id", "is_current", "deleted", "body")
FACT_COLUMNS = ("id", "practice_id", "patient_id", "kind", "resource_type", "resource_id", "component", *TIMED,
                "value_num", "value_unit", "status")
TIME_COLUMNS = ("fact_id", "dating", *TIMED)


@dataclass(slots=True)
class Prepared:
    """A resource that passed its checks, with everything needed to store it."""

    location: Location
    rtype: str
    rid: str
    body: bytes | None  # None for a delete
    content_hash: str = ""
    facts: list[tuple] = field(default_factory=list)  # FACT_COLUMNS[2:] + (codes, datings), times as text
    patient: dict | None = None
    references: list[tuple[str, str, str]] = field(default_factory=list)  # (path, type, id)
    warnings: list = field(default_factory=list)

    def __reduce__(self):  # plain tuples pickle fast; worker processes send these back
        return Prepared, (self.location, self.rtype, self.rid, self.body, self.content_hash, self.facts,
                          self.patient, self.references, self.warnings)

    @property
    def key(self) -> tuple[str, str]:
        return self.rtype, self.rid


def prepare(resource: dict, rtype: str, rid: str, text: bytes | None, location: Location,
            tz: tzinfo) -> Prepared:
    """Extract what the store keeps from a resource; raises Problem if an element it reads is bad."""
    body = text if text is not None else orjson.dumps(resource)
    digest = hashlib.sha256(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()
    item = Prepared(location, rtype, rid, body, digest)
    if rtype in SPECS:
        extracted = extract(resource, rtype, tz)
        item.warnings = extracted.warnings
        if not extracted.entered_in_error:  # withdrawn: keep the raw version, no facts
            item.references = extracted.references
            item.facts = [(f.patient_id, f.kind, rtype, rid, f.component, stored_time(f.start), stored_time(f.end),
                           stored_time(f.start_latest), stored_time(f.end_earliest), stored_day(f.start_day), stored_day(f.end_day),
                           stored_day(f.start_day_latest), stored_day(f.end_day_earliest), f.offset,
                           f.value_num, f.value_unit, f.status, f.codes, [_dating(*d) for d in f.datings])
                          for f in extracted.facts]
    elif rtype == "Patient":
        item.patient = patient_row(resource, tz)
        if gp := item.patient["general_practitioner"]:
            item.references = [("generalPractitioner", *gp.split("/", 1))]
    return item


def _dating(element: str, span) -> tuple:
    """TIME_COLUMNS[1:] of another element that dates a fact, times as text."""
    return (element, stored_time(span.start), stored_time(span.end), stored_time(span.start_latest),
            stored_time(span.end_earliest), stored_day(span.first_day), stored_day(span.last_day),
            stored_day(span.first_day_latest), stored_day(span.last_day_earliest), span.offset)


def prepare_delete(rtype: str, rid: str, location: Location) -> Prepared:
    return Prepared(location, rtype, rid, None)


class BatchWriter:
    """Stores batches for one practice and import; `write` returns an outcome per item:
    created, updated, unchanged or deleted."""

    def __init__(self, conn: Connection, practice_id: str, import_id: str | None) -> None:
        self.conn, self.practice_id, self.import_id = conn, practice_id, import_id

    def write(self, items: list[Prepared]) -> list[str]:
        current = self._current_versions(items)
        outcomes, new_rows, replaced_ids, replaced_keys, live = [], [], [], [], []
        now = stored_time(utcnow())
        for item in items:
            row = current.get(item.key)
            outcome = _outcome(item, row)
            outcomes.append(outcome)
            if outcome == "unchanged":
                continue
            if row is not None:
                replaced_ids.append(row.id)
                replaced_keys.append(item.key)
            new_rows.append((self.practice_id, item.rtype, item.rid, (row.version + 1) if row is not None else 1,
                             item.content_hash or "deleted", now, self.import_id, True, item.body is None,
                             item.body.decode() if item.body is not None else None))
            if item.body is not None:
                live.append(item)
        if replaced_ids:
            self._retire(replaced_ids)
            self._remove_derived(replaced_keys)
        insert_rows(self.conn, RAW, RAW_COLUMNS, new_rows, text_times=True)
        self._insert_facts([i for i in live if i.facts])
        self._insert_patients([i for i in live if i.patient is not None])
        self._insert_references([i for i in live if i.references])
        return outcomes

    def _current_versions(self, items: list[Prepared]) -> dict:
        """(type, id) -> the current version's row, for the items that have one.

        This and the other statements with IN lists below are driver SQL: SQLAlchemy kept every
        IN list it coerced for a while, and the import grew with the number of resources."""
        found = {}
        for rtype, chunk in _chunks_by_type((item.rtype, item.rid) for item in items):
            rows = self.conn.exec_driver_sql(current_versions_sql(self.conn.dialect.name, len(chunk)),
                                             (self.practice_id, rtype, *chunk))
            for row in rows:
                found[(rtype, row.resource_id)] = row
        return found

    def _retire(self, raw_ids: list[int]) -> None:
        """Mark replaced versions as no longer current."""
        mark = _mark(self.conn)
        for chunk in _chunks(raw_ids):
            self.conn.exec_driver_sql(f"UPDATE raw_resource SET is_current = {mark} "
                                      f"WHERE id IN ({_marks(self.conn, len(chunk))})", (False, *chunk))

    def _remove_derived(self, keys: list[tuple[str, str]]) -> None:
        """Delete the facts, codes, references and patient rows of replaced resources."""
        m = _mark(self.conn)
        for rtype, chunk in _chunks_by_type(keys):
            ids = _marks(self.conn, len(chunk))
            args = (self.practice_id, rtype, *chunk)
            facts = f"practice_id = {m} AND resource_type = {m} AND resource_id IN ({ids})"
            for table in ("fact_code", "fact_time"):
                self.conn.exec_driver_sql(f"DELETE FROM {table} WHERE fact_id IN (SELECT id FROM fact WHERE {facts})",
                                          args)
            self.conn.exec_driver_sql(f"DELETE FROM fact WHERE {facts}", args)
            self.conn.exec_driver_sql("DELETE FROM resource_reference WHERE practice_id = "
                                      f"{m} AND source_type = {m} AND source_id IN ({ids})", args)
            if rtype == "Patient":
                self._delete_patients(chunk)

    def _delete_patients(self, ids: list[str]) -> None:
        self.conn.exec_driver_sql(f"DELETE FROM patient WHERE practice_id = {_mark(self.conn)} "
                                  f"AND resource_id IN ({_marks(self.conn, len(ids))})", (self.practice_id, *ids))

    def _insert_facts(self, items: list[Prepared]) -> None:
        count = sum(len(item.facts) for item in items)
        ids = iter(allocate_ids(self.conn, FACT, count)) if count else iter(())
        facts, codes, times = [], [], []
        p = self.practice_id
        for item in items:
            for fact in item.facts:
                fid = next(ids)
                facts.append((fid, p) + fact[:-2])
                codes.extend((fid, element, system, code) for element, system, code in fact[-2])
                times.extend((fid, *dating) for dating in fact[-1])
        insert_rows(self.conn, FACT, FACT_COLUMNS, facts, text_times=True)
        insert_rows(self.conn, CODE, ("fact_id", "element", "system", "code"), codes)
        insert_rows(self.conn, TIME, TIME_COLUMNS, times, text_times=True)

    def _insert_references(self, items: list[Prepared]) -> None:
        refs = [(self.practice_id, item.rtype, item.rid, path, ttype, tid)
                for item in items for path, ttype, tid in item.references]
        insert_rows(self.conn, REF, ("practice_id", "source_type", "source_id", "path", "target_type",
                                     "target_id"), refs)

    def _insert_patients(self, items: list[Prepared]) -> None:
        if not items:
            return
        for chunk in _chunks([i.rid for i in items]):
            self._delete_patients(chunk)
        self.conn.execute(insert(PATIENT), [{"practice_id": self.practice_id, **i.patient} for i in items])


def _chunks_by_type(keys) -> list[tuple[str, list[str]]]:
    """(type, up to LOOKUP_CHUNK ids) pairs for (type, id) keys, in order."""
    by_type: dict[str, list[str]] = {}
    for rtype, rid in keys:
        by_type.setdefault(rtype, []).append(rid)
    return [(rtype, chunk) for rtype, ids in by_type.items() for chunk in _chunks(ids)]


def _chunks(values: list) -> list[list]:
    """`values` in runs of at most LOOKUP_CHUNK, the most an IN list holds here."""
    return [values[start:start + LOOKUP_CHUNK] for start in range(0, len(values), LOOKUP_CHUNK)]


def _mark(conn: Connection) -> str:
    return param_mark(conn.dialect.name)


def _marks(conn: Connection, count: int) -> str:
    return ", ".join([_mark(conn)] * count)


def current_versions_sql(dialect: str, count: int) -> str:
    """Driver SQL for the current versions of `count` resources of one type of one practice. Its
    `is_current` test is written as each engine's partial unique index states it (ux_raw_current),
    so the lookup reads that index instead of scanning the table."""
    mark = param_mark(dialect)
    current = "is_current = 1" if dialect == "sqlite" else "is_current"
    return ("SELECT resource_id, id, version, content_hash, deleted FROM raw_resource "
            f"WHERE practice_id = {mark} AND resource_type = {mark} AND {current} "
            f"AND resource_id IN ({', '.join([mark] * count)})")


def _outcome(item: Prepared, current) -> str:
    if item.body is None:
        return "unchanged" if current is None or current.deleted else "deleted"
    if current is None:
        return "created"
    if current.content_hash == item.content_hash and not current.deleted:
        return "unchanged"
    return "updated"
