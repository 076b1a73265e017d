"""Check entries: in this process, or for large NDJSON files in a worker process.

Parsing and checking is pure CPU work and writing is database work, so a large NDJSON file is
split into chunks of lines that a worker process checks while this process writes the chunk
before. At most a few chunks are in flight, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import gc
import gzip
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from caregaps.ingest.checks import check_envelope, strict_problems
from caregaps.ingest.problems import Issue, Location, Problem
from caregaps.ingest.readers import READ_ERRORS, Entry, parse_line, read_file, truncated
from caregaps.ingest.results import EntryResult
from caregaps.ingest.store import prepare, prepare_delete

PARALLEL_MIN_BYTES = 4 * 1024 * 1024
CHUNK_LINES = 2000
IN_FLIGHT = 8


@contextmanager
def rare_gc(threshold: int = 200_000):
    """Parsed resources hold no reference cycles, so the cyclic GC's frequent young-generation
    passes over millions of fresh dicts are pure overhead (they cost more than parsing)."""
    before = gc.get_threshold()
    gc.set_threshold(threshold, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def check_entry(entry: Entry, tz, strict: bool) -> EntryResult:
    """The entry checked and prepared for the store, or rejected with its issues."""
    if entry.problem is not None:
        return EntryResult(entry, "rejected", issues=[Issue.of(entry.problem, entry.location)])
    if entry.delete is not None:
        rtype, rid = entry.delete
        return EntryResult(entry, "pending", rtype, rid, item=prepare_delete(rtype, rid, entry.location))
    rtype = rid = None
    try:
        rtype, rid = check_envelope(entry.resource)
        if strict and (problems := strict_problems(entry.resource)):
            issues = [Issue.of(p, entry.location, rtype, rid) for p in problems]
            return EntryResult(entry, "rejected", rtype, rid, issues)
        item = prepare(entry.resource, rtype, rid, entry.text, entry.location, tz)
    except Problem as problem:
        if rtype is None and isinstance(entry.resource, dict) and isinstance(entry.resource.get("resourceType"), str):
            rtype = entry.resource["resourceType"]
        return EntryResult(entry, "rejected", rtype, rid, [Issue.of(problem, entry.location, rtype, rid)])
    warnings = [Issue.of(w, entry.location, rtype, rid) for w in (*entry.notes, *item.warnings)]
    return EntryResult(entry, "pending", rtype, rid, warnings, item)


@contextmanager
def checker_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for a whole import (None for `workers` <= 0): starting one costs as much as
    checking tens of thousands of resources, so every file of the import shares them."""
    if workers <= 0:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        yield pool


def checked_entries(path: Path, name: str, skip: int, tz_name: str, strict: bool,
                    pool: ProcessPoolExecutor | None) -> Iterator[EntryResult]:
    """Every entry of a file, checked; large NDJSON files are checked by the pool's processes."""
    tz = ZoneInfo(tz_name)
    ndjson = path.name.endswith((".ndjson", ".ndjson.gz"))
    if pool is None or not ndjson or path.stat().st_size < PARALLEL_MIN_BYTES:
        for entry in read_file(path, name, skip):
            yield check_entry(entry, tz, strict)
        return
    futures: deque = deque()
    for chunk in _line_chunks(path, name, skip):
        if isinstance(chunk, Entry):  # a read error after the lines before it
            while futures:
                yield from futures.popleft().result()
            yield check_entry(chunk, tz, strict)
            continue
        futures.append(pool.submit(_check_lines, name, tz_name, strict, chunk))
        if len(futures) >= IN_FLIGHT:
            yield from futures.popleft().result()
    while futures:
        yield from futures.popleft().result()


def _check_lines(name: str, tz_name: str, strict: bool, lines: list[tuple[int, bytes]]) -> list[EntryResult]:
    """Worker side: parse and check a chunk of NDJSON lines."""
    tz = ZoneInfo(tz_name)
    results = []
    gc.set_threshold(200_000)  # this is a worker process: see rare_gc
    for number, line in lines:
        result = check_entry(parse_line(line, Location(name, line=number)), tz, strict)
        result.entry = Entry(result.entry.location)  # the parsed resource is not needed any more
        results.append(result)
    return results


def _line_chunks(path: Path, name: str, skip: int) -> Iterator[list[tuple[int, bytes]] | Entry]:
    opener = gzip.open if path.name.endswith(".gz") else open
    chunk: list[tuple[int, bytes]] = []
    number = 0
    with opener(path, "rb") as stream:
        try:
            for number, line in enumerate(stream, start=1):
                if number <= skip or not line.strip():
                    continue
                chunk.append((number, line))
                if len(chunk) >= CHUNK_LINES:
                    yield chunk
                    chunk = []
        except READ_ERRORS as exc:
            if chunk:
                yield chunk
                chunk = []
            yield truncated(name, number, exc)
    if chunk:
        yield chunk
