"""Value sets: load FHIR ValueSet expansions from files into the membership table measures join.

A file is reloaded only when its content changes (by hash), so loading at every start is cheap.
A value set must be enumerated: an `expansion.contains` (nested entries included), or a
`compose.include` that lists its concepts; intensional definitions (filters) need an expansion.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import Engine, delete, select

from caregaps.ingest.bulk import insert_rows
from caregaps.models import ValueSet, ValueSetCode, utcnow

VS, VS_CODE = ValueSet.__table__, ValueSetCode.__table__


class ValueSetError(ValueError):
    """A value set file that cannot be used, naming the file and the element."""


class NotEnumerated(ValueSetError):
    """A valid value set defined by filters or other value sets, with no expansion to load."""


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_valueset(path: Path) -> tuple[dict, set[tuple[str, str, str | None]]]:
    """The ValueSet resource in `path` and its (system, code, display) members."""
    try:
        resource = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueSetError(f"{path}: malformed JSON: {exc}") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "ValueSet":
        raise ValueSetError(f"{path}: resourceType: expected ValueSet")
    if not isinstance(resource.get("url"), str):
        raise ValueSetError(f"{path}: ValueSet.url: missing; a value set is known by its canonical url")
    if "expansion" in resource:
        members = set(_contains(resource["expansion"].get("contains") or [], path, "ValueSet.expansion"))
    else:
        members = set(_composed(resource.get("compose") or {}, path))
    return resource, members


def _contains(items: list, path: Path, where: str):
    for i, item in enumerate(items):
        here = f"{where}.contains[{i}]"
        if "code" in item:
            if not isinstance(item.get("system"), str):
                raise ValueSetError(f"{path}: {here}.system: missing")
            yield item["system"], item["code"], item.get("display")
        yield from _contains(item.get("contains") or [], path, here)


def _composed(compose: dict, path: Path):
    for i, include in enumerate(compose.get("include") or []):
        where = f"ValueSet.compose.include[{i}]"
        if "filter" in include or "valueSet" in include or "concept" not in include:
            raise NotEnumerated(f"{path}: {where}: not enumerated (filters or included value sets); "
                                "it loads with no codes until the file has an expansion")
        for concept in include["concept"]:
            yield include["system"], concept["code"], concept.get("display")


def load_valuesets(engine: Engine, folder: Path) -> LoadReport:
    """Load every ValueSet-*.json / *.json file in `folder` whose content changed."""
    report = LoadReport()
    with engine.begin() as conn:
        known = dict(conn.execute(select(VS.c.url, VS.c.content_hash)).all())
        for path in sorted(folder.glob("*.json")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            try:
                resource, members = read_valueset(path)
            except NotEnumerated as exc:
                report.warnings.append(str(exc))
                resource, members = orjson.loads(path.read_bytes()), set()
            url = resource["url"]
            if known.get(url) == digest:
                report.unchanged.append(url)
                continue
            if not members and "expansion" in resource:
                report.warnings.append(f"{path}: value set {resource.get('name', url)} has no codes")
            conn.execute(delete(VS_CODE).where(VS_CODE.c.value_set == url))
            conn.execute(delete(VS).where(VS.c.url == url))
            conn.execute(VS.insert().values(url=url, version=resource.get("version"), name=resource.get("name") or url,
                                            title=resource.get("title"), codes=len(members),
                                            content_hash=digest, loaded_at=utcnow()))
            insert_rows(conn, VS_CODE, ("value_set", "system", "code", "display"),
                        [(url, system, code, display) for system, code, display in sorted(members)])
            known[url] = digest
            report.loaded.append(url)
    return report
