"""Benchmark: 50 concurrent clients open worklist and patient pages for 60 s on loopback.

Uses a database with one practice of 20,000 patients (the one benchmarks/evaluate.py builds with
--patients 20000, built here under /tmp/be-20k if it is missing), evaluates the five APP Plus
measures and the risk model for it if that has not been done, fills its worklist, signs a care
manager in, and then runs the load against a real `caregaps serve --workers N` (default: one per
core) on loopback. Each client, signed in with its session cookie, opens a worklist page (a
random one of the first 200) and a patient page (a random patient of the worklist) in turn, with
no think time. The load comes from wrk (C, with benchmarks/worklist_load.lua), so the load
generator takes little of the CPU the server needs; it is installed with apt-get when missing and
this runs as root.

The trivial /api/health is measured in the same run, against the same server, in a phase of its
own right after the pages (the same clients, --health-seconds): the issue asks for pages under 50
clients next to the health endpoint, and a client that also opened /api/health between its pages
would spend part of its time off the pages, so the pages would carry less than 50 clients' load.

Prints p50/p95 latency and throughput of the worklist pages and the patient pages, next to the
health endpoint, and the CPU the server, wrk and everything else on the machine used during the
pages (other processes on a shared machine take CPU from the server). A few seconds of the same
load warm the server up first (each worker loads the measures on its first request).
Target: p95 < 250 ms for worklist pages.

    .venv/bin/python benchmarks/worklist_load.py [--db PATH] [--workers N] [--clients 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
MEASURES = ("CMS122", "CMS125", "CMS130", "CMS165", "CMS2")  # the APP Plus measures, as in evaluate.py
HERE = Path(__file__).parent
EMAIL = "load@caregaps.local"
PAGES = "worklist,patient"  # what each client opens in turn during the pages phase


def build_db(db: Path, patients: int) -> None:
    """The evaluate benchmark's population of `patients` in one practice, unless `db` exists."""
    if db.exists():
        return
    sys.path.insert(0, str(HERE))
    from evaluate import build

    db.parent.mkdir(parents=True, exist_ok=True)
    build(db, db.parent, min(2_000, patients), patients)


def prepare(db: Path, practice: str) -> tuple[str, list[str]]:
    """A care manager's password and the patients on the worklist (evaluating first if needed)."""
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with engine.connect() as conn:
        done = set(conn.execute(text("SELECT measure_id FROM measure_run WHERE practice_id = :p AND finished_at IS NOT NULL "
                                     "AND period_start = :s"), {"p": practice, "s": START}).scalars())
    missing = [m for m in MEASURES if m not in done]
    if missing:
        load_valuesets(engine, default_root() / "valuesets")
        catalog = load_catalog()
        for measure in missing:
            run_measure(engine, catalog.get(measure), practice, START, END, as_of=TODAY)
        score_practice(engine, catalog.risk_model("chronic-risk"), practice, TODAY)
        refresh_worklist(engine, practice, START, END, TODAY)
    password = ensure_user(engine, EMAIL, "Load Tester", "care-manager", [practice])
    with engine.connect() as conn:
        patients = list(conn.execute(text("SELECT patient_id FROM worklist_item WHERE practice_id = :p"),
                                     {"p": practice}).scalars())
    engine.dispose()
    return password, patients


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is needed: apt-get install wrk (Debian/Ubuntu) or brew install wrk")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CAREGAPS_DATABASE_URL": f"sqlite:///{db}", "CAREGAPS_DATA_DIR": str(db.parent / "var"),
           "CAREGAPS_SCHEDULER": "off"}
    server = subprocess.Popen([sys.executable, "-m", "caregaps.cli", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/health").status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the server did not start")


def sign_in(base: str, password: str, practice: str, patient: str) -> str:
    """The session cookie, after checking that both pages answer as a person would see them."""
    with httpx.Client(base_url=base, timeout=60) as client:
        client.post("/signin", data={"email": EMAIL, "password": password})
        cookie = client.cookies.get("caregaps_session")
        if not cookie:
            raise SystemExit("sign-in failed")
        worklist = client.get("/worklist?page=1")
        patient_page = client.get(f"/patients/{practice}/{patient}")
        if worklist.status_code != 200 or "page 1 of" not in worklist.text or patient_page.status_code != 200:
            raise SystemExit(f"pages answer {worklist.status_code} and {patient_page.status_code}")
    return f"caregaps_session={cookie}"


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its descendants (Linux /proc)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used so far (Linux /proc/stat, all cores)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_wrk(wrk: str, base: str, clients: int, seconds: float, args: list[str]) -> dict[str, tuple]:
    """{kind: (requests, failed, p50 ms, p95 ms, p99 ms)}, and the wrk error counts under 'errors'."""
    out = subprocess.run([wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "30s",
                          "-s", str(HERE / "worklist_load.lua"), base, "--", *args],
                         check=True, capture_output=True, text=True).stdout
    kinds = {m[1]: (int(m[2]), int(m[3]), float(m[4]), float(m[5]), float(m[6]))
             for m in re.finditer(r"^kind (\w+) (\d+) (\d+) (\S+) (\S+) (\S+)$", out, re.M)}
    kinds["errors"] = re.search(r"^errors (.*)$", out, re.M)[1]
    return kinds


@dataclass
class Phase:
    """One phase of the load: latency per kind (see run_wrk) and the CPU used meanwhile (seconds)."""

    seconds: float
    result: dict
    server_cpu: float
    wrk_cpu: float
    all_cpu: float

    def requests(self, *kinds: str) -> int:
        return sum(self.result[k][0] for k in kinds)


def measure(wrk: str, base: str, server_pid: int, clients: int, seconds: float, lua_args: list[str]) -> Phase:
    """Run wrk once and take the CPU of the server, of wrk and of the whole machine meanwhile."""
    server_cpu, children, all_cpu = process_tree_cpu(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN), machine_cpu()
    result = run_wrk(wrk, base, clients, seconds, lua_args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Phase(seconds, result, process_tree_cpu(server_pid) - server_cpu,
                 after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, machine_cpu() - all_cpu)


def run_load(args, wrk: str, base: str, server_pid: int, lua_args: list[str]) -> tuple[Phase, Phase]:
    """The pages phase (worklist and patient pages in turn), then the health phase."""
    if args.warmup:
        run_wrk(wrk, base, args.clients, args.warmup, [*lua_args, PAGES])
    pages = measure(wrk, base, server_pid, args.clients, args.seconds, [*lua_args, PAGES])
    health = measure(wrk, base, server_pid, args.clients, args.health_seconds, [*lua_args, "health"])
    return pages, health


def report(args, items: int, pages: Phase, health: Phase) -> None:
    print(f"{items:,} worklist items in practice {args.practice}, {args.clients} clients, "
          f"{args.seconds:.0f} s of pages then {args.health_seconds:.0f} s of /api/health, "
          f"{args.workers} uvicorn worker(s), {os.cpu_count()} cores")
    others = max(0.0, pages.all_cpu - pages.server_cpu - pages.wrk_cpu)
    print(f"CPU during the pages: server {pages.server_cpu / pages.seconds:.2f} cores, wrk {pages.wrk_cpu / pages.seconds:.2f} "
          f"cores, everything else on the machine {others / pages.seconds:.2f} cores; wrk errors: {pages.result['errors']}")
    print(f"server CPU per request: pages {pages.server_cpu / max(pages.requests('worklist', 'patient'), 1) * 1000:.1f} ms, "
          f"health {health.server_cpu / max(health.requests('health'), 1) * 1000:.1f} ms")
    base = health.result["health"]
    for name, phase in (("health", health), ("worklist", pages), ("patient", pages)):
        n, failed, p50, p95, _ = phase.result[name]
        ratio = "" if name == "health" else f"  ({p50 / base[2]:.1f}x / {p95 / base[3]:.1f}x health)"
        print(f"{name:<9} n={n:>6}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {n / phase.seconds:7.1f} req/s"
              f"{'  FAILED ' + str(failed) if failed else ''}{ratio}")
    worklist_p95 = pages.result["worklist"][3]
    print(f"target: worklist p95 < 250 ms -> {'met' if worklist_p95 < 250 else 'missed'} ({worklist_p95:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/be-20k/evaluate-20000.db"))
    parser.add_argument("--patients", type=int, default=20_000, help="patients of the database built when --db is missing")
    parser.add_argument("--practice", default="bench")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="seconds of worklist and patient pages")
    parser.add_argument("--health-seconds", type=float, default=20, help="seconds of /api/health after the pages")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of the page load before measuring")
    args = parser.parse_args()
    wrk = wrk_binary()
    build_db(args.db, args.patients)
    password, patients = prepare(args.db, args.practice)
    server, base = start_server(args.db, args.workers)
    try:
        cookie = sign_in(base, password, args.practice, patients[0])
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
            listed.write("\n".join(patients))
            listed.flush()
            lua_args = [cookie, args.practice, str(min(max(1, len(patients) // 25), 200)), listed.name]
            pages, health = run_load(args, wrk, base, server.pid, lua_args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(args, len(patients), pages, health)
    if any(pages.result[k][1] for k in ("worklist", "patient")) or health.result["health"][1]:
        raise SystemExit("some requests did not answer 200")


if __name__ == "__main__":
    main()
