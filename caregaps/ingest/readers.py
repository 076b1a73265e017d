"""Read inputs into entries: NDJSON (plain or gzip) line by line, JSON Bundles entry by entry.

Every entry carries its location (file and line, or Bundle entry index) so that any problem
found later can say where it was. Malformed input becomes an entry with a `problem`, never an
exception, so one bad line does not stop the lines after it.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

import orjson

from caregaps.ingest.facts import SPECS
from caregaps.ingest.problems import Location, Problem

SUFFIXES = (".ndjson", ".ndjson.gz", ".json", ".json.gz")
READ_ERRORS = (EOFError, OSError, zlib.error)
# Bundles that hold a record (a patient's, when they hold one Patient), not requests to apply
RECORD_TYPES = ("collection", "searchset", "document")


@dataclass(slots=True)
class Entry:
    location: Location
    resource: dict | None = None
    text: bytes | None = None  # the resource's original JSON, when the input held it alone
    delete: tuple[str, str] | None = None
    problem: Problem | None = None
    notes: tuple[Problem, ...] = ()  # warnings from reading it (what was assumed)

    def __reduce__(self):
        return Entry, (self.location, self.resource, self.text, self.delete, self.problem, self.notes)


def input_files(paths: Iterable[Path]) -> list[Path]:
    """The files to read: each named file, and every readable file under a named folder."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return files


def read_file(path: Path, name: str | None = None, skip: int = 0) -> Iterator[Entry]:
    """Entries of one input file; `skip` passes over lines (or Bundle entries) already stored."""
    name = name or str(path)
    if path.name.endswith((".ndjson", ".ndjson.gz")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as stream:
            yield from read_ndjson(stream, name, skip)
        return
    try:
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    except READ_ERRORS as exc:
        yield Entry(Location(name), problem=Problem(f"cannot read gzip file: {exc}", code="incomplete"))
        return
    yield from read_json(data, name, skip)


def read_ndjson(stream: IO[bytes], name: str, skip: int = 0) -> Iterator[Entry]:
    number = 0
    try:
        for number, line in enumerate(stream, start=1):
            if number <= skip or not line.strip():
                continue
            yield parse_line(line, Location(name, line=number))
    except READ_ERRORS as exc:
        yield truncated(name, number, exc)


def truncated(name: str, lines_read: int, exc: Exception) -> Entry:
    """The entry for a compressed stream that broke off after `lines_read` lines."""
    return Entry(Location(name, line=lines_read + 1), problem=Problem(
        f"truncated or corrupt gzip data after line {lines_read}: {exc}; the lines before it were read",
        code="incomplete"))


def parse_line(line: bytes, location: Location) -> Entry:
    """One NDJSON line as an entry (a problem entry when it is not one JSON resource)."""
    try:
        resource = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Entry(location, problem=Problem(f"malformed JSON: {exc}", code="structure"))
    if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
        return Entry(location, problem=Problem(
            "an NDJSON line must hold one resource, not a Bundle", path="Bundle", code="not-supported"))
    return Entry(location, resource, text=line.rstrip(b"\r\n"))


def read_json(data: bytes, name: str, skip: int = 0) -> Iterator[Entry]:
    """A JSON document: a Bundle (entries) or a single resource."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield Entry(Location(name), problem=Problem(f"malformed JSON: {exc}", code="structure"))
        return
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        yield from bundle_entries(document, name, skip)
    elif skip == 0:
        yield Entry(Location(name), document, text=data.strip())


def bundle_entries(bundle: dict, name: str | None, skip: int = 0) -> Iterator[Entry]:
    """Entries of a Bundle of any type, with urn:uuid and absolute references made Type/id."""
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        yield Entry(Location(name), problem=Problem("entry must be a list", path="Bundle.entry",
                                                    code="structure"))
        return
    local_ids = _local_ids(entries)
    owner = _only_patient(entries) if bundle.get("type") in RECORD_TYPES else None
    for index, item in enumerate(entries):
        if index < skip:
            continue
        location = Location(name, entry=index)
        try:
            entry = _bundle_entry(item, index, local_ids, location)
        except Problem as problem:
            yield Entry(location, problem=problem)
            continue
        if owner and entry.resource is not None:
            entry.notes = _attribute(entry.resource, owner)
        yield entry


def _only_patient(entries: list) -> str | None:
    """Patient/id of the Bundle's one Patient (a patient's record, as $everything or a test case
    exports it), or None when it holds none or several. Transactions and batches are requests:
    each entry says whose it is."""
    patients = set()
    for item in entries:
        resource = item.get("resource") if isinstance(item, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            full_url = item.get("fullUrl")
            uuid = full_url.removeprefix("urn:uuid:") if isinstance(full_url, str) and full_url.startswith("urn:uuid:") else None
            patients.add(resource.get("id") or uuid)
    return f"Patient/{patients.pop()}" if len(patients) == 1 and None not in patients else None


def _attribute(resource: dict, owner: str) -> tuple[Problem, ...]:
    """A resource of a patient's record that names no patient is that patient's: said as a warning."""
    rtype = resource.get("resourceType")
    spec = SPECS.get(rtype) if isinstance(rtype, str) else None
    if spec is None or not spec.patient or resource.get(spec.patient) is not None:
        return ()
    resource[spec.patient] = {"reference": owner}
    return (Problem(f"no {spec.patient}: read as the {owner} of this Bundle, its only Patient",
                    path=f"{rtype}.{spec.patient}", code="required", severity="warning"),)


def _bundle_entry(item: object, index: int, local_ids: dict[str, str], location: Location) -> Entry:
    path = f"Bundle.entry[{index}]"
    if not isinstance(item, dict):
        raise Problem("expected an entry object", path=path, code="structure")
    request = item.get("request") if isinstance(item.get("request"), dict) else {}
    if request.get("method") == "DELETE":
        url = str(request.get("url", ""))
        parts = url.split("?")[0].strip("/").split("/")
        if len(parts) != 2 or "?" in url:
            raise Problem(f"DELETE url must be Type/id, got {url!r}", path=f"{path}.request.url",
                          code="not-supported")
        return Entry(location, delete=(parts[0], parts[1]))
    resource = item.get("resource")
    if resource is None:
        raise Problem("entry has no resource", path=f"{path}.resource", code="required")
    if isinstance(resource, dict):
        full_url = item.get("fullUrl")
        if "id" not in resource and isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
            resource["id"] = full_url.removeprefix("urn:uuid:")
        _resolve_references(resource, local_ids)
    return Entry(location, resource)


def _local_ids(entries: list) -> dict[str, str]:
    """fullUrl -> Type/id for every entry, so references between entries resolve."""
    ids = {}
    for item in entries:
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            continue
        resource, full_url = item["resource"], item.get("fullUrl")
        rtype = resource.get("resourceType")
        rid = resource.get("id")
        if rid is None and isinstance(full_url, str) and full_url.startswith("urn:uuid:"):
            rid = full_url.removeprefix("urn:uuid:")
        if isinstance(full_url, str) and isinstance(rtype, str) and isinstance(rid, str):
            ids[full_url] = f"{rtype}/{rid}"
    return ids


def _resolve_references(node: object, local_ids: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and value in local_ids:
                node[key] = local_ids[value]
            elif isinstance(value, (dict, list)):
                _resolve_references(value, local_ids)
    elif isinstance(node, list):
        for value in node:
            _resolve_references(value, local_ids)
