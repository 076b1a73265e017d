"""The ASGI entry point for uvicorn worker processes: `caregaps.web.asgi:create` (a factory).

With several workers uvicorn starts each process from an import string, not from an app object,
so each worker builds its own app (engine, settings) from the environment here.
"""

from __future__ import annotations

from fastapi import FastAPI

from caregaps.config import get_settings
from caregaps.web.app import create_app


def create() -> FastAPI:
    return create_app(get_settings())
