"""The delivery commands: set a schedule, add channels, send now to a real SMTP server and a
real webhook receiver, read the log; bad settings exit 2 naming the field, unknown practices 4."""

from __future__ import annotations

import os
import subprocess
import sys

from caregaps.delivery.webhook import SIGNATURE, TIMESTAMP, verify
from tests.receivers import http_receiver, smtp_server


def caregaps(database_url: str, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "caregaps", *args],
                          env={**os.environ, "CAREGAPS_DATABASE_URL": database_url, **env},
                          capture_output=True, text=True, timeout=120)


def test_delivery_is_set_up_and_sent_from_the_command_line(database_url):
    assert caregaps(database_url, "practice", "add", "--id", "p9", "--name", "North Clinic",
                    "--timezone", "America/Denver").returncode == 0
    schedule = caregaps(database_url, "delivery", "schedule", "--practice", "p9", "--days", "weekdays", "--at", "06:45")
    assert schedule.returncode == 0 and "p9: mon,tue,wed,thu,fri at 06:45 (enabled)" in schedule.stdout
    bad = caregaps(database_url, "delivery", "schedule", "--practice", "p9", "--at", "quarter to seven")
    assert bad.returncode == 2 and "at: 'quarter to seven' is not a time of day" in bad.stderr
    assert caregaps(database_url, "deliver", "--practice", "p9", "--now").returncode == 4  # no channel yet
    with smtp_server() as (host, port, inbox), http_receiver() as receiver:
        assert caregaps(database_url, "delivery", "add-email", "--practice", "p9", "--to", "care@north.example"
                        ).returncode == 0
        refused = caregaps(database_url, "delivery", "add-webhook", "--practice", "p9", "--url", receiver.url)
        assert refused.returncode == 2 and "must use https" in refused.stderr  # loopback needs the setting
        hook = caregaps(database_url, "delivery", "add-webhook", "--practice", "p9", "--url", receiver.url,
                        "--format", "fhir", CAREGAPS_WEBHOOK_ALLOW_PRIVATE="true")
        assert hook.returncode == 0 and "channel 2: webhook fhir" in hook.stdout
        secret = hook.stdout.rsplit(": ", 1)[1].strip()
        sent = caregaps(database_url, "deliver", "--practice", "p9", "--now",
                        CAREGAPS_SMTP_HOST=host, CAREGAPS_SMTP_PORT=str(port), CAREGAPS_WEBHOOK_ALLOW_PRIVATE="true")
        assert sent.returncode == 0, sent.stderr
        assert "(email): sent, 0 items" in sent.stdout and "(webhook): sent, 0 items" in sent.stdout
        assert len(inbox.messages) == 1
        [(_, headers, body)] = receiver.requests
        assert verify(secret, headers[TIMESTAMP], body, headers[SIGNATURE])
    shown = caregaps(database_url, "delivery", "show", "--practice", "p9")
    assert "schedule: mon,tue,wed,thu,fri at 06:45 America/Denver (enabled); next" in shown.stdout
    assert "channel 1: email html care@north.example" in shown.stdout
    log = caregaps(database_url, "delivery", "log", "--practice", "p9")
    assert log.stdout.count("\tsent\t") == 2 and "manual" in log.stdout
    # nothing listens on port 9: the attempt fails, is logged, and the command says so
    failed = caregaps(database_url, "deliver", "--practice", "p9", "--now", CAREGAPS_SMTP_PORT="9")
    assert failed.returncode == 5 and "pending" in failed.stdout and "ConnectionRefusedError" in failed.stdout
    assert caregaps(database_url, "delivery", "show", "--practice", "nope").returncode == 4
