"""Where generated resources go: NDJSON files per resource type, or transaction Bundles.

- ndjson: `<folder>/<Type>.ndjson`, one compact JSON resource per line.
- bundle: `<folder>/practice.json` with the practice's shared resources, and one
  `<folder>/<patient-id>.json` per patient; each a `transaction` Bundle whose entries have
  `fullUrl: urn:uuid:<id>` and `request: PUT <Type>/<id>`.

A record is first encoded (`encode`, which may run in a worker process) into an `Encoded`
payload, then appended by the practice's writer; each patient is written as soon as it is made,
so memory does not grow with the panel.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

BUFFER = 1 << 20


@dataclass(frozen=True)
class Encoded:
    """One patient's (or the practice's) resources, serialized for one format."""

    patient_id: str
    counts: dict[str, int]
    ndjson: dict[str, bytes] | None = None  # resource type -> its lines
    bundle: bytes | None = None


def encode(fmt: str, patient_id: str, resources: list[dict]) -> Encoded:
    counts = Counter(r["resourceType"] for r in resources)
    if fmt == "bundle":
        return Encoded(patient_id, dict(counts), bundle=_bundle(resources))
    lines: dict[str, list[bytes]] = {}
    for resource in resources:
        lines.setdefault(resource["resourceType"], []).append(orjson.dumps(resource))
    return Encoded(patient_id, dict(counts), ndjson={t: b"\n".join(ls) + b"\n" for t, ls in lines.items()})


def _bundle(resources: list[dict]) -> bytes:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]
    return orjson.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries},
                        option=orjson.OPT_APPEND_NEWLINE)


class Writer:
    """Writes one practice's folder in either format."""

    def __init__(self, fmt: str, folder: Path):
        if fmt not in ("ndjson", "bundle"):
            raise ValueError(f'format must be "ndjson" or "bundle", got {fmt!r}')
        self.fmt, self.folder = fmt, folder
        self.counts: Counter[str] = Counter()
        self._files: dict[str, BinaryIO] = {}

    def practice(self, resources: list[dict]) -> None:
        self.write(encode(self.fmt, "practice", resources))

    def write(self, record: Encoded) -> None:
        self.counts.update(record.counts)
        if record.bundle is not None:
            (self.folder / f"{record.patient_id}.json").write_bytes(record.bundle)
            return
        for rtype, lines in (record.ndjson or {}).items():
            stream = self._files.get(rtype)
            if stream is None:
                stream = self._files[rtype] = open(self.folder / f"{rtype}.ndjson", "wb", buffering=BUFFER)
            stream.write(lines)

    def close(self) -> None:
        for stream in self._files.values():
            stream.close()
        self._files.clear()
