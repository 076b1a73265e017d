"""Which patient records of the ACO's practices are the same person (pure logic, no I/O).

The rule, applied in this order:

(a) MBI. Records that share a Medicare Beneficiary Identifier (identifier system
    http://hl7.org/fhir/sid/us-mbi, compared in upper case with spaces and dashes removed) are
    one person, whatever their names say. A record may carry several MBIs (an MBI can be
    replaced); it joins every person it shares one with.
(b) Demographics. Records with the same family name and the same first given name (case,
    accents, spaces and punctuation ignored: "O'Brien" = "obrien", "José" = "JOSE"), the same
    birth date and the same gender are one person, but only when they do not carry different
    MBIs: two people with MBIs and none in common are never joined, directly or through a third
    record without an MBI. A record missing any of the four fields is never matched this way.
    When the records of one demographic group with an MBI belong to two or more different people,
    the group is ambiguous: its records without an MBI are joined to each other, never to either
    of those people.
(c) Everything else is its own person.

Splits. An admin may say two records are not the same person (a `Split`). A split is a
cannot-link constraint: any join (MBI or demographic) that would put its two records into one
person is not made. Joins are made in a fixed order (MBI joins by MBI, then demographic joins by
group, records by (practice, patient)), so the outcome is the same on every rebuild.

Person ids are stable: "person-" and 12 hex digits of the SHA-256 of the smallest
(practice, patient) of the person's records, so they fit a FHIR id and the 64-character columns.
Each record is reported with the rule that linked it: `mbi` (it shares an MBI with another record
of its person), `demographics` (it joined by demographics alone) or `single` (a person of one
record). A person's `representative` record (its demographics are the person's) is its first
record that has an MBI, else its first record.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date

MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"
MBI, DEMOGRAPHICS, SINGLE = "mbi", "demographics", "single"

Key = tuple[str, str]  # (practice_id, patient_id)


@dataclass(frozen=True)
class Record:
    """One practice's patient record: identity and the demographics matching reads."""

    practice_id: str
    patient_id: str
    identifiers: tuple[tuple[str | None, str], ...] = ()  # (system, value)
    family: str | None = None
    given: str | None = None
    birth_date: date | None = None
    gender: str | None = None

    @property
    def key(self) -> Key:
        return self.practice_id, self.patient_id


@dataclass(frozen=True)
class Split:
    """An admin's word that two records are different people."""

    a: Key
    b: Key


@dataclass(frozen=True)
class Match:
    person_id: str
    rule: str  # mbi, demographics, single
    representative: bool


def mbis(record: Record) -> frozenset[str]:
    """The record's Medicare Beneficiary Identifiers, normalized."""
    return frozenset(normalize_mbi(value) for system, value in record.identifiers
                     if system == MBI_SYSTEM and normalize_mbi(value))


def normalize_mbi(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch not in " -\t")


def normalize_name(value: str | None) -> str:
    """Case-folded letters and digits only, accents removed."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and not unicodedata.combining(ch))


def demographic_key(record: Record) -> tuple | None:
    """(family, first given name, birth date, gender), normalized; None if any is missing."""
    family = normalize_name(record.family)
    first = normalize_name((record.given or "").split()[0]) if (record.given or "").split() else ""
    if not (family and first and record.birth_date and record.gender):
        return None
    return family, first, record.birth_date, record.gender.lower()


@dataclass
class _People:
    """Union-find over record keys that refuses joins a split forbids or that mix MBIs."""

    parent: dict[Key, Key]
    mbis: dict[Key, frozenset[str]]  # per root: the MBIs of the person
    splits: dict[Key, set[Key]] = field(default_factory=dict)  # record -> records it must not join

    def find(self, key: Key) -> Key:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def members(self) -> dict[Key, list[Key]]:
        groups: dict[Key, list[Key]] = {}
        for key in sorted(self.parent):
            groups.setdefault(self.find(key), []).append(key)
        return groups

    def join(self, a: Key, b: Key, by_mbi: bool, groups: dict[Key, set[Key]]) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not by_mbi and self.mbis[ra] and self.mbis[rb]:
            return False  # two people with MBIs and none in common
        if any(other in groups[rb] for key in groups[ra] for other in self.splits.get(key, ())):
            return False
        root, child = min(ra, rb), max(ra, rb)
        self.parent[child] = root
        self.mbis[root] = self.mbis[ra] | self.mbis[rb]
        groups[root] = groups.pop(ra) | groups.pop(rb)
        return True


def match(records: list[Record], splits: list[Split] = ()) -> dict[Key, Match]:
    """Each record's person, rule and whether it is the person's representative."""
    by_key = {r.key: r for r in records}
    people = _People({k: k for k in by_key}, {k: mbis(r) for k, r in by_key.items()})
    for s in splits:
        if s.a in by_key and s.b in by_key:
            people.splits.setdefault(s.a, set()).add(s.b)
            people.splits.setdefault(s.b, set()).add(s.a)
    groups = {k: {k} for k in by_key}
    _join_by_mbi(people, by_key, groups)
    _join_by_demographics(people, by_key, groups)
    return _matches(people, by_key)


def _join_by_mbi(people: _People, by_key: dict[Key, Record], groups: dict[Key, set[Key]]) -> None:
    holders: dict[str, list[Key]] = {}
    for key in sorted(by_key):
        for mbi in people.mbis[key]:
            holders.setdefault(mbi, []).append(key)
    for mbi in sorted(holders):
        _join_each(people, holders[mbi], True, groups)


def _join_by_demographics(people: _People, by_key: dict[Key, Record], groups: dict[Key, set[Key]]) -> None:
    buckets: dict[tuple, list[Key]] = {}
    for key in sorted(by_key):
        if (demo := demographic_key(by_key[key])) is not None:
            buckets.setdefault(demo, []).append(key)
    for demo in sorted(buckets, key=repr):
        keys = buckets[demo]
        with_mbi = {people.find(k) for k in keys if people.mbis[k]}
        if len(with_mbi) > 1:  # ambiguous: the records without an MBI could be either person
            keys = [k for k in keys if not people.mbis[k]]
        _join_each(people, keys, False, groups)


def _join_each(people: _People, keys: list[Key], by_mbi: bool, groups: dict[Key, set[Key]]) -> None:
    """Join each record to the first earlier record it may join."""
    for i, key in enumerate(keys):
        for earlier in keys[:i]:
            if people.join(earlier, key, by_mbi, groups):
                break


def _matches(people: _People, by_key: dict[Key, Record]) -> dict[Key, Match]:
    out: dict[Key, Match] = {}
    for root, keys in people.members().items():
        pid = person_id(root)
        representative = next((k for k in keys if people.mbis[k]), keys[0])
        for key in keys:
            shares_mbi = any(people.mbis[key] & people.mbis[other] for other in keys if other != key)
            rule = SINGLE if len(keys) == 1 else MBI if shares_mbi else DEMOGRAPHICS
            out[key] = Match(pid, rule, key == representative)
    return out


def person_id(first: Key) -> str:
    """The id of the person whose smallest record is `first`."""
    digest = hashlib.sha256(f"{first[0]}/{first[1]}".encode()).hexdigest()
    return f"person-{digest[:12]}"
