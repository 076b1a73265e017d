"""Patients' records, generated and encoded in order, in worker processes for large panels.

Each record is a pure function of (seed, practice number, patient number), so generating them
in parallel and taking the results in order gives exactly the files a single process writes.
Work is handed out in batches, so finished records never pile up in memory.
"""

from __future__ import annotations

import multiprocessing
import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from caregaps.synth import valuesets
from caregaps.synth.practice import Practice, build_practice
from caregaps.synth.record import patient_record
from caregaps.synth.writers import Encoded, encode

PARALLEL_FROM = 1500  # patients; below this a pool costs more than it saves
BATCH = 2000
CHUNK = 25


@lru_cache(maxsize=8)
def practice(number: int, seed: int) -> Practice:
    return build_practice(number, seed)


def encoded_record(task: tuple[int, int, int, str]) -> Encoded:
    """Generate and encode one patient: task = (practice number, seed, patient number, format)."""
    number, seed, index, fmt = task
    chart = patient_record(valuesets.load(), practice(number, seed), seed, index, bundle=fmt == "bundle")
    return encode(fmt, chart.person.id, chart.resources)


@contextmanager
def worker_pool(patients: int):
    """A process pool when the panel is large and there is more than one CPU, else None (also
    inside a daemonic worker process, which may not start children)."""
    workers = min(8, _cpus())
    if patients < PARALLEL_FROM or workers < 2 or multiprocessing.current_process().daemon:
        yield None
        return
    with multiprocessing.get_context().Pool(workers) as pool:
        yield pool


def encoded_records(pool, number: int, seed: int, size: int, fmt: str) -> Iterator[Encoded]:
    """The encoded records of a practice's patients 0..size-1, in order."""
    for first in range(0, size, BATCH):
        tasks = [(number, seed, index, fmt) for index in range(first, min(size, first + BATCH))]
        yield from (pool.imap(encoded_record, tasks, chunksize=CHUNK) if pool else map(encoded_record, tasks))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
