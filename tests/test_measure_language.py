"""`caregaps measures check`: every problem in a measure file is an error naming file, line and key."""

from __future__ import annotations

import pytest

from caregaps.engine.catalog import check
from caregaps.engine.timephrase import Point, parse

HEAD = "id: T\ntitle: t\nurl: u\nversion: '1'\n"
POPS = "populations:\n  initial-population: {sex: female}\n  denominator: initial-population\n  numerator: {sex: female}\n"


def _problems(tmp_path, body: str):
    (tmp_path / "valuesets").mkdir(exist_ok=True)
    (tmp_path / "library").mkdir(exist_ok=True)
    (tmp_path / "T.yaml").write_text(body)
    _, problems = check(tmp_path)
    return problems


@pytest.mark.parametrize("define, line, key, words", [
    ("  Q: {from: encounter, colour: red}\n", 6, "colour", "unknown key in a query"),
    ("  Q: {from: encounter, code: Office Visit}\n", 6, "code", "undefined value set or code 'Office Visit'"),
    ("  Q: {from: encounter, value: '> 9 %'}\n", 6, "value", "type mismatch: encounter events have no value"),
    ("  Q: {from: encounter, time: ends sometime}\n", 6, "time", "expected [starts|ends] during"),
    ("  Q: {from: R}\n  R: {from: Q}\n", None, None, "circular definition"),
    ("  Q: {from: encounter}\n  C: {all: [Q]}\n", 7, "C", "type mismatch: 'Q' is a query"),
    ("  C: {sex: female}\n  D: {exists: C}\n", 7, "D", "'C' is a condition"),
    ("  C: {exists: Nowhere}\n", 6, "C", "'Nowhere' is not defined"),
    ("  Q: {from: condition, profile: ProblemList}\n", 6, "profile", "expected a QI-Core Condition profile"),
    ("  Q: {from: encounter, profile: ConditionEncounterDiagnosis}\n", 6, "profile",
     "type mismatch: a profile is one of QI-Core's Condition profiles; these are encounter events"),
    ("  Q: {from: observation, status: cancelled, dated by: recorded}\n", 6, "dated by", "expected one of issued"),
    ("  Q: {from: observation, dated by: issued}\n", 6, "dated by", "issued is kept for cancelled events only"),
    ("  Q: {from: encounter, status: cancelled, dated by: issued}\n", 6, "dated by",
     "issued dates the facts a query reads 'from: observation'"),
])
def test_each_problem_names_file_line_and_key(tmp_path, define, line, key, words):
    problems = _problems(tmp_path, HEAD + "define:\n" + define + POPS)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file.endswith("T.yaml") and words in problem.message
    if line is not None:
        assert (problem.line, problem.key) == (line, key)


def test_unknown_top_level_key_undefined_population_and_value_set_url(tmp_path):
    assert "unknown key" in str(_problems(tmp_path, HEAD + "colour: red\n" + POPS)[0])
    missing = _problems(tmp_path, HEAD + "populations:\n  initial-population: {sex: female}\n")
    assert missing[0].key == "denominator" and "missing population" in missing[0].message
    url = _problems(tmp_path, HEAD + "valuesets:\n  X: http://example.org/none\n" + POPS)[0]
    assert (url.line, url.key) == (6, "X") and "not in measures/valuesets/" in url.message


def test_the_projects_measures_are_sound():
    catalog, problems = check()
    assert problems == []
    assert {"CMS122", "CMS125", "CMS130", "CMS165", "CMS2"} <= set(catalog.measures)
    assert catalog.get("cms122").url == "https://madie.cms.gov/Measure/CMS122FHIRDiabetesAssessGreaterThan9Percent"


def test_time_phrases_parse_into_anchor_relation_and_points():
    test = parse("ends during [start of measurement period - 15 months, end of measurement period]")
    assert (test.anchor, test.relation) == ("end", "during")
    assert test.low == Point("start", None, months=-15) and test.high == Point("end")
    within = parse("ends within 14 days before start of Qualifying Encounter")
    assert within.low == Point("start", "Qualifying Encounter", days=-14) and within.queries == {"Qualifying Encounter"}
    assert parse("overlaps [start of measurement period, start of measurement period + 6 months)").high_open
