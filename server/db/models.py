"""The relational schema: people, homes, devices, what gateways sent, alarms and their audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Aware UTC now; the default for timestamps the database fills."""
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    """A timestamp read back from the database, aware: SQLite returns naive ones (they were stored as UTC)."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Resident(Base):
    """A person the service looks after."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    birth_year: Mapped[int | None]
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    key_holder: Mapped[str | None] = mapped_column(Text)
    care_categories: Mapped[list[Any]] = mapped_column(default=list)
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    medication: Mapped[list[Any]] = mapped_column(default=list)
    bp_target: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str | None] = mapped_column(String(64))  # for morning/evening; None means Asia/Shanghai
    consent: Mapped[bool] = mapped_column(Boolean, default=False)  # storing health readings (emergency: always)
    # showing the readings to doctors and exporting them
    consent_sharing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    consent_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]  # personal data irreversibly anonymised (server/data_rights.py)
    notes: Mapped[str | None] = mapped_column(Text)

    pairings: Mapped[list[Pairing]] = relationship(back_populates="resident", order_by="Pairing.rank")


class Caregiver(Base):
    """A relative, paired cadre or volunteer who is alerted for a resident."""

    __tablename__ = "caregivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    relation: Mapped[str | None] = mapped_column(String(64))
    notify_urls: Mapped[list[Any]] = mapped_column(default=list)


class Pairing(Base):
    """Caregiver N of a resident's escalation order (结对)."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("resident_id", "caregiver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer, default=1)
    ack_timeout_s: Mapped[int] = mapped_column(Integer, default=120)

    resident: Mapped[Resident] = relationship(back_populates="pairings")
    caregiver: Mapped[Caregiver] = relationship()


class Staff(Base):
    """An account of the alarm centre: on-duty staff, supervisor, doctor or administrator."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), default="staff")
    password_hash: Mapped[str] = mapped_column(String(256))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    phone: Mapped[str | None] = mapped_column(String(64))
    notify_urls: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every token carries the version it was issued under: logout, a new password or disabling bumps it.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Optional second factor (admin, supervisor): RFC 6238 codes, server/totp.py.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DutyShift(Base):
    """A staff member on duty from `starts_at` to `ends_at` (the roster)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("duty_shifts_time", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Gateway(Base):
    """The Pi in a home."""

    __tablename__ = "gateways"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen: Mapped[datetime | None]
    boot_id: Mapped[str | None] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    state_at: Mapped[datetime | None]
    # Every seq <= acked_upto is stored or accounted for by a gap record: the cumulative ack.
    acked_upto: Mapped[int] = mapped_column(BigInteger, default=0)
    rules_pushed_version: Mapped[int | None] = mapped_column(Integer)
    rules_version: Mapped[int | None] = mapped_column(Integer)
    rules_error: Mapped[str | None] = mapped_column(Text)
    # The gateway's central-broker password as a `$7$` PBKDF2 hash (server/broker_access.py); None: cannot log in.
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(160))


class Device(Base):
    """A device installed in a home."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("gateway_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    family: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(64))
    last_seen: Mapped[datetime | None]
    battery: Mapped[float | None] = mapped_column(Float)


class IngestedEvent(Base):
    """Every (gateway, seq) the server has committed: the duplicate filter and the raw record."""

    __tablename__ = "ingested_events"
    __table_args__ = (UniqueConstraint("gateway_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    gateway_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    lane: Mapped[str] = mapped_column(String(16))
    gateway_ts: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    ts_corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    # None for readings: the reading row is their record, and writing it twice halves ingest speed.
    body: Mapped[dict[str, Any] | None]


class Reading(Base):
    """A measurement kept for trends."""

    __tablename__ = "readings"
    __table_args__ = (Index("readings_resident_metric_ts", "resident_id", "metric", "ts"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    gateway_id: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(128))
    metric: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime]
    values: Mapped[dict[str, Any]]
    flags: Mapped[list[Any]] = mapped_column(default=list)


class Alarm(Base):
    """An alarm from raise to resolution."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("alarms_status", "status", "severity"),
        # One active alarm per (home, type), enforced by the database even with several ingest processes.
        Index(
            "alarms_one_active",
            "gateway_id",
            "type",
            unique=True,
            postgresql_where=text("status IN ('raised', 'notified', 'acknowledged')"),
            sqlite_where=text("status IN ('raised', 'notified', 'acknowledged')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    gateway_id: Mapped[str] = mapped_column(String(64))
    gateway_seq: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="raised")
    device: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_via: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)

    resident: Mapped[Resident | None] = relationship()
    audit: Mapped[list[AlarmAudit]] = relationship(order_by="AlarmAudit.id", back_populates="alarm")


class AlarmAudit(Base):
    """Append-only record of every transition and note."""

    __tablename__ = "alarm_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    alarm: Mapped[Alarm] = relationship(back_populates="audit")


class NotificationAttempt(Base):
    """One try at telling one person about one alarm through one channel."""

    __tablename__ = "notification_attempts"
    __table_args__ = (Index("notification_attempts_channel_at", "channel", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    # Or a notice (信息发布) sent to a caregiver through the same queue (server/assist/notice_delivery.py).
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=1)


class NotificationJob(Base):
    """One message owed to one person through one channel: the durable queue the notifiers claim from."""

    __tablename__ = "notification_jobs"
    __table_args__ = (
        UniqueConstraint("alarm_id", "step", "recipient", "url"),
        Index("notification_jobs_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(64))
    recipient_name: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    url: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class DeadLetter(Base):
    """An uplink message or event the server could not accept, kept for administrators."""

    __tablename__ = "dead_letters"
    # Ingest asks, for every drain, whether an event was rejected before (server/reliability.py).
    __table_args__ = (Index("dead_letters_gateway_seq", "gateway_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    topic: Mapped[str] = mapped_column(String(256))
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)


# Tables owned by other modules, imported so the metadata (and the migration check) sees them; here at the end
# because those modules import Base from this one.
from server.db import (  # noqa: E402
    models_assist,  # noqa: F401
    models_care,  # noqa: F401
    models_followup,  # noqa: F401
    models_reminders,  # noqa: F401
    models_security,  # noqa: F401
)
