"""Rebuild the ACO pseudo-practice: every member practice's data, each person once.

The ACO is a practice row (id `ACO_ID`, kind 'aco') whose patients are the matched persons
(caregaps.aco.matching) and whose facts are the union of the member practices' facts with the
patient mapped to its person, so the unchanged measure engine evaluates each person once with
all their data. A rebuild, in one transaction:

1. reads every member practice's patient records and the admins' splits, matches them and
   replaces `person_link` (a link that did not change keeps its `matched_at`);
2. deletes the ACO's patients, facts, fact codes and references;
3. writes one patient row per person (the representative record's demographics, every record's
   identifiers, deceased if any record says so) and copies the facts, their codes and the
   references set-based in SQL. Copied resource ids are prefixed with their practice
   ("p2.colo-1"; "h." and an MD5 when that would pass 64 characters), so ids of two practices
   never clash; fact ids are fresh (a temporary old -> new map, so codes follow their facts).

The ACO's timezone is the one most member practices have (ties: the first by name), so its
measurement period is read the way most of its practices read theirs. Facts keep the days their
times were written on, and times written without an offset (dates) are read again in the ACO's
timezone, so a date stays the same date in the ACO as in its practice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import (BigInteger, Column, Connection, Engine, MetaData, Table, and_, case, delete, func, insert,
                        bindparam, literal, or_, select, update)

from caregaps.aco import ACO_ID
from caregaps.aco.matching import DEMOGRAPHICS, MBI, Match, Record, Split, match
from caregaps.aco.models import MatchSplit, PersonLink
from caregaps.models import TIMED, Fact, FactCode, FactTime, Patient, Practice, ResourceReference, utcnow
from caregaps.statistics import refresh_statistics

FACT, CODE, REF, PATIENT, PRACTICE = (Fact.__table__, FactCode.__table__, ResourceReference.__table__,
                                      Patient.__table__, Practice.__table__)
TIME = FactTime.__table__
LINK, SPLIT = PersonLink.__table__, MatchSplit.__table__
FACT_MAP = Table("aco_fact_map", MetaData(), Column("old_id", BigInteger, primary_key=True),
                 Column("new_id", BigInteger, nullable=False), prefixes=["TEMPORARY"])
MEMBERS = select(PRACTICE.c.id).where(PRACTICE.c.kind != "aco")  # every practice that is not the ACO
DEFAULT_TIMEZONE = "America/New_York"
ACO_NAME = "ACO (all practices, each person once)"


@dataclass
class Rebuilt:
    """What a rebuild found and wrote."""

    persons: int
    records: int
    shared_persons: int  # persons with records at more than one practice (or more than one record)
    matched_by_mbi: int  # records linked to another by a shared MBI
    matched_by_demographics: int  # records linked by demographics alone
    facts: int


def rebuild_aco(engine: Engine) -> Rebuilt:
    """Recompute the matches and rewrite the ACO pseudo-practice from its members' data."""
    with engine.begin() as conn:
        ensure_aco(conn)
        rows = conn.execute(select(PATIENT).where(PATIENT.c.practice_id.in_(MEMBERS))).mappings().all()
        matches = match([_record(r) for r in rows], read_splits(conn))
        _store_links(conn, matches)
        _clear(conn)
        _insert_persons(conn, rows, matches)
        facts = _copy_facts(conn)
        _copy_references(conn)
    refresh_statistics(engine)  # after the commit: the ACO's rows are new to the planner
    rules = Counter(m.rule for m in matches.values())
    persons = Counter(m.person_id for m in matches.values())
    return Rebuilt(len(persons), len(matches), sum(n > 1 for n in persons.values()), rules[MBI],
                   rules[DEMOGRAPHICS], facts)


def ensure_aco(conn: Connection) -> None:
    """Create the ACO practice row, or set its timezone to the members' most common one."""
    zones = Counter(conn.execute(select(PRACTICE.c.timezone).where(PRACTICE.c.kind != "aco")).scalars())
    tz = min(zones, key=lambda z: (-zones[z], z)) if zones else DEFAULT_TIMEZONE
    kind = conn.execute(select(PRACTICE.c.kind).where(PRACTICE.c.id == ACO_ID)).scalar()
    if kind is None:
        conn.execute(insert(PRACTICE).values(id=ACO_ID, name=ACO_NAME, timezone=tz, kind="aco", created_at=utcnow()))
    elif kind != "aco":
        raise ValueError(f"practice {ACO_ID!r} is a member practice; the id is reserved for the ACO roll-up")
    else:
        conn.execute(update(PRACTICE).where(PRACTICE.c.id == ACO_ID).values(timezone=tz))


def read_splits(conn: Connection) -> list[Split]:
    return [Split((r.practice_a, r.patient_a), (r.practice_b, r.patient_b)) for r in conn.execute(select(SPLIT))]


def _record(row) -> Record:
    ids = tuple((i.get("system"), i["value"]) for i in row["identifiers"] or [] if i.get("value"))
    return Record(row["practice_id"], row["resource_id"], ids, row["family"], row["given"], row["birth_date"],
                  row["gender"])


def _store_links(conn: Connection, matches: dict[tuple[str, str], Match]) -> None:
    before = {(r.practice_id, r.patient_id): r for r in conn.execute(select(LINK))}
    now = utcnow()
    rows = []
    for (practice_id, patient_id), m in sorted(matches.items()):
        old = before.get((practice_id, patient_id))
        same = old is not None and (old.person_id, old.rule, old.representative) == (m.person_id, m.rule,
                                                                                        m.representative)
        rows.append({"practice_id": practice_id, "patient_id": patient_id, "person_id": m.person_id,
                     "rule": m.rule, "representative": m.representative,
                     "matched_at": old.matched_at if same else now})
    conn.execute(delete(LINK))
    if rows:
        conn.execute(insert(LINK), rows)


def _clear(conn: Connection) -> None:
    facts = select(FACT.c.id).where(FACT.c.practice_id == ACO_ID)
    conn.execute(delete(CODE).where(CODE.c.fact_id.in_(facts)))
    conn.execute(delete(TIME).where(TIME.c.fact_id.in_(facts)))
    for table in (FACT, REF, PATIENT):
        conn.execute(delete(table).where(table.c.practice_id == ACO_ID))


def _insert_persons(conn: Connection, rows, matches: dict[tuple[str, str], Match]) -> None:
    """One patient row per person: the representative's demographics, everyone's identifiers."""
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(matches[(row["practice_id"], row["resource_id"])].person_id, []).append(row)
    persons = []
    for person_id, group in sorted(groups.items()):
        rep = next(r for r in group if matches[(r["practice_id"], r["resource_id"])].representative)
        identifiers = []
        for r in group:
            identifiers += [i for i in r["identifiers"] or [] if i not in identifiers]
        died = [r for r in group if r["deceased_at"] is not None]  # the earliest death of the person's records
        persons.append({**{c: rep[c] for c in ("family", "given", "birth_date", "gender", "sex", "race",
                                              "ethnicity")},
                        "practice_id": ACO_ID, "resource_id": person_id, "identifiers": identifiers,
                        "deceased": any(r["deceased"] for r in group),
                        "deceased_at": min((r["deceased_at"] for r in died), default=None),
                        "deceased_latest": min((r["deceased_latest"] or r["deceased_at"] for r in died), default=None),
                        "general_practitioner": None})
    if persons:
        conn.execute(insert(PATIENT), persons)


def aco_resource_id(conn: Connection, practice_id, resource_id):
    """SQL: the id a member's resource has in the ACO ("<practice>.<id>", hashed past 64 characters)."""
    joined = practice_id + literal(".") + resource_id
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_function("md5", 1, _md5, deterministic=True)
    return case((func.length(joined) <= 64, joined), else_=literal("h.") + func.md5(joined))


def _md5(text: str | None) -> str | None:
    return None if text is None else hashlib.md5(text.encode()).hexdigest()


def _copy_facts(conn: Connection) -> int:
    """Copy every member fact of a matched patient (and the patient-less Medication facts)."""
    FACT_MAP.create(conn, checkfirst=True)
    conn.execute(delete(FACT_MAP))
    source = FACT.outerjoin(LINK, and_(LINK.c.practice_id == FACT.c.practice_id,
                                       LINK.c.patient_id == FACT.c.patient_id))
    chosen = and_(FACT.c.practice_id.in_(MEMBERS), or_(LINK.c.person_id.is_not(None), FACT.c.patient_id == ""))
    conn.execute(insert(FACT_MAP).from_select(["old_id", "new_id"], select(
        FACT.c.id, _new_ids(conn, FACT.c.id)).select_from(source).where(chosen)))
    columns = ["id", "practice_id", "patient_id", "kind", "resource_type", "resource_id", "component", *TIMED,
               "value_num", "value_unit", "status"]
    copied = select(FACT_MAP.c.new_id, literal(ACO_ID), func.coalesce(LINK.c.person_id, ""), FACT.c.kind,
                    FACT.c.resource_type, aco_resource_id(conn, FACT.c.practice_id, FACT.c.resource_id),
                    FACT.c.component, *[FACT.c[c] for c in TIMED], FACT.c.value_num, FACT.c.value_unit,
                    FACT.c.status)
    conn.execute(insert(FACT).from_select(columns, copied.select_from(
        source.join(FACT_MAP, FACT_MAP.c.old_id == FACT.c.id))))
    _reread_floating_times(conn)
    conn.execute(insert(CODE).from_select(["fact_id", "element", "system", "code"], select(
        FACT_MAP.c.new_id, CODE.c.element, CODE.c.system, CODE.c.code).select_from(
        CODE.join(FACT_MAP, FACT_MAP.c.old_id == CODE.c.fact_id))))
    # other datings are instants (a cancelled Observation's issued): copied as they are
    conn.execute(insert(TIME).from_select(["fact_id", "dating", *TIMED], select(
        FACT_MAP.c.new_id, TIME.c.dating, *[TIME.c[c] for c in TIMED]).select_from(
        TIME.join(FACT_MAP, FACT_MAP.c.old_id == TIME.c.fact_id))))
    return conn.execute(select(func.count()).select_from(FACT_MAP)).scalar_one()


def _reread_floating_times(conn: Connection) -> None:
    """Times written without an offset (dates, partial dates) were read in their member's
    timezone; the ACO reads them in its own, as it would had the member's export come to it.
    "2026-07-01" stays July 1 from local midnight in whichever timezone evaluates it."""
    zones = dict(conn.execute(select(PRACTICE.c.id, PRACTICE.c.timezone)).all())
    aco_tz = ZoneInfo(zones[ACO_ID])
    member = FACT.alias("member")
    for practice_id, zone in zones.items():
        if practice_id == ACO_ID or zone == zones[ACO_ID]:
            continue
        times = (member.c.start, member.c.end, member.c.start_latest, member.c.end_earliest)
        rows = conn.execute(select(FACT_MAP.c.new_id, *times).select_from(
            FACT_MAP.join(member, member.c.id == FACT_MAP.c.old_id)).where(
            member.c.practice_id == practice_id, member.c.time_offset.is_(None),
            or_(member.c.start.is_not(None), member.c.end.is_not(None)))).all()
        tz = ZoneInfo(zone)
        names = ("start", "end", "start_latest", "end_earliest")
        moved = [{"fid": fid, **{f"t_{n}": _reread(t, tz, aco_tz) for n, t in zip(names, found)}}
                 for fid, *found in rows]
        for chunk in range(0, len(moved), 5000):
            conn.execute(update(FACT).where(FACT.c.id == bindparam("fid")).values(
                {n: bindparam(f"t_{n}") for n in names}), moved[chunk:chunk + 5000])


def _reread(moment: datetime | None, member_tz: tzinfo, aco_tz: tzinfo) -> datetime | None:
    """A naive UTC instant read as wall-clock time in `member_tz`, that wall clock in `aco_tz`."""
    if moment is None:
        return None
    wall = moment.replace(tzinfo=timezone.utc).astimezone(member_tz).replace(tzinfo=None)
    return wall.replace(tzinfo=aco_tz).astimezone(timezone.utc).replace(tzinfo=None)


def _new_ids(conn: Connection, old_id):
    """Fresh fact ids: PostgreSQL's sequence, or on SQLite past the largest id (this transaction
    has written already, so it holds the write lock and no one else takes them)."""
    if conn.dialect.name == "postgresql":
        return func.nextval(func.pg_get_serial_sequence("fact", "id"))
    top = conn.execute(select(func.coalesce(func.max(FACT.c.id), 0))).scalar_one()
    return literal(top) + func.row_number().over(order_by=old_id)


def _copy_references(conn: Connection) -> None:
    """The members' references between resources (what `encounter` and `medicationReference` follow)."""
    columns = ["practice_id", "source_type", "source_id", "path", "target_type", "target_id"]
    conn.execute(insert(REF).from_select(columns, select(
        literal(ACO_ID), REF.c.source_type, aco_resource_id(conn, REF.c.practice_id, REF.c.source_id), REF.c.path,
        REF.c.target_type, aco_resource_id(conn, REF.c.practice_id, REF.c.target_id)).where(
        REF.c.practice_id.in_(MEMBERS), REF.c.source_type != "Patient")))
