"""The main job on sample data: set up the sample practices, load them, run every stage."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import orjson
from sqlalchemy import Engine

from caregaps.db import session
from caregaps.ingest.jobs import create_job, run_job
from caregaps.ingest.readers import input_files
from caregaps.models import Practice, utcnow
from caregaps.practices import add_practice, create_token
from caregaps.quality import practice_quality


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
    first = next(iter(tokens))
    echo("\nOpen http://127.0.0.1:8000/ (home), http://127.0.0.1:8000/docs (API).")
    echo(f"A token for practice {first}: {tokens[first]}")
    echo(f"  curl -H 'Authorization: Bearer {tokens[first]}' http://127.0.0.1:8000/api/quality")
    return tokens


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
