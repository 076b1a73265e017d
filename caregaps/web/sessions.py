"""Signed session cookies (HMAC-SHA256, stdlib), CSRF tokens tied to the session, and a sign-in throttle.

The cookie holds the user id, an expiry and a random session id; it is HttpOnly, SameSite=Lax and
Secure unless the app runs on plain http://127.0.0.1 for development (CAREGAPS_SECURE_COOKIES).
The CSRF token of a form is an HMAC of the session id, so it cannot be forged without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from pathlib import Path

COOKIE = "caregaps_session"
LIFETIME = 12 * 3600


def secret_key(configured: str | None, data_dir: Path) -> bytes:
    """CAREGAPS_SECRET_KEY, else a random key kept in the data folder (created once, mode 0600)."""
    if configured:
        return configured.encode()
    path = data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def _sign(key: bytes, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode().rstrip("=")


def make_cookie(key: bytes, user_id: int, now: float | None = None) -> str:
    body = json.dumps({"uid": user_id, "exp": int((now or time.time()) + LIFETIME),
                       "sid": secrets.token_urlsafe(16)}, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{payload}.{_sign(key, payload.encode())}"


def read_cookie(key: bytes, value: str | None, now: float | None = None) -> dict | None:
    """The session in a cookie, or None if it is missing, forged or expired."""
    if not value or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(key, payload.encode())):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    return data if data.get("exp", 0) > (now or time.time()) else None


def csrf_token(key: bytes, session: dict) -> str:
    return _sign(key, b"csrf:" + session["sid"].encode())


def csrf_ok(key: bytes, session: dict | None, token: str | None) -> bool:
    return bool(session and token) and hmac.compare_digest(token, csrf_token(key, session))


class Throttle:
    """At most `limit` failed sign-ins per email (and per client address) in `window` seconds."""

    def __init__(self, limit: int = 5, window: int = 900) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, list[float]] = defaultdict(list)

    def _recent(self, key: str, now: float) -> list[float]:
        self.failures[key] = [t for t in self.failures[key] if now - t < self.window]
        return self.failures[key]

    def blocked(self, *keys: str, now: float | None = None) -> bool:
        now = now or time.time()
        return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str, now: float | None = None) -> None:
        now = now or time.time()
        for k in keys:
            self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        for k in keys:
            self.failures.pop(k, None)
