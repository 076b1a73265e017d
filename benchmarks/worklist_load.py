"""Benchmark: 50 concurrent clients open worklist and patient pages for 60 s on loopback.

Uses a database with one large practice (by default the one benchmarks/evaluate.py builds:
100,000 patients, more than the 20,000 the target names), evaluates CMS122 and CMS130 and the
risk model for it if that has not been done, fills its worklist, signs a care manager in, and
then runs the load against a real uvicorn server. Prints p50/p95 latency and throughput of the
worklist pages and the patient pages, next to the server's trivial /api/health measured in the
same run. Target: p95 < 250 ms for worklist pages.

    .venv/bin/python benchmarks/worklist_load.py --db /tmp/be-100k/evaluate-100000.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text

from caregaps.db import make_engine, migrate
from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.risk_runs import score_practice
from caregaps.engine.runs import run_measure
from caregaps.terminology import load_valuesets
from caregaps.users import ensure_user
from caregaps.worklist.sync import refresh_worklist

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)


def prepare(db: Path, practice: str) -> tuple[str, list[str]]:
    """A care manager's password and the patients on the worklist (evaluating first if needed)."""
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with engine.connect() as conn:
        items = conn.execute(text("SELECT count(*) FROM worklist_item WHERE practice_id = :p"), {"p": practice}).scalar()
    if not items:
        load_valuesets(engine, default_root() / "valuesets")
        catalog = load_catalog()
        for measure in ("CMS122", "CMS130"):
            run_measure(engine, catalog.get(measure), practice, START, END, as_of=TODAY)
        score_practice(engine, catalog.risk_model("chronic-risk"), practice, TODAY)
        refresh_worklist(engine, practice, START, END, TODAY)
    password = ensure_user(engine, "load@caregaps.local", "Load Tester", "care-manager", [practice])
    with engine.connect() as conn:
        patients = list(conn.execute(text("SELECT patient_id FROM worklist_item WHERE practice_id = :p"),
                                     {"p": practice}).scalars())
    return password, patients


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def client_loop(base: str, password: str, practice: str, patients: list[str], until: float,
                      out: dict[str, list[float]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await client.post("/signin", data={"email": "load@caregaps.local", "password": password})
        pages = max(1, len(patients) // 25)
        while time.perf_counter() < until:
            for kind, path in (("worklist", f"/worklist?page={random.randint(1, min(pages, 200))}"),
                               ("patient", f"/patients/{practice}/{random.choice(patients)}"),
                               ("health", "/api/health")):
                started = time.perf_counter()
                response = await client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
                out[kind].append(time.perf_counter() - started)


def report(name: str, samples: list[float], seconds: float) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1] if ms else float("nan")
    return (f"{name:<9} n={len(ms):>6}  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  "
            f"{len(ms) / seconds:7.1f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/be-100k/evaluate-100000.db"))
    parser.add_argument("--practice", default="bench")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    password, patients = prepare(args.db, args.practice)
    port = free_port()
    env = {**os.environ, "CAREGAPS_DATABASE_URL": f"sqlite:///{args.db}", "CAREGAPS_DATA_DIR": str(args.db.parent / "var")}
    server = subprocess.Popen([sys.executable, "-m", "caregaps.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        out: dict[str, list[float]] = {"worklist": [], "patient": [], "health": []}
        until = time.perf_counter() + args.seconds
        asyncio.run(_run(base, password, args, patients, until, out))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{len(patients):,} worklist items, {args.clients} clients, {args.seconds:.0f} s, one uvicorn process")
    for name in ("health", "worklist", "patient"):
        print(report(name, out[name], args.seconds))
    worklist_p95 = sorted(out["worklist"])[int(len(out["worklist"]) * 0.95) - 1] * 1000
    print(f"target: worklist p95 < 250 ms -> {'met' if worklist_p95 < 250 else 'missed'} ({worklist_p95:.0f} ms)")


async def _run(base, password, args, patients, until, out) -> None:
    await asyncio.gather(*[client_loop(base, password, args.practice, patients, until, out)
                           for _ in range(args.clients)])


if __name__ == "__main__":
    main()
