"""Pydantic In/Out schemas of the REST API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server.alarms import OUTCOMES


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


# Times leave the API with their zone: SQLite hands them back naive, but they are stored in UTC.
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class AlarmOut(BaseModel):
    """An alarm as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    resident_id: int | None
    gateway_id: str
    type: str
    severity: str
    status: str
    device: str | None
    message: str
    detail: dict[str, Any]
    raised_at: UtcDatetime
    updated_at: UtcDatetime
    repeat_count: int
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    acknowledged_via: str | None
    resolved_at: UtcDatetime | None
    outcome: str | None


class AuditOut(BaseModel):
    """One audit record."""

    model_config = ConfigDict(from_attributes=True)

    at: UtcDatetime
    action: str
    actor: str | None
    detail: dict[str, Any]


class AckIn(BaseModel):
    """Through what the acknowledgement came (the person is the signed-in account)."""

    via: Literal["console", "phone", "radio", "in_person"] = "console"


class NoteIn(BaseModel):
    """A note on an alarm."""

    note: str = Field(min_length=1, max_length=4000)


class ResolveIn(BaseModel):
    """How an alarm ended."""

    outcome: Literal[OUTCOMES] = Field(description="how it ended")  # type: ignore[valid-type]  # pydantic expands a Literal of the desk's tuple at run time; mypy takes literal values only
    note: str | None = Field(default=None, max_length=4000)


class HealthOut(BaseModel):
    """Liveness and a few counters."""

    status: str
    intake: str = "alive"  # the intake probe's verdict (server/intake_probe.py)
    ingest: dict[str, int]
    notifications_sent: int
    notifications_failed: int


class StaffOut(BaseModel):
    """A staff account as others see it (never the hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    language: str


class TokenOut(BaseModel):
    """The OAuth2 password flow's answer."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    staff: StaffOut
    csrf_token: str = Field(description="send as X-CSRF-Token with state changes made through the session cookie")


class ResidentOut(BaseModel):
    """A resident's card: what staff and doctors need to help."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    birth_year: int | None
    address: str | None
    phone: str | None
    language: str
    key_holder: str | None
    care_categories: list[str]
    conditions: list[str]
    medication: list[str]
    bp_target: dict[str, float]
    consent: bool
    notes: str | None


class PairingOut(BaseModel):
    """Caregiver N in a resident's escalation order."""

    rank: int
    caregiver_code: str
    caregiver_name: str
    relation: str | None
    phone: str | None
    language: str
    ack_timeout_s: int
    channels: int


class PairingIn(BaseModel):
    """One entry of a new escalation order."""

    caregiver_code: str = Field(min_length=1, max_length=64)
    ack_timeout_s: int = Field(default=120, ge=10, le=3600)


class ReadingOut(BaseModel):
    """A stored measurement."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    resident_id: int | None
    gateway_id: str
    device: str
    metric: str
    ts: UtcDatetime
    values: dict[str, float]
    flags: list[str]


class AuditEntryOut(AuditOut):
    """An audit record with the alarm it belongs to."""

    id: int
    alarm_id: int


class GatewayOut(BaseModel):
    """A home's gateway and its presence."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    resident_id: int | None
    state: str
    state_at: UtcDatetime | None
    last_seen: UtcDatetime | None
    last_seq: int


class CommandOut(BaseModel):
    """A command sent to a gateway."""

    gateway_id: str
    cmd: str
    args: dict[str, Any]


class DeadLetterOut(BaseModel):
    """A message ingest could not accept."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: UtcDatetime
    topic: str
    gateway_id: str | None
    seq: int | None
    reason: str
    payload: str


class LinkAlarmOut(BaseModel):
    """What a caregiver's link shows: that one alarm and that one resident, nothing else."""

    alarm: AlarmOut
    resident_name: str | None
    address: str | None
    key_holder: str | None
    caregiver_name: str
