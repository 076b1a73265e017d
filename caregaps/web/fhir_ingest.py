"""FHIR ingest endpoints: POST /fhir (a Bundle, synchronous) and the Bulk-style async
$import with its status and error NDJSON."""

from __future__ import annotations

import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlmodel import func, select

from caregaps.db import session
from caregaps.fhir.outcome import error, issue_dict, outcome, response_bundle, summary_outcome
from caregaps.ingest.jobs import Ingestor, complete_job, create_job, set_job
from caregaps.ingest.results import EntryResult
from caregaps.ingest.problems import Issue, Location
from caregaps.ingest.readers import bundle_entries
from caregaps.models import ImportIssue, ImportJob, utcnow
from caregaps.web.deps import EngineDep, PracticeDep, SettingsDep

router = APIRouter(prefix="/fhir", tags=["FHIR ingest"])
FHIR_JSON = "application/fhir+json"


def fhir_response(resource, status: int = 200, headers: dict | None = None) -> Response:
    return Response(resource.model_dump_json(exclude_none=True), status_code=status,
                    media_type=FHIR_JSON, headers=headers)


@router.post("", summary="Ingest a Bundle (transaction, batch, collection, ...)")
async def post_bundle(request: Request, practice: PracticeDep, engine: EngineDep, settings: SettingsDep):
    body = await request.body()
    try:
        bundle = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return fhir_response(error(f"request body is not valid JSON: {exc}", "structure"), 400)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        got = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        return fhir_response(error(f"POST /fhir takes a Bundle, got {got!r}; send single resources "
                                   "inside a Bundle or as NDJSON to $import", "not-supported",
                                   "Bundle.resourceType"), 400)
    job_id, results = await run_in_threadpool(_ingest_bundle, engine, settings, practice, bundle, body)
    headers = {"X-Import-Id": job_id}
    kind = bundle.get("type")
    if kind in ("transaction", "batch"):
        return fhir_response(response_bundle(kind, results), headers=headers)
    counts: dict[str, dict[str, int]] = {}
    for r in results:
        c = counts.setdefault(r.rtype or "unknown", {})
        c[r.outcome] = c.get(r.outcome, 0) + 1
    return fhir_response(summary_outcome(counts, results), headers=headers)


def _ingest_bundle(engine, settings, practice, bundle: dict, body: bytes) -> tuple[str, list[EntryResult]]:
    """Store a posted Bundle as an import job (on a worker thread: it writes to the database)."""
    job_id = str(uuid.uuid4())
    saved = _save(settings.import_dir / job_id / "bundle.json", body)
    job = create_job(engine, practice.id, "http-bundle", [(saved, "request")], settings.strict_validation,
                     job_id=job_id)
    set_job(engine, job.id, status="running", started_at=utcnow())
    results: list[EntryResult] = []
    try:
        Ingestor(engine, job, ZoneInfo(practice.timezone), settings.ingest_batch_size).run(
            bundle_entries(bundle, "request"), file_index=0, on_result=results.append)
    except Exception as exc:
        set_job(engine, job.id, status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=utcnow())
        raise
    complete_job(engine, job.id)
    return job.id, results


@router.post("/$import", status_code=202, name="start_import", summary="Start an async NDJSON import")
async def start_import(request: Request, practice: PracticeDep, engine: EngineDep, settings: SettingsDep):
    job_id = str(uuid.uuid4())
    folder = settings.import_dir / job_id
    files = await _receive_files(request, folder)
    if not files:
        folder.rmdir()
        return fhir_response(error("no NDJSON files in the request: send multipart/form-data file "
                                   "fields, or an application/fhir+ndjson body", "required"), 400)
    job = create_job(engine, practice.id, "http-import", files, settings.strict_validation, job_id=job_id)
    request.app.state.runner.submit(job.id)
    poll = str(request.url_for("import_status", job_id=job.id))
    return Response(status_code=202, headers={"Content-Location": poll})


@router.get("/$import-poll/{job_id}", name="import_status", summary="Status or manifest of an import")
def import_status(job_id: str, request: Request, practice: PracticeDep, engine: EngineDep):
    with session(engine) as s:
        job = s.get(ImportJob, job_id)
        if job is None or job.practice_id != practice.id:
            return fhir_response(error(f"no import {job_id} for this practice", "not-found"), 404)
        issues = s.exec(select(func.count()).select_from(ImportIssue)
                        .where(ImportIssue.import_id == job_id)).one()
    if job.status in ("queued", "running"):
        processed = sum(sum(c.values()) for c in job.counts.values())
        return Response(status_code=202, headers={
            "X-Progress": f"{job.status}: {processed} resources processed", "Retry-After": "2"})
    if job.status == "failed":
        return fhir_response(error(f"import {job_id} failed: {job.error}; the store is consistent and "
                                   "the job resumes when the server restarts", "exception"), 500)
    base = str(request.url_for("import_status", job_id=job_id))
    return _manifest(job, base, issues, str(request.url_for("start_import")))


def _manifest(job: ImportJob, base: str, issue_count: int, request_url: str) -> Response:
    output = [{"type": t, "count": c.get("stored", 0) + c.get("unchanged", 0),
               "stored": c.get("stored", 0), "unchanged": c.get("unchanged", 0),
               "rejected": c.get("rejected", 0), "deleted": c.get("deleted", 0)}
              for t, c in sorted(job.counts.items())]
    manifest = {
        "transactionTime": (job.finished_at or job.created_at).isoformat() + "Z",
        "request": request_url,
        "requiresAccessToken": True,
        "output": output,
        "error": [{"type": "OperationOutcome", "url": f"{base}/errors.ndjson", "count": issue_count}]
        if issue_count else [],
    }
    return Response(orjson.dumps(manifest), media_type="application/json")


@router.get("/$import-poll/{job_id}/errors.ndjson", summary="The import's problems as OperationOutcome NDJSON")
def import_errors(job_id: str, practice: PracticeDep, engine: EngineDep):
    with session(engine) as s:
        job = s.get(ImportJob, job_id)
    if job is None or job.practice_id != practice.id:
        return fhir_response(error(f"no import {job_id} for this practice", "not-found"), 404)

    def lines():
        with session(engine) as s:
            for row in s.exec(select(ImportIssue).where(ImportIssue.import_id == job_id).order_by(ImportIssue.id)):
                issue = Issue(Location(row.file, row.line, row.entry), row.message, row.path, row.code,
                              row.severity, row.resource_type, row.resource_id)
                yield outcome([issue_dict(issue)]).model_dump_json(exclude_none=True) + "\n"

    return StreamingResponse(lines(), media_type="application/fhir+ndjson")


async def _receive_files(request: Request, folder: Path) -> list[tuple[Path, str]]:
    """Save the uploaded NDJSON (multipart file fields, or the raw body) under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    content_type = request.headers.get("content-type", "")
    files = []
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        for index, (_, upload) in enumerate(form.multi_items()):
            if hasattr(upload, "read"):
                name = Path(upload.filename or f"upload-{index}.ndjson").name
                files.append((_save_ndjson(folder, index, name, await upload.read()), name))
        return files
    body = await request.body()
    if body:
        files.append((_save_ndjson(folder, 0, "body.ndjson", body), "body.ndjson"))
    return files


def _save_ndjson(folder: Path, index: int, name: str, data: bytes) -> Path:
    """Keep the upload as sent; gzip data gets a .gz name whatever it was called."""
    gz = data[:2] == b"\x1f\x8b"
    stem = name.removesuffix(".gz").removesuffix(".ndjson").removesuffix(".json")
    return _save(folder / f"{index:03d}-{stem}.ndjson{'.gz' if gz else ''}", data)


def _save(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
