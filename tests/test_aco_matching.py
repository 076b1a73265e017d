"""The patient matching rule of caregaps.aco.matching, case by case (pure logic, no database)."""

from __future__ import annotations

from datetime import date

from caregaps.aco.matching import MBI_SYSTEM, Record, Split, match, person_id

BORN = date(1955, 3, 14)


def record(practice: str, patient: str, mbi: str | None = None, family: str | None = "Smith",
           given: str | None = "Ann", birth: date | None = BORN, gender: str | None = "female",
           **extra) -> Record:
    ids = ((MBI_SYSTEM, mbi),) if mbi else ()
    ids += tuple(extra.get("identifiers", ()))
    return Record(practice, patient, ids, family, given, birth, gender)


def people(matches) -> set[frozenset]:
    by_person: dict[str, set] = {}
    for key, m in matches.items():
        by_person.setdefault(m.person_id, set()).add(key)
    return {frozenset(keys) for keys in by_person.values()}


def test_given_the_same_mbi_and_different_names_then_they_are_one_person_matched_by_mbi():
    got = match([record("p1", "a", "1EG4-TE5-MK73", family="Smith"),
                 record("p2", "b", "1eg4te5mk73", family="Jones", given="Mary", birth=date(1960, 1, 1))])
    assert people(got) == {frozenset({("p1", "a"), ("p2", "b")})}
    assert {m.rule for m in got.values()} == {"mbi"}


def test_given_the_same_demographics_and_no_mbi_then_they_are_one_person_matched_by_demographics():
    got = match([record("p1", "a"), record("p2", "b")])
    assert people(got) == {frozenset({("p1", "a"), ("p2", "b")})}
    assert {m.rule for m in got.values()} == {"demographics"}


def test_given_the_same_demographics_but_different_mbis_then_they_are_two_people():
    got = match([record("p1", "a", "1EG4TE5MK73"), record("p2", "b", "2AB3CD4EF56")])
    assert people(got) == {frozenset({("p1", "a")}), frozenset({("p2", "b")})}
    assert {m.rule for m in got.values()} == {"single"}


def test_given_one_record_with_an_mbi_and_one_without_then_demographics_join_them():
    got = match([record("p1", "a", "1EG4TE5MK73"), record("p2", "b")])
    assert people(got) == {frozenset({("p1", "a"), ("p2", "b")})}
    assert got[("p1", "a")].representative and not got[("p2", "b")].representative


def test_given_a_record_without_mbi_matching_two_people_with_different_mbis_then_it_joins_neither():
    got = match([record("p1", "a", "1EG4TE5MK73"), record("p2", "b"), record("p3", "c", "2AB3CD4EF56")])
    assert people(got) == {frozenset({("p1", "a")}), frozenset({("p2", "b")}), frozenset({("p3", "c")})}


def test_given_accents_case_spaces_and_punctuation_then_names_still_match():
    got = match([record("p1", "a", family="O'Brien-Núñez", given="José Luis"),
                 record("p2", "b", family="obrien nunez", given="JOSE")])
    assert len(people(got)) == 1


def test_given_a_different_birth_date_gender_or_first_name_then_no_demographic_match():
    base = record("p1", "a")
    for other in (record("p2", "b", birth=date(1955, 3, 15)), record("p2", "b", gender="male"),
                  record("p2", "b", given="Anne")):
        assert len(people(match([base, other]))) == 2


def test_given_a_missing_field_then_no_demographic_match():
    assert len(people(match([record("p1", "a", birth=None), record("p2", "b", birth=None)]))) == 2
    assert len(people(match([record("p1", "a", given=None), record("p2", "b", given=None)]))) == 2


def test_given_other_identifier_systems_then_they_do_not_count_as_mbi():
    other = (("http://hospital.example/mrn", "123"),)
    got = match([record("p1", "a", family="X", identifiers=other), record("p2", "b", family="Y", identifiers=other)])
    assert len(people(got)) == 2


def test_given_a_split_then_the_two_records_are_different_people_even_with_the_same_mbi():
    records = [record("p1", "a", "1EG4TE5MK73"), record("p2", "b", "1EG4TE5MK73")]
    got = match(records, [Split(("p2", "b"), ("p1", "a"))])
    assert people(got) == {frozenset({("p1", "a")}), frozenset({("p2", "b")})}


def test_given_a_split_then_a_third_record_cannot_join_them_either():
    records = [record("p1", "a"), record("p2", "b"), record("p3", "c")]
    got = match(records, [Split(("p1", "a"), ("p2", "b"))])
    assert people(got) == {frozenset({("p1", "a"), ("p3", "c")}), frozenset({("p2", "b")})}


def test_person_ids_are_stable_and_fit_a_fhir_id():
    records = [record("p2", "b"), record("p1", "a")]
    first, again = match(records), match(list(reversed(records)))
    assert first == again
    assert first[("p2", "b")].person_id == person_id(("p1", "a"))
    assert first[("p1", "a")].person_id.startswith("person-") and len(first[("p1", "a")].person_id) == 19
