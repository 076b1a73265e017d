"""The matched persons as the last rebuild stored them: counts, the persons with several
records (for an admin to review), and splitting a wrong match.

A split is kept in `match_split` and takes effect on the next rebuild (caregaps.aco.rollup);
`split_records` rebuilds at once so that what the admin sees next is already two people.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, case, func, insert, select

from caregaps.aco.matching import MBI_SYSTEM, normalize_mbi
from caregaps.aco.models import MatchSplit, PersonLink
from caregaps.models import Patient, utcnow

LINK, SPLIT, PATIENT = PersonLink.__table__, MatchSplit.__table__, Patient.__table__


@dataclass
class PersonCounts:
    persons: int
    records: int
    shared_persons: int  # persons with more than one record
    by_rule: dict[str, int]  # records per rule: mbi, demographics, single


class SplitError(ValueError):
    """The records to split are unknown, the same record, or not matched to each other."""


def person_counts(engine: Engine) -> PersonCounts:
    """How many persons and records the last rebuild matched, and by which rule."""
    sizes = select(LINK.c.person_id, func.count().label("n")).group_by(LINK.c.person_id).subquery()
    with engine.connect() as conn:
        persons, records, shared = conn.execute(select(
            func.count(), func.coalesce(func.sum(sizes.c.n), 0),
            func.coalesce(func.sum(case((sizes.c.n > 1, 1), else_=0)), 0))).one()
        by_rule = dict(conn.execute(select(LINK.c.rule, func.count()).group_by(LINK.c.rule)).all())
    return PersonCounts(persons, int(records), int(shared), by_rule)


def shared_persons(engine: Engine, limit: int = 100, offset: int = 0) -> list[dict]:
    """Persons with more than one record, each record with its practice, name, birth date, MBI and rule."""
    shared = (select(LINK.c.person_id).group_by(LINK.c.person_id).having(func.count() > 1)
              .order_by(LINK.c.person_id).limit(limit).offset(offset).subquery())
    query = (select(LINK.c.person_id, LINK.c.practice_id, LINK.c.patient_id, LINK.c.rule, LINK.c.representative,
                    LINK.c.matched_at, PATIENT.c.family, PATIENT.c.given, PATIENT.c.birth_date, PATIENT.c.gender,
                    PATIENT.c.identifiers)
             .join(shared, shared.c.person_id == LINK.c.person_id)
             .join(PATIENT, (PATIENT.c.practice_id == LINK.c.practice_id) & (PATIENT.c.resource_id == LINK.c.patient_id))
             .order_by(LINK.c.person_id, LINK.c.practice_id, LINK.c.patient_id))
    persons: dict[str, dict] = {}
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            person = persons.setdefault(r["person_id"], {"person_id": r["person_id"], "records": []})
            person["records"].append({
                "practice_id": r["practice_id"], "patient_id": r["patient_id"], "rule": r["rule"],
                "representative": r["representative"], "matched_at": r["matched_at"].isoformat(),
                "family": r["family"], "given": r["given"], "gender": r["gender"],
                "birth_date": r["birth_date"].isoformat() if r["birth_date"] else None,
                "mbi": _mbi(r["identifiers"])})
    return list(persons.values())


def _mbi(identifiers) -> str | None:
    found = [normalize_mbi(i["value"]) for i in identifiers or [] if i.get("system") == MBI_SYSTEM]
    return ", ".join(sorted(set(found))) or None


def parse_record(text: str) -> tuple[str, str]:
    """'p1/123' -> ('p1', '123'); SplitError if it is not practice/patient."""
    practice_id, sep, patient_id = text.strip().partition("/")
    if not (sep and practice_id and patient_id):
        raise SplitError(f"a record is <practice>/<patient id>, got {text!r}")
    return practice_id, patient_id


def split_records(engine: Engine, a: tuple[str, str], b: tuple[str, str], actor: str) -> dict:
    """Record that `a` and `b` are different people and rebuild the ACO; the rebuild's summary."""
    from caregaps.aco.rollup import rebuild_aco

    if a == b:
        raise SplitError("a record cannot be split from itself")
    with engine.begin() as conn:
        persons = {(r.practice_id, r.patient_id): r.person_id for r in conn.execute(
            select(LINK.c.practice_id, LINK.c.patient_id, LINK.c.person_id).where(_is(a) | _is(b)))}
        pa, pb = persons.get(a), persons.get(b)
        if pa is None or pb is None:
            missing = "/".join(a if pa is None else b)
            raise SplitError(f"no matched record {missing}; rebuild the ACO first (caregaps aco rebuild)")
        if pa != pb:
            raise SplitError(f"{'/'.join(a)} and {'/'.join(b)} are already different people")
        conn.execute(insert(SPLIT).values(practice_a=a[0], patient_a=a[1], practice_b=b[0], patient_b=b[1],
                                          created_by=actor, created_at=utcnow()))
    return rebuild_aco(engine).__dict__


def _is(key: tuple[str, str]):
    return (LINK.c.practice_id == key[0]) & (LINK.c.patient_id == key[1])
