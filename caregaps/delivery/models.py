"""Tables of worklist delivery: each practice's schedule and channels, every delivery and attempt,
and the lease that lets one scheduler act at a time.

A delivery is identified by (practice, channel, slot): it is written before anything is sent, so
a restart or a second process finds it and never sends the same slot twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, DateTime, Float, Index, LargeBinary, Table, Text, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

from caregaps.models import utcnow


class DeliverySchedule(SQLModel, table=True):
    """When a practice gets its worklist: days of the week and a local time in its timezone."""

    __tablename__ = "delivery_schedule"
    practice_id: str = Field(foreign_key="practice.id", primary_key=True, max_length=64)
    days: str = Field(default="mon,tue,wed,thu,fri", max_length=32)  # comma-separated, mon..sun
    at: str = Field(default="07:00", max_length=5)  # HH:MM, the practice's local time
    enabled: bool = True
    webhook_secret: str = Field(max_length=128)  # signs webhook bodies (HMAC-SHA256)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class DeliveryChannel(SQLModel, table=True):
    """Where a practice's worklist goes: email to recipients, or a webhook URL (JSON or FHIR Tasks)."""

    __tablename__ = "delivery_channel"
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: str = Field(foreign_key="practice.id", index=True, max_length=64)
    kind: str = Field(max_length=16)  # email, webhook
    target: str = Field(sa_column=Column(Text, nullable=False))  # recipients (comma-separated) or URL
    format: str = Field(default="html", max_length=16)  # email: html; webhook: json or fhir
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Delivery(SQLModel, table=True):
    """One worklist sent (or to send) to one channel for one slot, with its current state.

    status: pending (recorded, waiting to be sent or retried), sending (claimed by a sender until
    `claimed_until`), sent, failed (gave up after the last attempt).
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("practice_id", "channel_id", "slot"),
                      Index("ix_delivery_due", "status", "next_attempt_at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: str = Field(foreign_key="practice.id", max_length=64)
    channel_id: int = Field(foreign_key="delivery_channel.id")
    slot: datetime = Field(sa_type=DateTime)  # the scheduled instant (UTC), or the moment of a send-now
    trigger: str = Field(default="schedule", max_length=16)  # schedule, manual
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    claimed_by: Optional[str] = Field(default=None, max_length=128)
    claimed_until: Optional[datetime] = Field(default=None, sa_type=DateTime)
    item_count: Optional[int] = None
    new_gaps: Optional[int] = None
    closed_gaps: Optional[int] = None
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    sent_at: Optional[datetime] = Field(default=None, sa_type=DateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One try at sending a delivery: when, what happened, and the error if it failed."""

    __tablename__ = "delivery_attempt"
    id: Optional[int] = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=DateTime)
    outcome: str = Field(default="sending", max_length=16)  # sending, sent, failed
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    item_count: Optional[int] = None
    holder: Optional[str] = Field(default=None, max_length=128)


class SchedulerLease(SQLModel, table=True):
    """Which scheduler process may act, until when (renewed while it runs)."""

    __tablename__ = "scheduler_lease"
    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=DateTime)


# APScheduler's SQLAlchemyJobStore keeps its jobs here; declared so that migrations create it
# (the job store finds it and creates nothing) and the schema check knows it.
apscheduler_jobs = Table(
    "apscheduler_jobs", SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
