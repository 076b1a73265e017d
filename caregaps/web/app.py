"""The FastAPI application factory: one app per settings object, nothing built at import."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime

import anyio

from fastapi import FastAPI, Request
from fastapi.responses import Response

from caregaps.config import Settings, get_settings
from caregaps.db import make_engine, migrate
from caregaps.engine.runs import system_clock
from caregaps.fhir.outcome import error
from caregaps.ingest.runner import JobRunner
from caregaps.web import (api, dashboard_api, delivery_api, fhir_ingest, fhir_measures, pages, pages_app,
                          pages_dashboard, pages_delivery, worklist_api)
from caregaps.web import aco_api, pages_aco, users_api
from caregaps.web.deps import AuthError, RequestTooLarge
from caregaps.web.limits import BodyLimit
from caregaps.web.sessions import Throttle, secret_key


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] = system_clock) -> FastAPI:
    """The app; `clock` gives the instant that "today" (the default period, the as-of day) is read at."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.database_url)
        migrate(engine)
        app.state.engine, app.state.settings = engine, settings
        app.state.secret_key = secret_key(settings.secret_key, settings.data_dir)
        app.state.throttle = Throttle()
        app.state.page_turn = anyio.Lock()  # see deps.page_turn
        app.state.runner = JobRunner(engine, settings.ingest_batch_size, settings.ingest_workers)
        _resume_imports_once(engine, app.state.runner)
        app.state.scheduler = _start_scheduler(settings, engine)
        yield
        if app.state.scheduler is not None:
            app.state.scheduler.stop()
        app.state.runner.shutdown()
        engine.dispose()

    app = FastAPI(title="caregaps", version="0.1.0", lifespan=lifespan,
                  description="Care gaps over FHIR R4: ingest, data quality, measures, worklists.")
    app.state.clock = clock
    for module in (fhir_ingest, fhir_measures, api, worklist_api, pages, pages_app, delivery_api, pages_delivery,
                   dashboard_api, pages_dashboard, aco_api, pages_aco, users_api):
        app.include_router(module.router)
    app.add_exception_handler(pages_app.SignInRequired, pages_app.signin_redirect)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)

    @app.exception_handler(AuthError)
    async def unauthorized(_: Request, exc: AuthError) -> Response:
        return _fhir_error(401, str(exc), "login", {"WWW-Authenticate": 'Bearer realm="caregaps"'})

    @app.exception_handler(RequestTooLarge)
    async def too_large(_: Request, exc: RequestTooLarge) -> Response:
        return _fhir_error(413, f"request body is larger than the limit of {settings.max_request_bytes} "
                           "bytes (CAREGAPS_MAX_REQUEST_BYTES)", "too-long")

    return app


def _resume_imports_once(engine, runner: JobRunner, holder: str | None = None) -> list[str] | None:
    """Resume unfinished async imports in one process only: with several web workers starting
    together, the first to take a short lease resumes them (their ids) and the others do not (None)."""
    from caregaps.delivery.dispatch import holder_name
    from caregaps.scheduler import Lease

    if Lease(engine, holder or holder_name(), 30, name="import-resume").acquire():
        return runner.resume_unfinished()
    return None


def _start_scheduler(settings: Settings, engine):
    """The embedded scheduler (CAREGAPS_SCHEDULER=embedded): it acts only while it holds the lease."""
    if settings.scheduler != "embedded":
        return None
    from caregaps.scheduler import SchedulerService

    service = SchedulerService(settings, engine)
    service.start()
    return service


def _fhir_error(status: int, message: str, code: str, headers: dict | None = None) -> Response:
    return Response(error(message, code).model_dump_json(exclude_none=True), status_code=status,
                    media_type="application/fhir+json", headers=headers)
