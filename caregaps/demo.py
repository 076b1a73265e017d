"""The main job on sample data: set up the sample practices, load them, run every stage
(ingest, data quality, measure evaluation)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable

import orjson
from sqlalchemy import Engine

from caregaps.db import session
from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.risk_runs import score_practice
from caregaps.engine.runs import run_measure
from caregaps.ingest.jobs import create_job, run_job
from caregaps.ingest.readers import input_files
from caregaps.models import Practice, utcnow
from caregaps.practices import add_practice, create_token
from caregaps.quality import practice_quality
from caregaps.terminology import load_valuesets
from caregaps.users import ensure_user
from caregaps.worklist.sync import refresh_worklist


def load_samples(engine: Engine, samples: Path, echo: Callable[[str], None] = print) -> dict[str, str]:
    """Create the sample practices (once), ingest their NDJSON, and return a token per practice."""
    folder = samples / "ndjson"
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    tokens = {}
    for spec in manifest["practices"]:
        with session(engine) as s:
            exists = s.get(Practice, spec["id"]) is not None
        if not exists:
            add_practice(engine, spec["id"], spec["name"], spec["timezone"])
        files = input_files([folder / spec["id"]])
        job = create_job(engine, spec["id"], "cli", [(f, str(f)) for f in files])
        job = run_job(engine, job.id)
        totals = {k: sum(c.get(k, 0) for c in job.counts.values()) for k in ("stored", "unchanged", "rejected")}
        echo(f"{spec['id']} {spec['name']}: {totals['stored']} stored, {totals['unchanged']} unchanged, "
             f"{totals['rejected']} rejected")
        echo("  data quality: " + quality_summary(engine, spec["id"]) +
             f" (caregaps quality --practice {spec['id']})")
        tokens[spec["id"]] = create_token(engine, spec["id"], label="demo")
    evaluate_all(engine, list(tokens), echo)
    accounts = demo_worklists(engine, list(tokens), echo)
    first = next(iter(tokens))
    echo("\nOpen http://127.0.0.1:8000/worklist and sign in:")
    for email, password in accounts.items():
        echo(f"  {email}  password {password}")
    echo("http://127.0.0.1:8000/docs has the API.")
    echo(f"A token for practice {first}: {tokens[first]}")
    echo(f"  curl -H 'Authorization: Bearer {tokens[first]}' http://127.0.0.1:8000/api/quality")
    echo(f"  curl -H 'Authorization: Bearer {tokens[first]}' "
         f"'http://127.0.0.1:8000/fhir/Measure/CMS130/$evaluate-measure?reportType=population'")
    echo(f"  curl -H 'Authorization: Bearer {tokens[first]}' "
         f"'http://127.0.0.1:8000/fhir/Measure/$care-gaps?measureId=CMS122'")
    return tokens


def evaluate_all(engine: Engine, practice_ids: list[str], echo: Callable[[str], None] = print) -> None:
    """Evaluate every measure for each practice over the current year and print the rates."""
    year = date.today().year
    load_valuesets(engine, default_root() / "valuesets")
    catalog = load_catalog()
    echo(f"\nMeasures, {year}-01-01 to {year}-12-31 (rate, open gaps):")
    for pid in practice_ids:
        parts = []
        for measure in catalog.measures.values():
            c = run_measure(engine, measure, pid, date(year, 1, 1), date(year, 12, 31)).counts
            eligible = c["denominator"] - c["denominator-exclusion"] - c["denominator-exception"]
            rate = f"{c['numerator'] / eligible:.0%}" if eligible else "n/a"
            parts.append(f"{measure.id} {rate} ({c['open-gap']} open)")
        echo(f"  {pid}: " + ", ".join(parts))
    echo("  (caregaps explain --practice P --patient ID --measure ID says why, for one patient)")
    model = catalog.risk_model("chronic-risk")
    echo(f"\nRisk ({model.title}, as of {date.today()}):")
    for pid in practice_ids:
        scored = score_practice(engine, model, pid, date.today())
        high = sum(r.tier == "high" for r, _ in scored)
        rising = sum(r.tier == "rising" for r, _ in scored)
        echo(f"  {pid}: {high} high, {rising} rising, {len(scored) - high - rising} low (caregaps risk --practice {pid})")


def demo_worklists(engine: Engine, practice_ids: list[str], echo: Callable[[str], None] = print) -> dict[str, str]:
    """Fill each practice's worklist and create the demo accounts; their (fresh) passwords."""
    year = date.today().year
    for pid in practice_ids:
        counts = refresh_worklist(engine, pid, date(year, 1, 1), date(year, 12, 31), date.today())
        echo(f"  worklist {pid}: {counts['created']} new, {counts['updated']} updated")
    return {"care@caregaps.local": ensure_user(engine, "care@caregaps.local", "Casey Care", "care-manager", practice_ids),
            "admin@caregaps.local": ensure_user(engine, "admin@caregaps.local", "Avery Admin", "admin", [])}


def quality_summary(engine: Engine, practice_id: str) -> str:
    """One line of the practice's data-quality report."""
    with session(engine) as s:
        report = practice_quality(s, practice_id, utcnow())
    codings = sum(c["codings"] for c in report["coding"].values())
    standard = sum(c["standard"] for c in report["coding"].values())
    share = f"{standard / codings:.0%}" if codings else "n/a"
    return (f"{share} of codes in standard systems, "
            f"{report['observations_without_value']['count']} observations without a value, "
            f"{report['patients_without_encounters']['count']} patients without encounters, "
            f"{report['missing_references']['count']} references to resources never received")
