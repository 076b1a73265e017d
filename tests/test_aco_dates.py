"""Dates stay dates through the ACO roll-up: a person alone in the ACO has the results of her own
practice, whatever the timezones of the ACO and of its members.

Given two member practices in different timezones whose patients nobody matches across them, when
the ACO is rebuilt from them and every shipped measure is evaluated for all three, then each
person's populations and gap status in the ACO are those of her record at her practice. A date such
as a Condition onset `2026-07-01` is July 1 in both (the roll-up once read it again as June 30).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from caregaps.aco import ACO_ID
from caregaps.aco.models import PersonLink
from caregaps.aco.rollup import rebuild_aco
from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.evaluate import evaluate
from caregaps.engine.runs import practice_period
from caregaps.ingest.jobs import create_job, run_job
from caregaps.practices import add_practice
from caregaps.terminology import load_valuesets
from tests.builders import ndjson

SAMPLES = Path(__file__).resolve().parents[1] / "fhir_samples" / "bundles"
MEMBERS = {"east": ("America/New_York", "p1"), "antipodes": ("Pacific/Auckland", "p2")}
START, END = date(2026, 1, 1), date(2026, 12, 31)


def _dated_onsets(practice: str) -> list[dict]:
    """A hypertensive patient whose onset is a date on the edge of CMS165's first six months."""
    pid = f"{practice}-edge"
    subject = {"reference": f"Patient/{pid}"}
    return [{"resourceType": "Patient", "id": pid, "birthDate": "1961-02-03", "gender": "male",
             "name": [{"family": f"Edge{practice.title()}", "given": ["Sam"]}]},
            {"resourceType": "Encounter", "id": f"{pid}-visit", "status": "finished", "subject": subject,
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
             "period": {"start": "2026-05-04T15:00:00Z", "end": "2026-05-04T15:30:00Z"}},
            {"resourceType": "Condition", "id": f"{pid}-htn", "subject": subject,
             "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                            "code": "active"}]},
             "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59621000"}]},
             "onsetDateTime": "2026-06-30"}]


def _load(engine, tmp_path) -> None:
    for practice, (zone, folder) in MEMBERS.items():
        add_practice(engine, practice, practice, zone)
        extra = tmp_path / f"{practice}-edge.ndjson"
        extra.write_bytes(ndjson(*_dated_onsets(practice)))
        files = [(p, p.name) for p in sorted((SAMPLES / folder).glob("*.json.gz"))[:30]] + [(extra, extra.name)]
        run_job(engine, create_job(engine, practice, "cli", files, False).id, workers=0)
    load_valuesets(engine, default_root() / "valuesets")


def _results(engine, practice: str) -> dict[tuple[str, str], tuple]:
    with engine.begin() as conn:
        period = practice_period(conn, practice, START, END)
        return {(m.id, r.patient_id): (r.populations, r.gap)
                for m in load_catalog().measures.values() for r in evaluate(conn, m, period, practice)}


def test_a_person_alone_in_the_aco_keeps_her_practices_results(engine, tmp_path):
    _load(engine, tmp_path)
    members = {p: _results(engine, p) for p in MEMBERS}
    rebuilt = rebuild_aco(engine)
    assert rebuilt.shared_persons == 0  # nobody is matched across the practices
    aco = _results(engine, ACO_ID)
    link = PersonLink.__table__
    with engine.connect() as conn:
        persons = {(r.practice_id, r.patient_id): r.person_id for r in conn.execute(select(link))}
    compared = 0
    for practice, results in members.items():
        for (measure, patient), outcome in results.items():
            assert aco[(measure, persons[(practice, patient)])] == outcome, (measure, practice, patient)
            compared += 1
    assert compared == len(aco)
    # a day-precise onset on the last day of CMS165's [start, start + 6 months) is not surely inside it
    # (it may be the last millisecond): out for both members, and so for the ACO
    edge = {p: members[p][("CMS165", f"{p}-edge")][0]["initial-population"] for p in MEMBERS}
    assert edge == {"east": False, "antipodes": False}
