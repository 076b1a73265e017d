"""Evaluate a measure for one practice and period: run its compiled SQL, read back per-patient results.

Everything happens on one connection: the queries fill a temporary events table, one SELECT over
the practice's patients gives every population, one more reads the evidence. Results come back as
`PatientResult`s; storing them as a run is `runs.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Index, delete, func, insert, select

from caregaps.engine.catalog import Measure
from caregaps.engine.codes import GapStatus, Population
from caregaps.engine.compiler import CANDIDATES, COLUMNS, EVENTS, PATIENT, Compiler
from caregaps.engine.gaps import gap_status, proportion_membership
from caregaps.engine.language import KINDS, Query
from caregaps.engine.period import Period
from caregaps.engine.references import inlinable, query_order, reachable

_EVENTS_INDEX = Index("ix_cg_events", EVENTS.c.def_id, EVENTS.c.patient_id)


@dataclass
class Evidence:
    query: str
    resource: str  # "Observation/abc"
    start: datetime | None
    end: datetime | None
    value: float | None
    unit: str | None

    def as_json(self) -> dict:
        return {"query": self.query, "resource": self.resource,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None, "value": self.value, "unit": self.unit}


@dataclass
class PatientResult:
    patient_id: str
    populations: dict[str, bool]
    gap: str
    evidence: list[Evidence] = field(default_factory=list)
    likely_data_gap: bool = False


def prepare(conn: Connection) -> None:
    """Create the temporary events table on this connection (once) and empty it."""
    EVENTS.create(conn, checkfirst=True)
    _EVENTS_INDEX.create(conn, checkfirst=True)
    conn.execute(delete(EVENTS))


def fill_queries(conn: Connection, compiler: Compiler, names: list[str]) -> None:
    """Run each query (in dependency order) into the events table."""
    for name in names:
        conn.execute(insert(EVENTS).from_select(COLUMNS, compiler.query(name)))


def _needed(measure: Measure, roots: list[str], compiler: Compiler | None = None) -> list[str]:
    """The queries the roots read, in dependency order, less those the compiler will inline."""
    used = reachable(measure.definitions, measure.populations, roots)
    if compiler is not None:
        keep = set(measure.evidence) | ({measure.data} if measure.data else set())
        compiler.inline = inlinable(measure.definitions, measure.populations, used, keep)
    return [n for n in query_order(measure.definitions, KINDS) if n in used and n not in getattr(compiler, "inline", ())]


def _main_roots(measure: Measure) -> list[str]:
    roots = list(measure.populations) + list(measure.evidence)
    if measure.data and not _reads_facts(measure, measure.data):
        roots.append(measure.data)
    return roots


def _reads_facts(measure: Measure, name: str) -> bool:
    query = measure.definitions[name]
    return not query.sources and query.source in KINDS and not query.time


def _populations(conn: Connection, compiler: Compiler, measure: Measure, practice_id: str,
                 codes: list[str] | None = None) -> dict[str, dict]:
    labels = {code: f"p{i}" for i, code in enumerate(codes or measure.populations)}
    columns = [compiler.condition(measure.populations[code].test).label(labels[code]) for code in labels]
    rows = conn.execute(select(PATIENT.c.resource_id, *columns).where(PATIENT.c.practice_id == practice_id))
    return {row[0]: {code: bool(row[i + 1]) for i, code in enumerate(labels)} for row in rows}


def _evidence(conn: Connection, compiler: Compiler, measure: Measure) -> dict[str, list[Evidence]]:
    if not measure.evidence:
        return {}
    ids = {compiler.def_id(name): name for name in measure.evidence}
    latest = func.coalesce(EVENTS.c.end, EVENTS.c.start)
    rank = func.row_number().over(partition_by=(EVENTS.c.def_id, EVENTS.c.patient_id),
                                  order_by=(latest.desc(), EVENTS.c.fact_id))
    ranked = select(EVENTS, rank.label("rank")).where(EVENTS.c.def_id.in_(ids)).subquery()
    out: dict[str, list[Evidence]] = {}
    for row in conn.execute(select(ranked).where(ranked.c.rank == 1)).mappings():
        out.setdefault(row["patient_id"], []).append(Evidence(
            ids[row["def_id"]], f"{row['resource_type']}/{row['resource_id']}", _dt(row["start"]),
            _dt(row["end"]), row["value_num"], row["value_unit"]))
    order = {name: i for i, name in enumerate(measure.evidence)}
    for items in out.values():
        items.sort(key=lambda e: order[e.query])
    return out


def _dt(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _practice_has_data(conn: Connection, compiler: Compiler, measure: Measure) -> bool:
    if not measure.data:
        return True
    if _reads_facts(measure, measure.data):  # one matching fact is enough: no need to collect them all
        return conn.execute(compiler.query(measure.data).limit(1)).first() is not None
    found = conn.execute(select(EVENTS.c.fact_id).where(EVENTS.c.def_id == compiler.def_id(measure.data)).limit(1))
    return found.first() is not None


def run_measure(conn: Connection, measure: Measure, period: Period, practice_id: str,
                codes: list[str] | None = None, patients: list[str] | None = None) -> dict[str, dict]:
    """Raw criteria per patient of the populations `codes` (default all), before nesting rules;
    with `patients`, only their facts are read (the others' results are meaningless)."""
    prepare(conn)
    compiler = Compiler(measure.definitions, measure.populations, period, practice_id)
    if patients is not None:
        CANDIDATES.create(conn, checkfirst=True)
        conn.execute(delete(CANDIDATES))
        if patients:
            conn.execute(insert(CANDIDATES), [{"patient_id": p} for p in patients])
        compiler.candidates_only = True
    fill_queries(conn, compiler, _needed(measure, codes or list(measure.populations), compiler))
    return _populations(conn, compiler, measure, practice_id, codes)


def evaluate(conn: Connection, measure: Measure, period: Period, practice_id: str,
             as_of: date | None = None) -> list[PatientResult]:
    """Every patient of the practice: populations, gap status, evidence, data-gap flag."""
    prepare(conn)
    compiler = Compiler(measure.definitions, measure.populations, period, practice_id)
    fill_queries(conn, compiler, _needed(measure, _main_roots(measure), compiler))
    raw = _populations(conn, compiler, measure, practice_id)
    evidence = _evidence(conn, compiler, measure)
    has_data = _practice_has_data(conn, compiler, measure)
    today: dict[str, dict] = {}
    if as_of is not None and as_of < period.end and not measure.inverse:
        # only a denominator patient who is not (yet) in the numerator can have a prospective gap
        open_now = [pid for pid, c in raw.items() if proportion_membership(c)[Population.DENOMINATOR]
                    and not proportion_membership(c)[Population.NUMERATOR]]
        today = run_measure(conn, measure, period.as_of(as_of), practice_id, [Population.NUMERATOR], open_now)
    results = []
    for patient_id, criteria in sorted(raw.items()):
        membership = proportion_membership(criteria)
        now = today.get(patient_id)
        covered_today = bool(now.get(Population.NUMERATOR)) if now is not None else None
        gap = gap_status(membership, measure.inverse, covered_today)
        results.append(PatientResult(patient_id, membership, gap, evidence.get(patient_id, []),
                                     likely_data_gap=gap == GapStatus.OPEN and not has_data))
    return results


def is_query(measure: Measure, name: str) -> bool:
    return isinstance(measure.definitions.get(name), Query)
