"""Tables of services at home: requests, providers and volunteers, ratings, activities and teams, notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base, utcnow


class Provider(Base):
    """An organisation or a volunteer who serves some categories in a district, with a capacity."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # organisation | volunteer
    categories: Mapped[list[Any]] = mapped_column(default=list)
    district: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[str | None] = mapped_column(String(128))
    capacity: Mapped[int] = mapped_column(Integer, default=3)  # jobs open at once
    phone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceRequest(Base):
    """A need declared (需求申报 / 服务预约) and every step of it, each timed."""

    __tablename__ = "service_requests"
    __table_args__ = (Index("service_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(8), default="normal")
    preferred_at: Mapped[datetime | None]
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16))  # staff | family | helper | home
    created_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="new")
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    on_the_way_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)  # the provider's completion note, or why it was cancelled


class Evaluation(Base):
    """A 1–5 rating of a completed request or a resolved alarm; a low one opens a supervisor's follow-up."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"), index=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    rater: Mapped[str] = mapped_column(String(16))  # resident | family
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16))  # the request's category, or "alarm"
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="SET NULL"))
    staff: Mapped[str | None] = mapped_column(String(128))  # who answered the alarm
    at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(128))
    follow_up: Mapped[str | None] = mapped_column(String(8))  # open | closed, for low ratings
    follow_up_note: Mapped[str | None] = mapped_column(Text)


class Activity(Base):
    """A course, a talk or an outing (活动 / 课程), or a team residents join with their skills (老有所为)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # course | talk | outing | team
    title: Mapped[str] = mapped_column(String(128))
    tags: Mapped[list[Any]] = mapped_column(default=list)  # matched against the profile's interests and skills
    starts_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(256))
    district: Mapped[str | None] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))


class ActivitySignup(Base):
    """A resident signed up for an activity or joined a team; attendance marked afterwards."""

    __tablename__ = "activity_signups"
    __table_args__ = (UniqueConstraint("activity_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(128))  # in a team: the skill they bring
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    attended: Mapped[bool | None] = mapped_column(Boolean)


class Notice(Base):
    """A notice (信息发布) to everyone, or to residents of a care category or a district, and their helpers."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(16), default="all")  # all | category | district
    audience_value: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(128))
    # Addressed residents none of whose caregivers has a channel, as "R001 name" (nobody to send to).
    unreached: Mapped[list[Any] | None] = mapped_column(default=list)
    read_aloud: Mapped[bool] = mapped_column(Boolean, default=False)  # also said at home by the speaker
    homes: Mapped[list[Any] | None] = mapped_column(default=list)  # [{"gateway", "ok"}] the say command went to
