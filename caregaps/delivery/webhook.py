"""The webhook channel: the worklist POSTed as JSON (or a FHIR Bundle of Tasks), signed.

Signature: `X-Caregaps-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the practice's
webhook secret, over `<timestamp>.<body>` where the timestamp (Unix seconds) is sent as
`X-Caregaps-Timestamp`. A receiver recomputes it, compares in constant time, and rejects old
timestamps (replays). `Idempotency-Key` names the delivery, so a retry of a delivery the
receiver already took can be recognised and dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import httpx
import orjson

from caregaps.config import Settings

SIGNATURE, TIMESTAMP, IDEMPOTENCY = "X-Caregaps-Signature", "X-Caregaps-Timestamp", "Idempotency-Key"


_clients: dict[float, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(timeout: float) -> httpx.Client:
    """One pooled client per process (building one loads the CA bundle: ~50 ms), shared by threads."""
    with _clients_lock:
        if timeout not in _clients:
            _clients[timeout] = httpx.Client(timeout=timeout, headers={"User-Agent": "caregaps-delivery"})
        return _clients[timeout]


class WebhookError(RuntimeError):
    """The receiver did not take the delivery (connection error or a non-2xx answer)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, header: str, now: float | None = None,
           tolerance: float = 300) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(signature(secret, timestamp, body), header or "")


def _refuse_private(url: str) -> None:
    """Refuse a URL whose host resolves to a private, loopback or link-local address (SSRF)."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise WebhookError(f"POST {url}: cannot resolve {parts.hostname}: {exc}") from None
    for *_, sockaddr in infos:
        if not ipaddress.ip_address(sockaddr[0].split("%")[0]).is_global:
            raise WebhookError(f"POST {url}: {parts.hostname} is a private or local address "
                               "(CAREGAPS_WEBHOOK_ALLOW_PRIVATE allows it)")


def post(settings: Settings, url: str, secret: str, payload: dict, content_type: str, key: str) -> int:
    """POST the signed payload; the HTTP status, or WebhookError naming what went wrong."""
    if not settings.webhook_allow_private:
        _refuse_private(url)
    body = orjson.dumps(payload)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": content_type, TIMESTAMP: timestamp, SIGNATURE: signature(secret, timestamp, body),
               IDEMPOTENCY: key}
    try:
        response = _client(settings.webhook_timeout).post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise WebhookError(f"POST {url}: {type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise WebhookError(f"POST {url}: HTTP {response.status_code}")  # the body is not kept: it is the receiver's
    return response.status_code
