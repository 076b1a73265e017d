"""Worklist delivery against a real SMTP server and a real HTTP receiver on loopback: the email's
content and CSV attachment, signed webhooks (JSON and FHIR Tasks), retries with backoff, no
duplicate after a crash or with two senders, missed slots sent once, daylight-saving days."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, datetime, timedelta

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select, update

from caregaps.config import get_settings
from caregaps.delivery.dispatch import claim_due, deliver_due, record_due, record_now, send_claimed
from caregaps.delivery.log import delivery_log
from caregaps.delivery.models import Delivery, DeliveryChannel
from caregaps.delivery.settings import SettingsError, add_channel, delivery_settings, set_schedule
from caregaps.delivery.webhook import IDEMPOTENCY, SIGNATURE, TIMESTAMP, verify
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import run_measure
from caregaps.models import utcnow
from caregaps.practices import add_practice
from caregaps.worklist.sync import refresh_worklist
from tests.measure_data import diabetic, hba1c, load
from tests.receivers import http_receiver, smtp_server

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)
CMS122 = load_catalog().get("CMS122")


def evaluate(engine) -> None:
    run_measure(engine, CMS122, "p1", START, END, as_of=TODAY)
    refresh_worklist(engine, "p1", START, END, TODAY)


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def receiver():
    with http_receiver() as r:
        yield r


@pytest.fixture
def settings(database_url, smtp, tmp_path):
    host, port, _ = smtp
    return get_settings(database_url=database_url, data_dir=tmp_path / "var", smtp_host=host, smtp_port=port,
                        delivery_retry_seconds=0, delivery_max_attempts=4, public_url="https://caregaps.example.org",
                        webhook_allow_private=True)  # the receivers below are on loopback


@pytest.fixture
def practice_with_gaps(engine, tmp_path):
    """p1 (Chicago) with two CMS122 gaps (HbA1c 9.4 and none) and one patient in control."""
    add_practice(engine, "p1", "Riverside Family Medicine", "America/Chicago")
    load(engine, "p1", diabetic("high", 9.4) + diabetic("ok", 7.0) + diabetic("missing", None), tmp_path)
    return "p1"


def test_the_email_has_the_prioritised_worklist_gap_counts_and_a_csv_but_no_patient_in_the_subject(
        engine, settings, smtp, practice_with_gaps, tmp_path):
    _, _, inbox = smtp
    # given an email channel added before the gaps were found
    add_channel(engine, "p1", "email", "care@riverside.example, lead@riverside.example")
    evaluate(engine)
    # when the practice's worklist is sent now
    record_now(engine, "p1", utcnow())
    [outcome] = deliver_due(engine, settings)
    # then one message reaches both recipients
    assert outcome.status == "sent" and outcome.item_count == 2
    [(sender, recipients, message)] = inbox.messages
    assert recipients == ["care@riverside.example", "lead@riverside.example"]
    subject = message["Subject"]
    assert "Riverside Family Medicine" in subject and "2 patients, 2 new and 0 closed gaps" in subject
    assert "high" not in subject.lower().replace("riverside", "") and "missing" not in subject
    html = message.get_body(("html",)).get_content()
    assert "https://caregaps.example.org/patients/p1/high" in html and "CMS122" in html
    assert "<strong>2</strong> new gaps" in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename().startswith("worklist-p1-") and attachment.get_content_type() == "text/csv"
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert {r["patient_id"] for r in rows} == {"high", "missing"}
    assert all(r["open_gaps"] == "CMS122" and r["link"].startswith("https://") for r in rows)
    assert float(rows[0]["priority"]) >= float(rows[1]["priority"])

    # given new data that closes one gap
    load(engine, "p1", [hba1c("high-a1c-2", "high", 6.8, "2026-10-01")], tmp_path)
    evaluate(engine)
    # when the next delivery goes out, then it counts the gap closed since the last one
    record_now(engine, "p1", utcnow() + timedelta(seconds=2))
    deliver_due(engine, settings, now=utcnow() + timedelta(seconds=2))
    assert "1 patient, 0 new and 1 closed gaps" in inbox.messages[1][2]["Subject"]
    assert inbox.messages[0][2]["Message-ID"] != inbox.messages[1][2]["Message-ID"]


def test_webhook_json_is_signed_over_timestamp_and_body(engine, settings, receiver, practice_with_gaps):
    evaluate(engine)
    add_channel(engine, "p1", "webhook", receiver.url, "json", allow_private=True)
    secret = delivery_settings(engine, "p1").schedule.webhook_secret
    record_now(engine, "p1", utcnow())
    [outcome] = deliver_due(engine, settings)
    assert outcome.status == "sent"
    [(path, headers, body)] = receiver.requests
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    assert verify(secret, headers[TIMESTAMP], body, headers[SIGNATURE])
    assert not verify(secret, headers[TIMESTAMP], body + b" ", headers[SIGNATURE])  # a changed body fails
    assert not verify("another-secret", headers[TIMESTAMP], body, headers[SIGNATURE])
    assert not verify(secret, headers[TIMESTAMP], body, headers[SIGNATURE], now=int(headers[TIMESTAMP]) + 3600)
    payload = orjson.loads(body)
    assert payload["practice"]["id"] == "p1" and payload["counts"]["items"] == 2
    assert [i["patient_id"] for i in payload["items"]] == ["high", "missing"] or \
        [i["patient_id"] for i in payload["items"]] == ["missing", "high"]
    assert headers[IDEMPOTENCY] == f"caregaps-delivery-{outcome.delivery_id}"


def test_webhook_fhir_is_a_valid_bundle_of_one_task_per_item(engine, settings, receiver, practice_with_gaps):
    evaluate(engine)
    add_channel(engine, "p1", "webhook", receiver.url, "fhir", allow_private=True)
    record_now(engine, "p1", utcnow())
    deliver_due(engine, settings)
    [(_, headers, body)] = receiver.requests
    assert headers["Content-Type"] == "application/fhir+json"
    bundle = Bundle.model_validate_json(body)  # R4B: valid by construction
    tasks = [e.resource for e in bundle.entry]
    assert bundle.type == "collection" and len(tasks) == 2
    assert {t.for_fhir.reference for t in tasks} == {"Patient/high", "Patient/missing"}
    assert all(t.status == "requested" and t.intent == "plan" for t in tasks)
    assert all(t.owner.reference == "Organization/p1" and t.input[0].valueCodeableConcept.text == "CMS122"
               for t in tasks)


def test_a_receiver_that_fails_twice_gets_the_delivery_on_the_third_attempt(engine, settings, receiver,
                                                                            practice_with_gaps):
    evaluate(engine)
    add_channel(engine, "p1", "webhook", receiver.url, allow_private=True)
    receiver.fail_first = 2
    record_now(engine, "p1", utcnow())
    assert [o.status for o in deliver_due(engine, settings)] == ["pending"]  # a retry is due
    assert [o.status for o in deliver_due(engine, settings)] == ["pending"]
    assert [o.status for o in deliver_due(engine, settings)] == ["sent"]
    assert deliver_due(engine, settings) == []
    assert len(receiver.requests) == 1
    [entry] = delivery_log(engine, "p1", with_attempts=True)
    assert entry["status"] == "sent" and entry["attempts"] == 3
    assert [a["outcome"] for a in entry["attempt_log"]] == ["failed", "failed", "sent"]
    assert "HTTP 503" in entry["attempt_log"][0]["error"]


def test_retries_back_off_exponentially_and_give_up_after_the_last_attempt(engine, settings, practice_with_gaps):
    slow = settings.model_copy(update={"delivery_retry_seconds": 60, "smtp_port": 9})  # nothing listens on 9
    add_channel(engine, "p1", "email", "care@riverside.example")
    set_schedule(engine, "p1", enabled=False)  # only the send-now delivery below
    start = utcnow()
    record_now(engine, "p1", start)
    waits = []
    for attempt in range(1, 5):
        [outcome] = deliver_due(engine, slow, now=start + timedelta(seconds=sum(waits) + 1))
        with engine.connect() as conn:
            row = conn.execute(select(Delivery.__table__)).one()
        if attempt < 4:
            assert outcome.status == "pending" and "ConnectionRefusedError" in outcome.error
            waits.append((row.next_attempt_at - utcnow()).total_seconds())
        else:
            assert outcome.status == "failed" and row.status == "failed"
    assert [round(w / 60) for w in waits] == [1, 2, 4]  # 60 s, 120 s, 240 s
    assert deliver_due(engine, slow, now=start + timedelta(days=1)) == []  # failed stays failed


def test_a_crash_between_recording_and_sending_sends_once_after_the_claim_expires(engine, settings, smtp,
                                                                                  practice_with_gaps):
    _, _, inbox = smtp
    evaluate(engine)
    add_channel(engine, "p1", "email", "care@riverside.example")
    now = utcnow()
    record_now(engine, "p1", now)
    # given a sender that recorded and claimed the delivery, then died before sending
    [claimed] = claim_due(engine, now, "dead-process", claim_seconds=120)
    # when another sender runs while the claim is live, then it sends nothing
    assert deliver_due(engine, settings, now=now + timedelta(seconds=30)) == []
    assert inbox.messages == []
    # when the claim has expired, then the delivery is sent once, and never again
    [outcome] = deliver_due(engine, settings, now=now + timedelta(seconds=121))
    assert outcome.delivery_id == claimed and outcome.status == "sent"
    assert deliver_due(engine, settings, now=now + timedelta(seconds=500)) == []
    assert len(inbox.messages) == 1
    # and the dead process, come back, cannot finish what it no longer holds
    assert send_claimed(engine, settings, claimed, "dead-process").status == "sent"
    assert len(inbox.messages) == 1


def test_two_senders_at_once_send_each_slot_once(engine, settings, smtp, receiver, practice_with_gaps):
    _, _, inbox = smtp
    evaluate(engine)
    add_channel(engine, "p1", "email", "care@riverside.example")
    add_channel(engine, "p1", "webhook", receiver.url, allow_private=True)
    _backdate_channels(engine, days=3)
    now = utcnow()
    barrier = threading.Barrier(2)

    def sender(name):
        barrier.wait()
        deliver_due(engine, settings, now=now, holder=name)

    threads = [threading.Thread(target=sender, args=(f"sender-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(inbox.messages) == 1 and len(receiver.requests) == 1
    assert sorted(d["status"] for d in delivery_log(engine, "p1")) == ["sent", "sent"]


def test_slots_missed_during_downtime_are_sent_once_not_once_per_slot(engine, settings, smtp, practice_with_gaps):
    _, _, inbox = smtp
    evaluate(engine)
    set_schedule(engine, "p1", days="daily", at="07:00")
    add_channel(engine, "p1", "email", "care@riverside.example")
    _backdate_channels(engine, days=6)  # six mornings went by with the scheduler down
    now = utcnow()
    outcomes = deliver_due(engine, settings, now=now)
    assert [o.status for o in outcomes] == ["sent"] and len(inbox.messages) == 1
    assert deliver_due(engine, settings, now=now + timedelta(minutes=5)) == []
    [entry] = delivery_log(engine, "p1")
    slot = datetime.fromisoformat(entry["slot"].rstrip("Z"))
    assert now - timedelta(days=1) < slot <= now  # the latest missed slot


def test_daily_deliveries_across_the_spring_forward_weekend_come_at_seven_local(engine, settings, smtp,
                                                                               practice_with_gaps):
    _, _, inbox = smtp
    set_schedule(engine, "p1", days="daily", at="07:00")
    add_channel(engine, "p1", "email", "care@riverside.example")
    with engine.begin() as conn:
        conn.execute(update(DeliveryChannel.__table__).values(created_at=datetime(2026, 3, 6, 0, 0)))
    # a scheduler ticking every 30 minutes from Friday to Tuesday
    moment = datetime(2026, 3, 6, 0, 0)
    while moment < datetime(2026, 3, 10, 23, 0):
        record_due(engine, moment)
        moment += timedelta(minutes=30)
    with engine.connect() as conn:
        slots = list(conn.execute(select(Delivery.__table__.c.slot).order_by(Delivery.__table__.c.slot)).scalars())
    assert slots == [datetime(2026, 3, 6, 13), datetime(2026, 3, 7, 13), datetime(2026, 3, 8, 12),
                     datetime(2026, 3, 9, 12), datetime(2026, 3, 10, 12)]


def test_a_paused_schedule_or_channel_records_nothing(engine, settings, practice_with_gaps):
    add_channel(engine, "p1", "email", "care@riverside.example")
    _backdate_channels(engine, days=3)
    set_schedule(engine, "p1", enabled=False)
    assert record_due(engine, utcnow()) == 0
    set_schedule(engine, "p1", enabled=True)
    assert record_due(engine, utcnow()) == 1


@pytest.mark.parametrize("kind, target, fmt, message", [
    ("email", "not-an-address", None, "'not-an-address' is not an email address"),
    ("email", "", None, "at least one email address"),
    ("webhook", "http://hooks.example.org/x", None, "must use https"),
    ("webhook", "ftp://example.org", None, r"is not an http\(s\) URL"),
    ("webhook", "https://10.0.0.5/hook", None, "points at a private or local address"),
    ("webhook", "https://169.254.169.254/latest", None, "points at a private or local address"),
    ("webhook", "http://127.0.0.1:9000/hook", None, "must use https"),
    ("webhook", "https://hooks.example.org/x", "xml", "format: a webhook channel takes json or fhir"),
    ("sms", "+15555550100", None, "kind: must be one of email, webhook"),
])
def test_bad_channels_are_refused_naming_the_field(engine, practice_with_gaps, kind, target, fmt, message):
    with pytest.raises(SettingsError, match=message):
        add_channel(engine, "p1", kind, target, fmt)


def _backdate_channels(engine, days: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(DeliveryChannel.__table__).values(created_at=utcnow() - timedelta(days=days)))


def test_a_webhook_to_a_private_address_is_refused_when_sent_too(engine, settings, receiver, practice_with_gaps):
    # given a channel to loopback, allowed when it was added, and a server that does not allow it
    add_channel(engine, "p1", "webhook", receiver.url, allow_private=True)
    strict = settings.model_copy(update={"webhook_allow_private": False})
    record_now(engine, "p1", utcnow())
    [outcome] = deliver_due(engine, strict)
    assert outcome.status == "pending" and "is a private or local address" in outcome.error
    assert receiver.requests == []


def test_a_partly_refused_email_counts_as_sent_and_names_the_refused_address(engine, settings, practice_with_gaps):
    from aiosmtpd.controller import Controller

    from tests.receivers import Inbox, free_port

    class Picky(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("gone@"):
                return "550 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    inbox, port = Picky(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        add_channel(engine, "p1", "email", "care@riverside.example, gone@riverside.example")
        record_now(engine, "p1", utcnow())
        [outcome] = deliver_due(engine, settings.model_copy(update={"smtp_port": port}))
    finally:
        controller.stop()
    assert outcome.status == "sent" and "gone@riverside.example (550" in outcome.error
    assert [m[1] for m in inbox.messages] == [["care@riverside.example"]]
    assert deliver_due(engine, settings.model_copy(update={"smtp_port": port})) == []  # no resend to care@


def test_a_paused_channel_gets_no_retries(engine, settings, receiver, practice_with_gaps):
    from caregaps.delivery.settings import set_channel_enabled

    channel = add_channel(engine, "p1", "webhook", receiver.url, allow_private=True)
    receiver.fail_first = 1
    record_now(engine, "p1", utcnow())
    assert [o.status for o in deliver_due(engine, settings)] == ["pending"]
    set_channel_enabled(engine, "p1", channel.id, False)
    assert deliver_due(engine, settings) == [] and receiver.requests == []
