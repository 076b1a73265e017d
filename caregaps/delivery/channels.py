"""Send one digest over its channel: email (HTML + CSV over SMTP) or webhook (signed JSON or FHIR)."""

from __future__ import annotations

from caregaps.config import Settings
from caregaps.delivery.content import Digest, digest_json


def message_id(delivery: dict) -> str:
    """Stable per (practice, channel, slot): a retry of the same delivery has the same Message-ID."""
    return f"<delivery-{delivery['id']}.{delivery['slot']:%Y%m%dT%H%M%S}.{delivery['practice_id']}@caregaps>"


def idempotency_key(delivery: dict) -> str:
    return f"caregaps-delivery-{delivery['id']}"


def send(settings: Settings, delivery: dict, digest: Digest) -> str | None:
    """Send `digest` as `delivery` (a delivery row joined with its channel and the practice's secret);
    raises if it did not go out; returns a note for a partial success (recipients refused)."""
    if delivery["kind"] == "email":
        from caregaps.delivery.email import build_message, send_message

        recipients = delivery["target"].split(",")
        return send_message(settings, build_message(digest, settings.mail_from, recipients, message_id(delivery)))
    elif delivery["kind"] == "webhook":
        from caregaps.delivery.webhook import post

        if delivery["format"] == "fhir":
            from caregaps.fhir.tasks import task_bundle

            payload, content_type = task_bundle(digest).model_dump(mode="json", by_alias=True, exclude_none=True), \
                "application/fhir+json"
        else:
            payload, content_type = digest_json(digest, delivery["id"], delivery["slot"]), "application/json"
        post(settings, delivery["target"], delivery["webhook_secret"], payload, content_type,
             idempotency_key(delivery))
        return None
    else:
        raise ValueError(f"channel kind {delivery['kind']!r} is not email or webhook")
