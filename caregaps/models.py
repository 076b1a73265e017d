"""Database tables: practices and their tokens, patients, raw resources, facts, import jobs.

Raw resources are the source of truth (every version, content-hashed, with its original JSON);
facts are the normalized rows measures read and can always be rebuilt from the raw layer.
Times are stored as naive UTC datetimes.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Date, DateTime, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants 64-bit keys at this scale.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current instant as a naive UTC datetime (how every time is stored)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Practice(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str
    timezone: str = "America/New_York"
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    kind: str = Field(default="practice", max_length=16)  # practice, or aco: the ACO roll-up (caregaps.aco)


class ApiToken(SQLModel, table=True):
    """A practice's bearer token; only its SHA-256 is stored (the token itself is 256 random bits)."""

    __tablename__ = "api_token"
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: str = Field(foreign_key="practice.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    label: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=DateTime)


class Patient(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("practice_id", "resource_id"),)
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(foreign_key="practice.id")
    resource_id: str = Field(max_length=64)
    identifiers: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    family: Optional[str] = None
    given: Optional[str] = None
    birth_date: Optional[date] = None
    gender: Optional[str] = None
    sex: Optional[str] = Field(default=None, max_length=32)  # US Core sex extension code (SNOMED CT)
    race: Optional[str] = None
    ethnicity: Optional[str] = None
    deceased: bool = False
    deceased_at: Optional[datetime] = Field(default=None, sa_type=DateTime)  # Patient.deceasedDateTime
    # the latest instant deceasedDateTime may name ("2026-12-31" is some instant of that day)
    deceased_latest: Optional[datetime] = Field(default=None, sa_type=DateTime)
    general_practitioner: Optional[str] = None


class RawResource(SQLModel, table=True):
    """One received version of a resource. `is_current` marks the version facts come from."""

    __tablename__ = "raw_resource"
    __table_args__ = (
        # At most one current version per resource (a partial unique index on both engines).
        # Its predicates are written as SQLAlchemy renders a bare `RAW.c.is_current` on each
        # engine, so queries that filter on it use the index (SQLite matches the text). Versions are
        # numbered by the writer from the current one, so no second index is kept for them:
        # every index keyed by a resource id is a random insert on bulk loads.
        Index("ux_raw_current", "practice_id", "resource_type", "resource_id", unique=True,
              sqlite_where=text("is_current = 1"), postgresql_where=text("is_current")),
    )
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(foreign_key="practice.id")
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    version: int = 1
    content_hash: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    import_id: Optional[str] = Field(default=None, max_length=36, index=True)
    is_current: bool = True
    deleted: bool = False
    body: Optional[str] = Field(default=None, sa_column=Column(Text))


class Timed(SQLModel):
    """What a fact knows of its times (a fact's own, and each other element that dates it)."""

    start: Optional[datetime] = Field(default=None, sa_type=DateTime)  # naive UTC
    end: Optional[datetime] = Field(default=None, sa_type=DateTime)
    # a time is known to its precision only: the start lies in [start, start_latest], the end in
    # [end_earliest, end] (a date spans its day; see caregaps.engine.timing)
    start_latest: Optional[datetime] = Field(default=None, sa_type=DateTime)
    end_earliest: Optional[datetime] = Field(default=None, sa_type=DateTime)
    # the first and last calendar day as written, in the time's own offset: CQL compares days by
    # them, not by the UTC instants (see caregaps.ingest.fhirtime)
    start_day: Optional[date] = Field(default=None, sa_type=Date)
    end_day: Optional[date] = Field(default=None, sa_type=Date)
    # a partial date ("2026-12") is not known to the day: its start day lies in [start_day,
    # start_day_latest], its end day in [end_day_earliest, end_day]; NULL for a time known to the day
    start_day_latest: Optional[date] = Field(default=None, sa_type=Date)
    end_day_earliest: Optional[date] = Field(default=None, sa_type=Date)
    # minutes east of UTC the time was written in; NULL for dates and other times written without
    # one, whose instants were read in the practice's timezone
    time_offset: Optional[int] = None


TIMED = tuple(Timed.model_fields)  # the time columns of a fact and of each other element that dates it


class Fact(Timed, table=True):
    """A normalized clinical event (or an Observation component) that measures read."""

    __table_args__ = (
        Index("ix_fact_patient", "practice_id", "patient_id", "kind"),
        Index("ix_fact_source", "practice_id", "resource_type", "resource_id"),
    )
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(max_length=64)
    patient_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    resource_type: str = Field(max_length=64)
    resource_id: str = Field(max_length=64)
    component: Optional[int] = None
    value_num: Optional[float] = None
    value_unit: Optional[str] = Field(default=None, max_length=64)
    status: Optional[str] = Field(default=None, max_length=32)


# the patient page's timeline: a patient's latest facts first, without sorting all of them
Index("ix_fact_timeline", Fact.__table__.c.practice_id, Fact.__table__.c.patient_id,
      func.coalesce(Fact.__table__.c.end, Fact.__table__.c.start))


class FactTime(Timed, table=True):
    """Another element that dates a fact, for the measures whose CQL reads it instead of the
    usual one (`dated by:`), e.g. the `issued` of a cancelled Observation. Its times are kept as
    the fact's own are (instants known to their precision, written days, offset)."""

    __tablename__ = "fact_time"
    fact_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    dating: str = Field(sa_column=Column(String(16), primary_key=True))  # the element, e.g. issued


class FactCode(SQLModel, table=True):
    """One coding of a fact; `element` says where it came from (code, value, category, ...)."""

    __tablename__ = "fact_code"
    __table_args__ = (Index("ix_fact_code_code", "code", "system"),)
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    fact_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    element: str = Field(max_length=32)
    system: Optional[str] = Field(default=None, max_length=255)
    code: str = Field(max_length=255)


class ResourceReference(SQLModel, table=True):
    """A reference from one resource to another (other than to its patient), for data quality."""

    __tablename__ = "resource_reference"
    __table_args__ = (
        Index("ix_ref_source", "practice_id", "source_type", "source_id"),
        # medicationReference lookups; few distinct keys, so bulk inserts append within each key
        Index("ix_ref_path", "practice_id", "path", "source_type"),
    )
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(max_length=64)
    source_type: str = Field(max_length=64)
    source_id: str = Field(max_length=64)
    path: str = Field(max_length=128)
    target_type: str = Field(max_length=64)
    target_id: str = Field(max_length=64)


class ImportJob(SQLModel, table=True):
    """One ingest run. `files` records each input and how far it has been committed."""

    __tablename__ = "import_job"
    id: str = Field(primary_key=True, max_length=36)
    practice_id: str = Field(foreign_key="practice.id", index=True)
    source: str = Field(max_length=32)
    status: str = Field(default="queued", max_length=16)
    strict: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    started_at: Optional[datetime] = Field(default=None, sa_type=DateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=DateTime)
    files: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    counts: dict[str, dict[str, int]] = Field(default_factory=dict, sa_column=Column(JSON))
    error: Optional[str] = Field(default=None, sa_column=Column(Text))


class ImportIssue(SQLModel, table=True):
    """A rejected resource or a problem in an input, with where it was and what to fix."""

    __tablename__ = "import_issue"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    import_id: str = Field(max_length=36, index=True)
    severity: str = Field(default="error", max_length=16)
    code: str = Field(default="invalid", max_length=32)
    file: Optional[str] = None
    line: Optional[int] = None
    entry: Optional[int] = None
    resource_type: Optional[str] = Field(default=None, max_length=64)
    resource_id: Optional[str] = Field(default=None, max_length=64)
    path: Optional[str] = None
    message: str = Field(sa_column=Column(Text, nullable=False))


class ValueSet(SQLModel, table=True):
    """A loaded value set expansion (one row per canonical url; replaced when its file changes)."""

    __tablename__ = "value_set"
    url: str = Field(primary_key=True, max_length=255)
    version: Optional[str] = Field(default=None, max_length=64)
    name: str = Field(max_length=255)
    title: Optional[str] = None
    codes: int = 0
    content_hash: str = Field(max_length=64)
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class ValueSetCode(SQLModel, table=True):
    """Membership of a code in a value set: what measures join facts against."""

    __tablename__ = "value_set_code"
    __table_args__ = (Index("ix_vs_code_lookup", "code", "system", "value_set"),)
    value_set: str = Field(primary_key=True, max_length=255)
    system: str = Field(primary_key=True, max_length=255)
    code: str = Field(primary_key=True, max_length=255)
    display: Optional[str] = None


class MeasureRun(SQLModel, table=True):
    """One evaluation of one measure for one practice and period, on the data as of a day."""

    __tablename__ = "measure_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    measure_id: str = Field(max_length=32)
    measure_version: str = Field(max_length=32)
    practice_id: str = Field(foreign_key="practice.id", index=True)
    period_start: date
    period_end: date
    as_of: date
    started_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=DateTime)
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))


class MeasureResult(SQLModel, table=True):
    """A patient's populations, gap status and deciding evidence in one run."""

    __tablename__ = "measure_result"
    __table_args__ = (Index("ix_result_run_patient", "run_id", "patient_id"),)
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    run_id: int = Field(sa_column=Column(Integer, nullable=False))
    patient_id: str = Field(max_length=64)
    initial_population: bool = False
    denominator: bool = False
    denominator_exclusion: bool = False
    denominator_exception: bool = False
    numerator: bool = False
    numerator_exclusion: bool = False
    gap_status: str = Field(max_length=16)
    likely_data_gap: bool = False
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class CareGap(SQLModel, table=True):
    """A patient's gap for one measure and period, kept across runs so that it has a history."""

    __tablename__ = "care_gap"
    __table_args__ = (UniqueConstraint("practice_id", "measure_id", "period_start", "period_end", "patient_id"),)
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(max_length=64)
    measure_id: str = Field(max_length=32)
    period_start: date
    period_end: date
    patient_id: str = Field(max_length=64)
    status: str = Field(max_length=16)
    first_detected_at: Optional[datetime] = Field(default=None, sa_type=DateTime)
    closed_at: Optional[datetime] = Field(default=None, sa_type=DateTime)
    closed_evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    reopened_count: int = 0
    last_run_id: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class GapEvent(SQLModel, table=True):
    """A change of a care gap: detected, closed, reopened, became prospective or not applicable."""

    __tablename__ = "gap_event"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    gap_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    run_id: int
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    event: str = Field(max_length=24)
    status: str = Field(max_length=16)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class RiskScore(SQLModel, table=True):
    """A patient's risk on a day: our model's score, tier and factors, and the CMS-HCC V28 score."""

    __tablename__ = "risk_score"
    __table_args__ = (Index("ix_risk_practice_patient", "practice_id", "patient_id", "as_of"),)
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(max_length=64)
    patient_id: str = Field(max_length=64)
    model_id: str = Field(max_length=64)
    as_of: date
    score: int
    tier: str = Field(max_length=16)
    factors: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    hcc_score: Optional[float] = None
    hccs: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    computed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class User(SQLModel, table=True):
    """A person who signs in: admin, quality lead, care manager or practice user."""

    __tablename__ = "app_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str = Field(max_length=255)
    role: str = Field(max_length=24)
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Membership(SQLModel, table=True):
    """A user belongs to a practice and sees only its patients."""

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    practice_id: str = Field(foreign_key="practice.id", primary_key=True, max_length=64)


class WorklistItem(SQLModel, table=True):
    """One patient on a practice's worklist: gaps and risk, priority, who works it, its status."""

    __tablename__ = "worklist_item"
    __table_args__ = (UniqueConstraint("practice_id", "patient_id"),
                      Index("ix_worklist_rank", "practice_id", "status", "priority"),
                      Index("ix_worklist_priority", "practice_id", "priority"))
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    practice_id: str = Field(max_length=64)
    patient_id: str = Field(max_length=64)
    status: str = Field(default="new", max_length=24)
    priority: float = 0.0
    risk_tier: Optional[str] = Field(default=None, max_length=16)
    risk_score: Optional[int] = None
    gaps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))  # measure, status, since
    gap_signature: str = Field(default="", max_length=512)
    assignee_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    due_date: Optional[date] = None
    dismissed_reason: Optional[str] = Field(default=None, max_length=32)
    dismissed_until: Optional[date] = None
    closed_evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


# the worklist page's order with its status filter: a page of ids from the index alone
Index("ix_worklist_page", WorklistItem.__table__.c.practice_id, WorklistItem.__table__.c.priority.desc(),
      WorklistItem.__table__.c.id, WorklistItem.__table__.c.status)


class WorklistEvent(SQLModel, table=True):
    """A change to a worklist item or a note on it: who, when, what (notes are never erased)."""

    __tablename__ = "worklist_event"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    item_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    actor: str = Field(max_length=255)  # a user's email, "system" for re-evaluation, "token:<practice>"
    kind: str = Field(max_length=16)  # note, status, assignee, due-date, dismissed, reopened, closed-by-data
    old: Optional[str] = None
    new: Optional[str] = None
    text: Optional[str] = Field(default=None, sa_column=Column(Text))


class AuditLog(SQLModel, table=True):
    """Who viewed or changed which patient."""

    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, sa_column=Column(BigId, primary_key=True))
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    actor: str = Field(max_length=255)
    action: str = Field(max_length=16)  # view, change
    practice_id: Optional[str] = Field(default=None, max_length=64)
    patient_id: Optional[str] = Field(default=None, max_length=64)
    path: str = Field(max_length=512)


# Delivery tables live with the concept they serve; imported here so every table is registered.
import caregaps.delivery.models  # noqa: E402,F401
import caregaps.aco.models  # noqa: E402,F401
import caregaps.dashboard.models  # noqa: E402,F401
