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

    @property
    def import_dir(self) -> Path:
        """Where uploaded import files are kept (the original payloads)."""
        return self.data_dir / "imports"


def get_settings(**overrides) -> Settings:
    """Build the settings now, from the environment, with optional explicit overrides."""
    return Settings(**overrides)
