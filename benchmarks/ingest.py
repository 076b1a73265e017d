"""Benchmark: ingest a generated NDJSON export into SQLite, next to plain orjson parsing.

Prints resources per second for both (medians over --repeat runs, measured in this same run,
so the ratio is what matters on a shared, noisy machine) and the peak RSS of the ingest
process for each population size, to show memory does not grow with input size.

A second baseline, the store floor, says what SQLite alone costs to keep what ingest keeps: the
rows the ingest run wrote (raw versions, facts, codes, references) copied into a new store with
the same schema, connection settings and batch size by INSERT ... SELECT, so no Python touches a
row. No ingest can beat it without storing less or indexing less, so the ratio of ingest to the
floor is the share of the work that is Python's (parsing, checking, extracting, handing over).

    .venv/bin/python benchmarks/ingest.py --patients 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from caregaps.config import get_settings
from caregaps.synth import write_population


def orjson_rate(files: list[Path]) -> tuple[int, float]:
    """Resources and seconds to read and parse every line with orjson: the baseline."""
    count, start = 0, time.perf_counter()
    for path in files:
        with open(path, "rb") as stream:
            for line in stream:
                orjson.loads(line)
                count += 1
    return count, time.perf_counter() - start


FLOOR_TABLES = ("raw_resource", "fact", "fact_code", "resource_reference")


def store_floor(source: Path, workdir: Path, batch: int) -> float:
    """Seconds to copy the stored rows of `source` into a new migrated store, `batch` resources'
    worth of rows per transaction, on a connection tuned like an import's."""
    from caregaps.db import make_engine, migrate
    from caregaps.ingest.bulk import load_connection

    db = workdir / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with load_connection(engine) as conn:
        raw = conn.connection.dbapi_connection
        raw.execute(f"ATTACH DATABASE '{source}' AS source")
        with raw:
            raw.execute("INSERT INTO main.practice SELECT * FROM source.practice")
        tops = {t: raw.execute(f"SELECT COALESCE(MAX(id), 0) FROM source.{t}").fetchone()[0] for t in FLOOR_TABLES}
        resources = tops["raw_resource"]
        start = time.perf_counter()
        for low in range(0, resources, batch):
            with raw:  # one transaction per batch, as ingest commits
                for table, top in tops.items():
                    lo, hi = low * top // resources, min(low + batch, resources) * top // resources
                    raw.execute(f"INSERT INTO main.{table} SELECT * FROM source.{table} WHERE id > ? AND id <= ?",
                                (lo, hi))
        seconds = time.perf_counter() - start
        raw.execute("DETACH DATABASE source")
    engine.dispose()
    return seconds


def ingest_once(folder: Path, workdir: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of `caregaps ingest` of `folder` into a new SQLite file."""
    db = workdir / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "CAREGAPS_DATABASE_URL": f"sqlite:///{db}"}
    cli = [sys.executable, "-m", "caregaps.cli"]
    subprocess.run(cli + ["practice", "add", "--id", "bench", "--name", "Bench"], env=env, check=True,
                   capture_output=True)
    script = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "r = subprocess.run(sys.argv[1:], capture_output=True); "
              "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    out = subprocess.run([sys.executable, "-c", script, *cli, "ingest", "--practice", "bench", str(folder)],
                         env=env, check=True, capture_output=True, text=True).stdout.split()
    if out[2] not in ("0", "3"):
        raise SystemExit(f"ingest failed with exit code {out[2]}")
    return float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=0, help="also ingest this many patients (RSS check); "
                        "default a quarter of --patients")
    parser.add_argument("--repeat", type=int, default=1, help="ingest runs per size (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="caregaps-bench-"))
    sizes = sorted({args.small or max(1, args.patients // 4), args.patients})
    print(f"workdir {workdir}")
    for patients in sizes:
        out = workdir / f"pop-{patients}"
        if not (out / "manifest.json").exists():
            t = time.perf_counter()
            write_population(out, patients, 1, args.seed, "ndjson")
            print(f"generated {patients} patients in {time.perf_counter() - t:.1f} s")
        folder = next(p for p in out.iterdir() if p.is_dir())
        files = sorted(folder.glob("*.ndjson"))
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        parses = [orjson_rate(files) for _ in range(3)]
        count = parses[0][0]
        parse_rate = count / statistics.median(s for _, s in parses)
        runs = [ingest_once(folder, workdir) for _ in range(args.repeat)]
        ingest_rate = count / statistics.median(s for s, _ in runs)
        peak_mb = max(k for _, k in runs) / 1024
        floor_rate = count / store_floor(workdir / "bench.db", workdir, get_settings().ingest_batch_size)
        print(f"{patients:>7} patients  {count:>9} resources  {size_mb:8.1f} MB  "
              f"orjson {parse_rate:>9,.0f}/s  store floor {floor_rate:>8,.0f}/s  ingest {ingest_rate:>8,.0f}/s  "
              f"ingest/orjson {ingest_rate / parse_rate:6.1%}  floor/orjson {floor_rate / parse_rate:6.1%}  "
              f"ingest/floor {ingest_rate / floor_rate:6.1%}  peak RSS {peak_mb:6.0f} MB", flush=True)


if __name__ == "__main__":
    main()
