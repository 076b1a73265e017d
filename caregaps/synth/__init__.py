"""Deterministic synthetic populations of Medicare primary-care practices, as FHIR R4.

`write_population` writes `patients` patients spread over `practices` practices (p1, p2, ...)
into `out/<practice id>/`, as NDJSON or transaction Bundles, plus `out/manifest.json`. The same
(patients, practices, seed) always gives byte-identical files; patients are generated (in
worker processes for large panels) and written one at a time, so memory stays flat however
many there are. Codes come from the value sets in `measures/valuesets/`. The data is
synthetic: no real person is described.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import orjson

from caregaps.synth import pipeline, valuesets
from caregaps.synth.pipeline import encoded_records, worker_pool
from caregaps.synth.writers import Writer

FORMATS = ("ndjson", "bundle")

__all__ = ["FORMATS", "practice_sizes", "write_population"]


def write_population(out: Path, patients: int, practices: int, seed: int, fmt: str) -> dict:
    """fmt is "ndjson" or "bundle". Returns a summary dict: {"practices": [ {"id":..., "name":...,
    "timezone":..., "patients": n, "resources": n, "path": "..."} ], "resources_by_type": {...}}

    `path` is the practice's folder relative to `out`. `out` must be empty or not exist yet.
    """
    if fmt not in FORMATS:
        raise ValueError(f'format must be "ndjson" or "bundle", got {fmt!r}')
    if patients < 0 or practices < 1:
        raise ValueError(f"need patients >= 0 and practices >= 1, got {patients} and {practices}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} is not an empty folder; choose a new or empty one")
    valuesets.load()  # fail early (and before any worker starts) if the value sets are missing
    summary: dict = {"practices": [], "resources_by_type": {}}
    totals: Counter[str] = Counter()
    with worker_pool(patients) as pool:
        for number, size in enumerate(practice_sizes(patients, practices, seed), start=1):
            entry, counts = _write_practice(out, pool, number, size, seed, fmt)
            summary["practices"].append(entry)
            totals.update(counts)
    summary["resources_by_type"] = dict(sorted(totals.items()))
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return summary


def _write_practice(out: Path, pool, number: int, size: int, seed: int, fmt: str) -> tuple[dict, Counter[str]]:
    practice = pipeline.practice(number, seed)
    folder = out / practice.id
    folder.mkdir(parents=True)
    writer = Writer(fmt, folder)
    try:
        writer.practice(practice.resources)
        for record in encoded_records(pool, number, seed, size, fmt):
            writer.write(record)
    finally:
        writer.close()
    entry = {"id": practice.id, "name": practice.name, "timezone": practice.timezone, "patients": size,
             "resources": sum(writer.counts.values()), "path": practice.id}
    return entry, writer.counts


def practice_sizes(patients: int, practices: int, seed: int) -> list[int]:
    """Patients per practice: uneven (weights 0.6-1.4) but summing to `patients`."""
    rng = random.Random(f"caregaps-synth/{seed}/sizes/{practices}")
    weights = [rng.uniform(0.6, 1.4) for _ in range(practices)]
    shares = [patients * w / sum(weights) for w in weights]
    sizes = [int(s) for s in shares]
    by_remainder = sorted(range(practices), key=lambda i: (sizes[i] - shares[i], i))
    for i in by_remainder[: patients - sum(sizes)]:
        sizes[i] += 1
    return sizes
