"""Pydantic In/Out schemas of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.alarms import OUTCOMES


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
    raised_at: datetime
    updated_at: datetime
    repeat_count: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_via: str | None
    resolved_at: datetime | None
    outcome: str | None


class AuditOut(BaseModel):
    """One audit record."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    action: str
    actor: str | None
    detail: dict[str, Any]


class AckIn(BaseModel):
    """Who acknowledges, and through what."""

    by: str = Field(min_length=1, max_length=128, description="name of the person acknowledging")
    via: str = Field(default="console", max_length=32)


class NoteIn(BaseModel):
    """A note on an alarm."""

    by: str = Field(min_length=1, max_length=128)
    note: str = Field(min_length=1, max_length=4000)


class ResolveIn(BaseModel):
    """How an alarm ended."""

    by: str = Field(min_length=1, max_length=128)
    outcome: str = Field(description="one of: " + ", ".join(OUTCOMES))
    note: str | None = Field(default=None, max_length=4000)


class HealthOut(BaseModel):
    """Liveness and a few counters."""

    status: str
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
