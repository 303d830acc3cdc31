"""What the services API and forms take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.assist.catalog import CATEGORIES

Category = Literal["meals", "cleaning", "medical", "repair", "adaptation", "counselling", "digital", "other"]


class RequestIn(BaseModel):
    """A need declared: for whom, what, how urgent, when it suits."""

    model_config = ConfigDict(extra="forbid")
    resident_code: str = Field(min_length=1, max_length=64)
    category: Category
    urgency: Literal["normal", "urgent"] = "normal"
    preferred_at: datetime | None = None
    description: str = Field(default="", max_length=2000)


class StepIn(BaseModel):
    """One step of a request: accept, assign (to a provider), on the way, arrived, done, cancel."""

    model_config = ConfigDict(extra="forbid")
    step: Literal["accepted", "assigned", "on_the_way", "arrived", "done", "cancelled"]
    provider_code: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class RequestOut(BaseModel):
    """A request with every step's time, its provider and whether it is past its SLA."""

    id: int
    resident_code: str
    resident_name: str
    district: str | None
    category: str
    urgency: str
    preferred_at: datetime | None
    description: str
    channel: str
    created_by: str
    status: str
    provider_code: str | None
    provider_name: str | None
    created_at: datetime
    accepted_at: datetime | None
    assigned_at: datetime | None
    on_the_way_at: datetime | None
    arrived_at: datetime | None
    done_at: datetime | None
    cancelled_at: datetime | None
    note: str | None
    due_at: datetime
    overdue: bool


class ProviderIn(BaseModel):
    """An organisation or a volunteer, the categories they serve, where, when and how many jobs at once."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["organisation", "volunteer"]
    categories: list[Category] = Field(min_length=1)
    district: str | None = Field(default=None, max_length=64)
    hours: str | None = Field(default=None, max_length=128)
    capacity: int = Field(default=3, ge=1, le=1000)
    phone: str | None = Field(default=None, max_length=64)


class ProviderOut(ProviderIn):
    """A provider with their current load, ratings and (for staff) their phone page's link."""

    model_config = ConfigDict(extra="ignore")
    load: int
    ratings: int
    mean_rating: float | None
    link: str | None = None


class EvaluationIn(BaseModel):
    """A 1–5 rating of a completed request or of a resolved alarm (exactly one of the two)."""

    model_config = ConfigDict(extra="forbid")
    request_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    alarm_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    rater: Literal["resident", "family"] = "resident"
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_subject(self) -> EvaluationIn:
        if (self.alarm_id is None) == (self.request_id is None):
            raise ValueError("rate either a request_id or an alarm_id")
        return self


class EvaluationOut(BaseModel):
    """A rating as kept, with its follow-up state."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int | None
    alarm_id: int | None
    rater: str
    score: int
    comment: str | None
    category: str
    staff: str | None
    at: datetime
    recorded_by: str
    follow_up: str | None
    follow_up_note: str | None


def category_words(code: str, lang: str) -> str:
    """A category's name in a language."""
    zh, en = CATEGORIES.get(code, (code, code))
    return en if lang == "en" else zh
