"""The dashboard's own table: a target rate per measure, set by a quality lead or an admin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from caregaps.models import utcnow


class MeasureTarget(SQLModel, table=True):
    """The rate a measure should reach (or, for an inverse measure, stay under), 0..1."""

    __tablename__ = "measure_target"
    measure_id: str = Field(primary_key=True, max_length=32)
    target: float
    updated_by: str = Field(max_length=255)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
