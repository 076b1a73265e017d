"""Benchmark: 500 practices due in the same minute, each with a 200-item worklist, delivered by
email to a local SMTP server and by webhook to a local HTTP receiver.

Builds a SQLite store (cached in --workdir) with --practices practices, each with --items
worklist items (patients with open CMS122/CMS130 gaps and risk), a daily schedule whose slot is
the minute that just passed, and two channels (email, JSON webhook). Then it runs the scheduler's
delivery pass (caregaps.delivery.dispatch.deliver_due, what the `deliveries` job calls) until
every delivery is sent, with the SMTP server (aiosmtpd) and the webhook receiver in their own
processes on loopback. Prints the time until all are delivered and the peak RSS, next to the
baseline measured in the same run: the same number of messages of the same sizes sent straight
over smtplib and httpx at the same concurrency, with no store, rendering or bookkeeping.
Target: all 500 practices within 60 s.

    .venv/bin/python benchmarks/delivery.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from caregaps.config import get_settings
from caregaps.db import make_engine, migrate
from caregaps.delivery.models import Delivery, DeliveryChannel, DeliverySchedule
from caregaps.models import Patient, Practice, WorklistItem, utcnow

STATUSES = ("new", "new", "new", "in-progress", "outreach-attempted", "scheduled")


def build(db: Path, practices: int, items: int, now: datetime) -> None:
    """Practices with worklists and channels, every one due at the minute before `now`."""
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    rng = random.Random(7)
    slot = now - timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(insert(Practice.__table__), [{"id": f"bp{i:04d}", "name": f"Bench Practice {i}",
                                                   "timezone": "UTC", "created_at": now} for i in range(practices)])
        for i in range(practices):
            pid = f"bp{i:04d}"
            conn.execute(insert(Patient.__table__), [
                {"practice_id": pid, "resource_id": f"pat{j}", "identifiers": [], "family": f"Family{j}",
                 "given": f"Given{j}", "birth_date": datetime(1940 + j % 40, 1 + j % 12, 1 + j % 28).date(),
                 "gender": "female" if j % 2 else "male", "deceased": False} for j in range(items)])
            conn.execute(insert(WorklistItem.__table__), [
                {"practice_id": pid, "patient_id": f"pat{j}", "status": rng.choice(STATUSES),
                 "priority": round(rng.uniform(5, 60), 2), "risk_tier": rng.choice(("high", "rising", "low")),
                 "risk_score": rng.randint(0, 12), "gaps": [{"measure": "CMS122", "status": "open-gap",
                                                             "since": "2026-03-01"},
                                                            {"measure": "CMS130", "status": "prospective-gap",
                                                             "since": "2026-05-01"}][: 1 + j % 2],
                 "gap_signature": "", "closed_evidence": [], "created_at": now, "updated_at": now}
                for j in range(items)])
        conn.execute(insert(DeliverySchedule.__table__), [
            {"practice_id": f"bp{i:04d}", "days": "mon,tue,wed,thu,fri,sat,sun", "at": f"{slot:%H:%M}",
             "enabled": True, "webhook_secret": f"secret-{i}", "updated_at": now} for i in range(practices)])
    engine.dispose()


def add_channels(db: Path, practices: int, smtp_port: int, hook_url: str, created: datetime) -> None:
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM delivery_attempt"))
        conn.execute(text("DELETE FROM delivery"))
        conn.execute(text("DELETE FROM delivery_channel"))
        rows = []
        for i in range(practices):
            rows.append({"practice_id": f"bp{i:04d}", "kind": "email", "target": f"care{i}@bench.example",
                         "format": "html", "enabled": True, "created_at": created})
            rows.append({"practice_id": f"bp{i:04d}", "kind": "webhook", "target": hook_url, "format": "json",
                         "enabled": True, "created_at": created})
        conn.execute(insert(DeliveryChannel.__table__), rows)
    engine.dispose()


def smtp_process(port: int, ready, count) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
            return "250 OK"

    Controller(Handler(), hostname="127.0.0.1", port=port).start()
    ready.set()
    while True:
        time.sleep(3600)


def hook_process(port: int, ready, count) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with count.get_lock():
                count.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def caregaps_run(db: Path, settings) -> tuple[float, int]:
    """Seconds until every recorded delivery is sent, and how many were sent."""
    from caregaps.delivery.dispatch import deliver_due

    engine = make_engine(f"sqlite:///{db}")
    started = time.perf_counter()
    while True:
        outcomes = deliver_due(engine, settings)
        if not outcomes:
            break
        failed = [o for o in outcomes if o.status != "sent"]
        if failed:
            raise SystemExit(f"{len(failed)} deliveries not sent, e.g. {failed[0].error}")
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        sent = conn.execute(select(func.count()).select_from(Delivery.__table__)
                            .where(Delivery.__table__.c.status == "sent")).scalar()
    engine.dispose()
    return seconds, sent


def baseline_run(db: Path, settings, smtp_port: int, hook_url: str, practices: int) -> float:
    """The same messages (one practice's rendered email and JSON, sent once per practice) without caregaps."""
    import smtplib

    import httpx
    import orjson

    from caregaps.delivery.content import build_digest, digest_json
    from caregaps.delivery.email import build_message

    engine = make_engine(f"sqlite:///{db}")
    digest = build_digest(engine, "bp0000", None, utcnow(), settings.public_url)
    message = build_message(digest, settings.mail_from, ["care@bench.example"], "<baseline@bench>")
    body = orjson.dumps(digest_json(digest, 0, None))
    engine.dispose()

    def send_mail(_):
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
            client.send_message(message)

    client = httpx.Client(timeout=30)

    def post(_):
        client.post(hook_url, content=body, headers={"Content-Type": "application/json"})

    started = time.perf_counter()
    with ThreadPoolExecutor(settings.delivery_concurrency) as pool:
        list(pool.map(send_mail, range(practices)))
        list(pool.map(post, range(practices)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--practices", type=int, default=500)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3, help="repeat and report medians")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/caregaps-bench-delivery"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    template = args.workdir / f"delivery-{args.practices}x{args.items}.db"
    if not template.exists():
        print(f"building {args.practices} practices x {args.items} worklist items ...", flush=True)
        build(template, args.practices, args.items, utcnow())
    engine = make_engine(f"sqlite:///{template}")
    migrate(engine)  # a store cached by an older version gets the new schema
    with engine.connect() as conn:  # into the main file, which is what each run copies
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()

    smtp_port, hook_port = free_port(), free_port()
    hook_url = f"http://127.0.0.1:{hook_port}/hook"
    mails, hooks = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    servers = []
    for target, port, count in ((smtp_process, smtp_port, mails), (hook_process, hook_port, hooks)):
        ready = multiprocessing.Event()
        proc = multiprocessing.Process(target=target, args=(port, ready, count), daemon=True)
        proc.start()
        ready.wait(30)
        servers.append(proc)
    settings = get_settings(database_url="sqlite:///unused", smtp_host="127.0.0.1", smtp_port=smtp_port,
                            public_url="https://caregaps.example.org", webhook_allow_private=True)  # loopback receiver
    ours, theirs = [], []
    try:
        for run in range(args.runs):
            db = args.workdir / "run.db"
            shutil.copy(template, db)
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            # every practice is due at the minute that just passed; its channels were added a day before
            engine = make_engine(f"sqlite:///{db}")
            with engine.begin() as conn:
                conn.execute(text("UPDATE delivery_schedule SET at = :at"),
                             {"at": f"{utcnow() - timedelta(minutes=1):%H:%M}"})
            engine.dispose()
            add_channels(db, args.practices, smtp_port, hook_url, utcnow() - timedelta(days=1))
            before = (mails.value, hooks.value)
            seconds, sent = caregaps_run(db, settings.model_copy(update={"database_url": f"sqlite:///{db}"}))
            got = (mails.value - before[0], hooks.value - before[1])
            if sent != 2 * args.practices or got != (args.practices, args.practices):
                raise SystemExit(f"run {run}: {sent} sent, receivers got {got}")
            ours.append(seconds)
            theirs.append(baseline_run(db, settings, smtp_port, hook_url, args.practices))
            print(f"run {run + 1}: caregaps {seconds:.1f} s, baseline {theirs[-1]:.1f} s", flush=True)
    finally:
        for proc in servers:
            proc.terminate()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours_med, theirs_med = statistics.median(ours), statistics.median(theirs)
    print(f"{args.practices} practices x {args.items} items, 2 channels each ({2 * args.practices} deliveries), "
          f"concurrency {settings.delivery_concurrency}, medians of {args.runs} runs")
    print(f"caregaps: all delivered in {ours_med:.1f} s ({2 * args.practices / ours_med:.0f} deliveries/s), "
          f"peak RSS {rss:.0f} MB")
    print(f"baseline (same messages sent straight, nothing rendered or recorded): {theirs_med:.1f} s; "
          f"ratio {ours_med / theirs_med:.1f}x")
    print(f"target: all {args.practices} within 60 s -> {'met' if ours_med <= 60 else 'missed'}")


if __name__ == "__main__":
    main()
