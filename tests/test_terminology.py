"""Value sets load into the membership table once, reload when changed, and bad files are named."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlmodel import select

from caregaps.db import session
from caregaps.models import ValueSet, ValueSetCode
from caregaps.terminology import ValueSetError, load_valuesets, read_valueset

MEASURES = Path(__file__).resolve().parent.parent / "measures" / "valuesets"
DIABETES = "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.464.1003.103.12.1001"


def write(folder: Path, name: str, resource: dict) -> Path:
    path = folder / name
    path.write_bytes(orjson.dumps(resource))
    return path


def valueset(url: str = "http://example.org/vs/a", *codes: tuple[str, str]) -> dict:
    return {"resourceType": "ValueSet", "url": url, "name": "A",
            "expansion": {"contains": [{"system": s, "code": c} for s, c in codes]}}


def test_given_the_project_valuesets_when_loaded_then_diabetes_codes_are_members(engine):
    report = load_valuesets(engine, MEASURES)
    files = len(list(MEASURES.glob("*.json")))  # the 136 eCQM value sets and caregaps' own
    assert len(report.loaded) == files and files >= 136 and not report.unchanged
    assert [w for w in report.warnings if "PayerType" in w or "4.11.3591" in w]  # filters only: no codes
    with session(engine) as s:
        codes = s.exec(select(ValueSetCode.code).where(ValueSetCode.value_set == DIABETES)).all()
    assert "E11.9" in codes and len(codes) == 369
    assert load_valuesets(engine, MEASURES).loaded == []  # nothing changed: nothing reloaded


def test_given_a_changed_file_when_reloaded_then_only_it_is_replaced(engine, tmp_path):
    write(tmp_path, "a.json", valueset("http://example.org/vs/a", ("http://loinc.org", "1-1")))
    write(tmp_path, "b.json", valueset("http://example.org/vs/b", ("http://loinc.org", "2-2")))
    load_valuesets(engine, tmp_path)
    write(tmp_path, "a.json", valueset("http://example.org/vs/a", ("http://loinc.org", "3-3")))
    report = load_valuesets(engine, tmp_path)
    assert report.loaded == ["http://example.org/vs/a"] and report.unchanged == ["http://example.org/vs/b"]
    with session(engine) as s:
        assert s.exec(select(ValueSetCode.code).where(ValueSetCode.value_set.endswith("/a"))).all() == ["3-3"]
        assert s.get(ValueSet, "http://example.org/vs/a").codes == 1


def test_given_nested_expansion_and_compose_then_both_enumerate(tmp_path):
    nested = {"resourceType": "ValueSet", "url": "u", "expansion": {"contains": [
        {"system": "s", "code": "1", "contains": [{"system": "s", "code": "2"}]}]}}
    composed = {"resourceType": "ValueSet", "url": "v", "compose": {"include": [
        {"system": "s", "concept": [{"code": "9", "display": "nine"}]}]}}
    assert {c for _, c, _ in read_valueset(write(tmp_path, "n.json", nested))[1]} == {"1", "2"}
    assert read_valueset(write(tmp_path, "c.json", composed))[1] == {("s", "9", "nine")}


@pytest.mark.parametrize("resource, words", [
    ({"resourceType": "CodeSystem", "url": "u"}, "expected ValueSet"),
    ({"resourceType": "ValueSet"}, "ValueSet.url: missing"),
    ({"resourceType": "ValueSet", "url": "u", "expansion": {"contains": [{"code": "1"}]}},
     "ValueSet.expansion.contains[0].system: missing"),
])
def test_given_an_unusable_file_then_the_error_names_file_and_element(tmp_path, resource, words):
    path = write(tmp_path, "bad.json", resource)
    with pytest.raises(ValueSetError) as err:
        read_valueset(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_given_a_filter_defined_valueset_when_loaded_then_it_has_no_codes_and_a_warning(engine, tmp_path):
    write(tmp_path, "f.json", {"resourceType": "ValueSet", "url": "http://example.org/vs/f", "name": "F",
                               "compose": {"include": [{"system": "s", "filter": [{"op": "is-a"}]}]}})
    report = load_valuesets(engine, tmp_path)
    assert report.loaded == ["http://example.org/vs/f"] and "not enumerated" in report.warnings[0]
    with session(engine) as s:
        assert s.get(ValueSet, "http://example.org/vs/f").codes == 0
