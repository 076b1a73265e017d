"""The main job on sample data: set up the sample practices, load them, run every stage
(ingest, data quality, then the pipeline: measures, risk, worklists), optionally deliver."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import orjson
from sqlalchemy import Engine

from caregaps.db import session
from caregaps.engine.codes import GapStatus
from caregaps.engine.gaps import performance_rate
from caregaps.ingest.jobs import create_job, run_job
from caregaps.ingest.readers import input_files
from caregaps.models import Practice, utcnow
from caregaps.practices import add_practice, create_token
from caregaps.quality import practice_quality
from caregaps.pipeline import RISK_MODEL, prepare, refresh_practice
from caregaps.users import ensure_user


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
    accounts = demo_accounts(engine, list(tokens))
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
    """Run the pipeline (measures, risk, worklist) for each practice and print what it found."""
    catalog = prepare(engine)
    done = {pid: refresh_practice(engine, catalog, pid) for pid in practice_ids}
    first = next(iter(done.values()), None)
    if first is None:
        return
    echo(f"\nMeasures, {first.period[0]} to {first.period[1]} (rate, open gaps):")
    for pid, r in done.items():
        parts = []
        for measure_id, c in r.runs.items():
            rate = performance_rate(c)
            parts.append(f"{measure_id} {'n/a' if rate is None else f'{rate:.0%}'} ({c[GapStatus.OPEN]} open)")
        echo(f"  {pid}: " + ", ".join(parts))
    echo("  (caregaps explain --practice P --patient ID --measure ID says why, for one patient)")
    echo(f"\nRisk ({catalog.risk_model(RISK_MODEL).title}, as of {first.today}):")
    for pid, r in done.items():
        t = r.risk_tiers
        echo(f"  {pid}: {t.get('high', 0)} high, {t.get('rising', 0)} rising, {t.get('low', 0)} low "
             f"(caregaps risk --practice {pid})")
    for pid, r in done.items():
        echo(f"  worklist {pid}: {r.worklist['created']} new, {r.worklist['updated']} updated")
    evaluate_aco(engine, catalog, echo)


def evaluate_aco(engine: Engine, catalog, echo: Callable[[str], None] = print) -> None:
    """Roll the practices up into the ACO (each person once, with all their data) and print its rates."""
    from caregaps.aco.evaluate import refresh_aco

    aco = refresh_aco(engine, catalog)
    b = aco.rebuilt
    echo(f"\nACO: {b.persons} people in {b.records} patient records ({b.shared_persons} seen at several "
         f"practices: {b.matched_by_mbi} matched by MBI, {b.matched_by_demographics} by demographics)")
    rates = [f"{m} {rate:.0%}" if (rate := performance_rate(c)) is not None else f"{m} n/a" for m, c in aco.runs.items()]
    echo("  " + ", ".join(rates) + "  (caregaps aco matches; the dashboard: http://127.0.0.1:8000/dashboard)")


def demo_accounts(engine: Engine, practice_ids: list[str]) -> dict[str, str]:
    """The demo care manager and admin; their (fresh) passwords."""
    return {"care@caregaps.local": ensure_user(engine, "care@caregaps.local", "Casey Care", "care-manager", practice_ids),
            "admin@caregaps.local": ensure_user(engine, "admin@caregaps.local", "Avery Admin", "admin", [])}


def deliver_to(engine: Engine, settings, practice_ids: list[str], address: str,
               echo: Callable[[str], None] = print) -> None:
    """Give each practice an email channel to `address` (once) and send its worklist now."""
    from caregaps.delivery.dispatch import deliver_due, record_now
    from caregaps.delivery.settings import add_channel, delivery_settings

    for pid in practice_ids:
        if not any(c.kind == "email" and c.target == address for c in delivery_settings(engine, pid).channels):
            add_channel(engine, pid, "email", address)
        record_now(engine, pid, utcnow())
        for o in deliver_due(engine, settings, practices=[pid]):
            echo(f"  delivery {pid} to {address}: {o.status}, {o.item_count} patients"
                 + (f" ({o.error})" if o.error else ""))


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
