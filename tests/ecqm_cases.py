"""The official eCQM test cases copied into tests/ecqm/: list them, load them, read what they expect."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date, timezone
from pathlib import Path

from sqlalchemy import Engine

from caregaps.engine.catalog import Catalog
from caregaps.engine.evaluate import evaluate
from caregaps.engine.period import Period
from caregaps.ingest.jobs import create_job, run_job
from caregaps.practices import add_practice

CASES = Path(__file__).parent / "ecqm"
PERIOD = Period(date(2026, 1, 1), date(2026, 12, 31), timezone.utc)
FOLDERS = {folder.name.split("FHIR")[0]: folder for folder in sorted(CASES.iterdir()) if folder.is_dir()}


@dataclass(frozen=True)
class Case:
    measure: str  # CMS id
    folder: Path

    @property
    def id(self) -> str:
        return f"{self.measure}-{self.folder.name[:8]}"

    @property
    def practice_id(self) -> str:
        # the whole folder name: some patients are official cases of two measures (CMS22, CMS69)
        return f"{self.measure}-{self.folder.name}"

    def report(self) -> dict:
        (path,) = self.folder.glob("MeasureReport-*.json")
        return json.loads(path.read_text())

    def expected(self) -> dict[str, bool]:
        group = self.report()["group"][0]
        return {p["code"]["coding"][0]["code"]: p.get("count", 0) > 0 for p in group["population"]}

    def description(self) -> str:
        for ext in self.report().get("extension", []):
            if ext["url"].endswith("cqfm-testCaseDescription"):
                return ext.get("valueMarkdown") or ext.get("valueString") or ""
        return ""

    def patient_id(self) -> str:
        (path,) = self.folder.glob("Patient-*.json")
        return json.loads(path.read_text())["id"]

    def resource_files(self) -> list[tuple[Path, str]]:
        return [(p, p.name) for p in sorted(self.folder.glob("*.json")) if not p.name.startswith("MeasureReport-")]


def cases(measure: str) -> list[Case]:
    return [Case(measure, folder) for folder in sorted((FOLDERS[measure] / "cases").iterdir())]


def load_case(engine: Engine, case: Case) -> None:
    """Each case is its own practice (UTC), so no two cases share a patient. A case is one
    patient's record, imported as the Bundle MADiE exports it as (some resources of some cases
    name no patient: the Bundle's only Patient is theirs)."""
    add_practice(engine, case.practice_id, case.id, "UTC")
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": json.loads(path.read_text())} for path, _ in case.resource_files()]}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{case.id}.json"
        path.write_text(json.dumps(bundle))
        job = create_job(engine, case.practice_id, "cli", [(path, path.name)], False)
        run_job(engine, job.id, workers=0)


def actual(engine: Engine, catalog: Catalog, case: Case) -> dict[str, bool]:
    with engine.begin() as conn:
        results = evaluate(conn, catalog.get(case.measure), PERIOD, case.practice_id)
    by_patient = {r.patient_id: r.populations for r in results}
    return by_patient.get(case.patient_id(), {})
