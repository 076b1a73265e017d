"""Benchmark: evaluate the five APP Plus measures over a generated population on SQLite.

Builds the population once (cached in --workdir): `caregaps synth` generates --seed-patients
patients, `caregaps ingest` loads them into one practice, then the normalized rows (patients,
facts, codes, the encounter and medication references measures follow) are copied with fresh ids
until the practice has --patients patients. Copying in SQL is only a faster way to a large store
with the same shape as ingest would build (ingesting 100,000 patients takes an hour); the raw
resources are not copied because evaluation never reads them.

Then it evaluates CMS122, CMS125, CMS130, CMS165 and CMS2 for the period and prints seconds,
patient-measures per second and the peak RSS, next to the baseline of the same run: one full
scan of the fact table (the cheapest set-based pass over the data).

    .venv/bin/python benchmarks/evaluate.py --patients 100000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from caregaps.db import make_engine, migrate
from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.runs import run_measure
from caregaps.models import TIMED
from caregaps.terminology import load_valuesets

MEASURES = ("CMS122", "CMS125", "CMS130", "CMS165", "CMS2")
PRACTICE = "bench"
TIMES = ", ".join(f'"{c}"' for c in TIMED if c not in ("start", "end"))  # what a fact knows of its times
COPIED = {
    "patient": ("practice_id, resource_id, identifiers, family, given, birth_date, gender, race, ethnicity, "
                "deceased, general_practitioner, sex",
                "practice_id, resource_id || :suffix, identifiers, family, given, birth_date, gender, race, "
                "ethnicity, deceased, general_practitioner, sex", ""),
    "fact": ("id, practice_id, patient_id, kind, resource_type, resource_id, component, start, \"end\", "
             f"{TIMES}, value_num, value_unit, status",
             "id + :shift, practice_id, CASE WHEN patient_id = '' THEN '' ELSE patient_id || :suffix END, kind, "
             f"resource_type, resource_id || :suffix, component, start, \"end\", {TIMES}, value_num, value_unit, status",
             "WHERE id <= :last_fact"),
    "fact_code": ("fact_id, element, system, code", "fact_id + :shift, element, system, code",
                  "WHERE fact_id <= :last_fact"),
    "resource_reference": ("practice_id, source_type, source_id, path, target_type, target_id",
                           "practice_id, source_type, source_id || :suffix, path, target_type, target_id || :suffix",
                           "WHERE path IN ('encounter', 'medicationReference') AND id <= :last_ref"),
}


def cli(db: Path, *args: str) -> None:
    env = {"CAREGAPS_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "caregaps.cli", *args], env=env, check=True, capture_output=True)


def build(db: Path, workdir: Path, seed_patients: int, patients: int) -> None:
    """The seed population ingested, then copied up to `patients` (skipped when already built)."""
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM patient WHERE practice_id = :p"), {"p": PRACTICE}).scalar()
    if have >= patients:
        return
    if have == 0:
        export = workdir / "export"
        if not export.exists():
            cli(db, "synth", "--patients", str(seed_patients), "--practices", "1", "--seed", "7",
                "--out", str(export), "--format", "ndjson")
        cli(db, "practice", "add", "--id", PRACTICE, "--name", "Benchmark practice", "--timezone", "America/Chicago")
        started = time.perf_counter()
        files = sorted(p for p in export.rglob("*.ndjson*"))
        subprocess.run([sys.executable, "-m", "caregaps.cli", "ingest", "--practice", PRACTICE, *map(str, files)],
                       env={"CAREGAPS_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}, capture_output=True)
        print(f"ingested the {seed_patients}-patient seed in {time.perf_counter() - started:.0f} s", flush=True)
    _copy(engine, patients)


def _copy(engine, patients: int) -> None:
    started = time.perf_counter()
    with engine.begin() as conn:
        seed = conn.execute(text("SELECT count(*) FROM patient WHERE resource_id NOT LIKE '%~%'")).scalar()
        last_fact = conn.execute(text("SELECT max(id) FROM fact")).scalar()
        last_ref = conn.execute(text("SELECT max(id) FROM resource_reference")).scalar()
        copies = -(-patients // seed) - 1
        indexes = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                    "AND tbl_name IN ('fact', 'fact_code', 'resource_reference')")).all()
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        for k in range(1, copies + 1):
            params = {"suffix": f"~{k}", "shift": k * last_fact, "last_fact": last_fact, "last_ref": last_ref}
            for table, (columns, values, where) in COPIED.items():
                source = "WHERE resource_id NOT LIKE '%~%'" if table == "patient" else where
                conn.execute(text(f"INSERT INTO {table} ({columns}) SELECT {values} FROM {table} {source}"), params)
        for _, sql in indexes:
            conn.execute(text(sql))
        conn.execute(text("ANALYZE"))
    print(f"copied the seed {copies} times in {time.perf_counter() - started:.0f} s", flush=True)


def baseline(engine) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*), sum(value_num), count(DISTINCT kind) FROM fact")).all()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed-patients", type=int, default=2_000)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench-evaluate"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"evaluate-{args.patients}.db"
    build(db, args.workdir, min(args.seed_patients, args.patients), args.patients)
    engine = make_engine(f"sqlite:///{db}")
    load_valuesets(engine, default_root() / "valuesets")
    with engine.connect() as conn:
        patients = conn.execute(text("SELECT count(*) FROM patient WHERE practice_id = :p"), {"p": PRACTICE}).scalar()
        facts = conn.execute(text("SELECT count(*) FROM fact")).scalar()
    scan = baseline(engine)
    catalog = load_catalog()
    total, timings = 0.0, {}
    for measure_id in MEASURES:
        started = time.perf_counter()
        run = run_measure(engine, catalog.get(measure_id), PRACTICE, date(2026, 1, 1), date(2026, 12, 31),
                          as_of=date(2026, 11, 22))
        timings[measure_id] = time.perf_counter() - started
        total += timings[measure_id]
        c = run.counts
        print(f"{measure_id:<7} {timings[measure_id]:7.1f} s  IP {c['initial-population']:>7}  DEN {c['denominator']:>7}"
              f"  NUM {c['numerator']:>7}  open {c['open-gap']:>7}  prospective {c['prospective-gap']:>6}", flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = patients * len(MEASURES) / total
    print(f"\npatients {patients:,}  facts {facts:,}")
    print(f"baseline: full scan of the fact table {scan:.1f} s")
    print(f"evaluate: {len(MEASURES)} measures in {total:.1f} s = {rate:,.0f} patient-measures/s "
          f"({total / scan:.1f}x the scan; target <= 60 s, >= 8,000 patient-measures/s)")
    print(f"peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
