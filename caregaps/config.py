"""Settings from environment variables with the CAREGAPS_ prefix (and an optional .env file).

Settings are built on demand by `get_settings()`, never at import time, so tests and commands
can change the environment before anything reads it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAREGAPS_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/caregaps.db"
    data_dir: Path = Path("var")
    max_request_bytes: int = 256 * 1024 * 1024
    strict_validation: bool = False
    ingest_batch_size: int = 2000
    ingest_workers: int = 1  # processes that check large NDJSON files while this one writes; 0: none
    secret_key: str | None = None  # signs session cookies; default: a random key kept in data_dir
    secure_cookies: bool = False  # set true behind HTTPS so session cookies are Secure
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = 1  # uvicorn worker processes for `caregaps serve`

    # delivery of worklists (email over SMTP, webhooks) and the scheduler that sends them
    public_url: str = "http://127.0.0.1:8000"  # links in delivered worklists point here
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025  # mailpit's SMTP port
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"  # none, starttls or ssl
    smtp_timeout: float = 30
    mail_from: str = "caregaps <caregaps@localhost>"
    scheduler: str = "embedded"  # embedded: runs inside `caregaps serve`; off: run `caregaps scheduler`
    scheduler_tick_seconds: float = 30  # how often the scheduler looks for due deliveries
    scheduler_lease_seconds: float = 90  # a scheduler that stops renewing its lease is replaced after this
    reevaluate_at: str = "01:00"  # local time (each practice's timezone) of the nightly re-evaluation
    delivery_retry_seconds: float = 60  # first retry after this, doubling each time
    delivery_max_attempts: int = 6
    delivery_concurrency: int = 8  # deliveries sent at once
    webhook_timeout: float = 30
    webhook_allow_private: bool = False  # let webhooks call private/loopback addresses (and http to localhost)

    # quality reporting
    aco_entity_id: str = "A0000"  # the ACO's APM Entity ID in QPP submissions

    @property
    def import_dir(self) -> Path:
        """Where uploaded import files are kept (the original payloads)."""
        return self.data_dir / "imports"


def get_settings(**overrides) -> Settings:
    """Build the settings now, from the environment, with optional explicit overrides."""
    return Settings(**overrides)
