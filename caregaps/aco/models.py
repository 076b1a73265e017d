"""Tables of the ACO roll-up: which person each practice's patient record belongs to, and the
splits an admin made (two records that must never be matched again).

`person_link` is recomputed by every rebuild (caregaps.aco.rollup); `match_split` is what
people wrote and is never recomputed away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from caregaps.models import utcnow


class PersonLink(SQLModel, table=True):
    """A practice's patient record and the person it was matched to, by which rule."""

    __tablename__ = "person_link"
    __table_args__ = (UniqueConstraint("practice_id", "patient_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_id: str = Field(max_length=64)
    patient_id: str = Field(max_length=64)
    person_id: str = Field(max_length=64, index=True)
    rule: str = Field(max_length=16)  # mbi, demographics, single (see caregaps.aco.matching)
    representative: bool = False  # the record the person's demographics come from
    matched_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class MatchSplit(SQLModel, table=True):
    """An admin said these two records are not the same person."""

    __tablename__ = "match_split"
    id: Optional[int] = Field(default=None, primary_key=True)
    practice_a: str = Field(max_length=64)
    patient_a: str = Field(max_length=64)
    practice_b: str = Field(max_length=64)
    patient_b: str = Field(max_length=64)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
