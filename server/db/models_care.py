"""Tables of the care record: profile and its history, assessments, helpers and their plans, contacts, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base, utcnow


class ResidentProfile(Base):
    """Everything staff know about a resident beyond the alarm card; searchable fields as columns."""

    __tablename__ = "resident_profiles"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    district: Mapped[str | None] = mapped_column(String(64), index=True)
    living_arrangement: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str | None] = mapped_column(String(16))  # of the latest assessment
    staff_categories: Mapped[dict[str, Any]] = mapped_column(default=dict)  # 重病/特殊困难 -> reason
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(128))


class ProfileChange(Base):
    """One field of one profile changed: who, when, from what to what (never updated, never deleted)."""

    __tablename__ = "profile_changes"
    __table_args__ = (Index("profile_changes_resident_at", "resident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"v": value}: JSON keeps lists and None
    new: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Assessment(Base):
    """One ability assessment per GB/T 42195-2022."""

    __tablename__ = "assessments"
    __table_args__ = (Index("assessments_resident_at", "resident_id", "assessed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    assessed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))
    assessor: Mapped[str] = mapped_column(String(128))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    adjustments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    domain_totals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total: Mapped[int] = mapped_column(Integer)
    preliminary: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Helper(Base):
    """Someone paired with residents to keep in touch (结对帮扶): young cadre, volunteer, relative, worker."""

    __tablename__ = "helpers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class HelperPlan(Base):
    """A helper paired with a resident, and how often and how they keep in touch."""

    __tablename__ = "helper_plans"
    __table_args__ = (UniqueConstraint("resident_id", "helper_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    helper_id: Mapped[int] = mapped_column(ForeignKey("helpers.id", ondelete="CASCADE"), index=True)
    rrule: Mapped[str] = mapped_column(String(256))
    starts_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class Contact(Base):
    """A visit or call (常态化联系) and what the helper or staff member found."""

    __tablename__ = "contacts"
    __table_args__ = (Index("contacts_resident_at", "resident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("helpers.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(128))
    mood: Mapped[str] = mapped_column(String(16))
    health: Mapped[str] = mapped_column(String(16))
    living: Mapped[str] = mapped_column(String(16))
    hazards: Mapped[list[Any]] = mapped_column(default=list)
    needs: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareAudit(Base):
    """Append-only record of every change to, and every read of, a care record."""

    __tablename__ = "care_audit"
    __table_args__ = (Index("care_audit_resident_at", "resident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
