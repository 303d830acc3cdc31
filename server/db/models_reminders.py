"""Medication and measurement reminders of a resident, what became of each, and who changed them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base, utcnow


class HomeReminder(Base):
    """One reminder as the doctor set it; the gateway gets all of a resident's active ones as one document."""

    __tablename__ = "home_reminders"
    __table_args__ = (UniqueConstraint("resident_id", "key", name="home_reminders_resident_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(Text)
    rrule: Mapped[str] = mapped_column(Text)
    start_local: Mapped[str] = mapped_column(String(19))  # the home's wall-clock time, ISO without a zone
    metric: Mapped[str | None] = mapped_column(String(32))
    repeats: Mapped[int] = mapped_column(Integer, default=3)
    repeat_every_min: Mapped[float] = mapped_column(Float, default=10.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderOutcome(Base):
    """A reminder occurrence confirmed or missed at home, as the gateway reported it (once per event)."""

    __tablename__ = "reminder_outcomes"
    __table_args__ = (UniqueConstraint("gateway_id", "seq", name="reminder_outcomes_gateway_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    gateway_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    reminder_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # confirmed | missed
    confirmed_by: Mapped[str | None] = mapped_column(String(16))  # button | measurement
    said: Mapped[int] = mapped_column(Integer, default=1)


class ReminderChange(Base):
    """The audit trail of reminder changes: who set what, when, and the version sent to the home."""

    __tablename__ = "reminder_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
