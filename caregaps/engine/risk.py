"""Risk models: weighted factors, each a condition in the measure language, summed to a score.

A file in `measures/risk/` has the keys of a library (`include`, `valuesets`, `codes`, `define`)
plus `factors` (name: {points, when}) and `tiers` ({high: N, rising: M}: the lowest score of each
tier). A model is evaluated over the 12 months that end on the day the data is as of: that
window is its "measurement period", so `during measurement period` means "in the last year".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, case, literal, select

from caregaps.engine.compiler import PATIENT, Compiler
from caregaps.engine.definitions import read_condition
from caregaps.engine.language import KINDS
from caregaps.engine.period import Period, shift_date
from caregaps.engine.references import check_definitions, query_order
from caregaps.engine.source import Mapping, SourceError

RISK_KEYS = {"id", "title", "description", "include", "valuesets", "codes", "define", "factors", "tiers"}


@dataclass
class Factor:
    name: str
    points: int
    test: object
    description: str = ""


@dataclass
class RiskModel:
    id: str
    title: str
    file: str
    factors: list[Factor]
    tiers: dict[str, int]  # tier -> lowest score, e.g. {"high": 6, "rising": 3}
    definitions: dict = field(default_factory=dict)
    description: str = ""


@dataclass
class RiskResult:
    patient_id: str
    score: int
    tier: str
    factors: list[str]


def tier_for(score: int, tiers: dict[str, int]) -> str:
    """The highest tier whose threshold the score reaches, else "low"."""
    for name, lowest in sorted(tiers.items(), key=lambda item: -item[1]):
        if score >= lowest:
            return name
    return "low"


def year_ending(day: date, tz) -> Period:
    """The 12 months that end on `day` (the window a risk model looks at)."""
    return Period(shift_date(day, years=-1, days=1), day, tz)


def read_risk_model(doc: Mapping, file: str, definitions: dict) -> RiskModel:
    """The model in `doc`, whose definitions (own and included) are already read."""
    for key in doc:
        if key not in RISK_KEYS:
            raise SourceError(file, doc.line_of(key), str(key), f"unknown key; allowed: {', '.join(sorted(RISK_KEYS))}")
    for key in ("id", "title", "factors", "tiers"):
        if key not in doc:
            raise SourceError(file, doc.line, key, "missing")
    factors = []
    for name, spec in doc["factors"].items():
        line = doc["factors"].line_of(name)
        if not isinstance(spec, Mapping) or not isinstance(spec.get("points"), int) or "when" not in spec:
            raise SourceError(file, line, name, "a factor is {points: N, when: condition}")
        for key in spec:
            if key not in ("points", "when", "description"):
                raise SourceError(file, spec.line_of(key), key, "unknown key in a factor; allowed: description, points, when")
        factors.append(Factor(name, spec["points"], read_condition(spec["when"], file, spec.line_of("when")),
                              str(spec.get("description", ""))))
    tiers = doc["tiers"]
    if not isinstance(tiers, Mapping) or not all(isinstance(v, int) for v in tiers.values()):
        raise SourceError(file, doc.line_of("tiers"), "tiers", "expected tier: lowest score, e.g. {high: 6, rising: 3}")
    owners = {f.name: _Owner(file, line=doc["factors"].line_of(f.name), name=f.name, test=f.test) for f in factors}
    check_definitions(definitions, owners, [], None, KINDS, file)
    return RiskModel(str(doc["id"]), str(doc["title"]), file, factors, dict(tiers), definitions,
                     str(doc.get("description", "")))


@dataclass
class _Owner:
    """A factor seen as a condition, so that reference checks name its file and line."""
    file: str
    line: int
    name: str
    test: object


def evaluate_risk(conn: Connection, model: RiskModel, practice_id: str, period: Period) -> list[RiskResult]:
    """Every patient of the practice with score, tier and the factors that apply."""
    from caregaps.engine.evaluate import fill_queries, prepare

    prepare(conn)
    compiler = Compiler(model.definitions, {}, period, practice_id)
    fill_queries(conn, compiler, query_order(model.definitions, KINDS))
    flags = [compiler.condition(f.test).label(f"f{i}") for i, f in enumerate(model.factors)]
    score = sum((case((flag, literal(f.points)), else_=literal(0)) for flag, f in zip(flags, model.factors)),
                literal(0))
    rows = conn.execute(select(PATIENT.c.resource_id, score.label("score"), *flags)
                        .where(PATIENT.c.practice_id == practice_id))
    out = []
    for row in rows:
        applied = [f.name for i, f in enumerate(model.factors) if row[i + 2]]
        out.append(RiskResult(row[0], int(row[1]), tier_for(int(row[1]), model.tiers), applied))
    return sorted(out, key=lambda r: (-r.score, r.patient_id))


def risk_files(root: Path) -> list[Path]:
    return sorted((root / "risk").glob("*.yaml"))
