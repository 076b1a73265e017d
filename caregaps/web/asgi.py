"""The ASGI entry point for uvicorn worker processes: `caregaps.web.asgi:create` (a factory).

With several workers uvicorn starts each process from an import string, not from an app object,
so each worker builds its own app (engine, settings) from the environment here.

Each worker runs page requests on at most THREADS threads (anyio's default is 40). Page requests
are CPU-bound Python that holds the GIL, so more threads per process only share one core among
more requests: each waits longer, and the pages that need the most CPU (the worklist) wait
longest. With a few threads, requests beyond them queue in arrival order and are served whole.
The worklist and patient reads go further and take turns, one at a time (deps.page_turn).
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from caregaps.config import get_settings
from caregaps.web.app import create_app

THREADS = 4


def create() -> FastAPI:
    app = create_app(get_settings())
    startup = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI):
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        async with startup(app_) as state:
            yield state

    app.router.lifespan_context = lifespan
    return app
