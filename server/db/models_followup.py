"""The doctor's follow-up record for hypertension and type 2 diabetes (国家基本公共卫生服务规范（第三版）):
one row per visit, append-only — a correction is a new record, so every entry keeps its author and time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base, utcnow


class FollowUp(Base):
    """One follow-up visit (随访) of one resident for one condition."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("follow_ups_resident_date", "resident_id", "visit_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    condition: Mapped[str] = mapped_column(String(16))  # hypertension | diabetes
    visit_date: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(16))  # clinic | home | phone
    doctor: Mapped[str] = mapped_column(String(64))  # the staff username who recorded it
    symptoms: Mapped[list[Any]] = mapped_column(default=list)
    signs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lifestyle: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tests: Mapped[dict[str, Any]] = mapped_column(default=dict)  # fasting glucose, HbA1c
    adherence: Mapped[str] = mapped_column(String(16))  # regular | intermittent | none
    adverse_reactions: Mapped[str | None] = mapped_column(Text)
    hypoglycaemia: Mapped[str | None] = mapped_column(String(16))  # none | occasional | frequent (diabetes)
    classification: Mapped[str] = mapped_column(String(32))
    medication: Mapped[list[Any]] = mapped_column(default=list)
    referral: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    next_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
