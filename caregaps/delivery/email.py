"""The email channel: the worklist as an HTML message (Jinja2) with a CSV attachment, over SMTP.

The Message-ID is made from the delivery's identity (practice, channel, slot), so if a sender
dies after the server accepted a message but before the delivery was marked sent, the retry
carries the same Message-ID and mail systems that de-duplicate show it once.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from caregaps.config import Settings
from caregaps.delivery.content import Digest, digest_csv, gap_measures
from caregaps.engine.codes import GapStatus

TEMPLATES = Path(__file__).parent.parent / "web" / "templates"
HTML_ROWS = 100  # the body lists the first rows; the CSV attachment has them all


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals.update(gap_measures=gap_measures, GapStatus=GapStatus)
    return env


def render_html(digest: Digest) -> str:
    """The email's HTML body (also what the delivery page previews)."""
    return _environment().get_template("email/worklist.html").render(d=digest, rows=digest.items[:HTML_ROWS],
                                                                      more=max(0, len(digest.items) - HTML_ROWS))


def render_text(digest: Digest) -> str:
    lines = [digest.subject(), "", f"{digest.new_gaps} new and {digest.closed_gaps} closed gaps since the last "
             "delivery.", f"The worklist is attached as CSV; open it in caregaps: {digest.base_url.rstrip('/')}/worklist",
             ""]
    for item in digest.items[:HTML_ROWS]:
        lines.append(f"{item['priority']:>6g}  {item['patient_name'] or item['patient_id']}  "
                     f"open: {gap_measures(item, GapStatus.OPEN) or '-'}  {digest.link(item)}")
    return "\n".join(lines) + "\n"


def build_message(digest: Digest, sender: str, recipients: list[str], message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = digest.subject()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(render_text(digest))
    message.add_alternative(render_html(digest), subtype="html")
    day = digest.generated_at.date().isoformat()
    message.add_attachment(digest_csv(digest).encode(), maintype="text", subtype="csv",
                           filename=f"worklist-{digest.practice_id}-{day}.csv")
    return message


def send_message(settings: Settings, message: EmailMessage) -> str | None:
    """Send over SMTP as configured (CAREGAPS_SMTP_*). Raises if the server takes the message for
    nobody; if it refuses only some recipients, the message went out, and the refusals are returned
    (a retry would send it again to those who have it)."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    if settings.smtp_security == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password or "")
        refused = client.send_message(message)
    if refused:
        return "refused by the server: " + "; ".join(f"{address} ({code} {reason.decode(errors='replace')})"
                                                     for address, (code, reason) in refused.items())
    return None
