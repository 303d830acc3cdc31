"""The care record at the HTTP edge: what may come in, what goes out (pydantic, In and Out apart)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Lines = Annotated[list[Short], Field(max_length=50)]
Living = Literal["alone", "spouse", "children", "relatives", "carer", "institution", "other"]
Retirement = Literal["离休", "退休", "other"]
Sense = Literal["normal", "impaired", "aid", "severe"]


class ProfileIn(BaseModel):
    """A resident's profile as staff write it (PUT replaces every field; omitted lists become empty)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    phone: Short | None = None
    address: Long | None = None
    district: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    birth_date: date | None = None
    gender: Literal["female", "male"] | None = None
    former_unit: Short | None = None
    retirement: Retirement | None = None
    rank: Short | None = None
    living_arrangement: Living | None = None
    family: Lines = []
    key_holders: Lines = []
    conditions: Lines = []
    medication: Lines = []
    allergies: Lines = []
    family_doctor: Short | None = None
    doctor_contract_signed: date | None = None
    last_checkup: date | None = None
    interests: Lines = []
    skills: Lines = []
    service_needs: Lines = []
    language: Literal["zh-CN", "en"] = "zh-CN"
    dialect: Short | None = None
    hearing: Sense | None = None
    vision: Sense | None = None
    communication_notes: Long | None = None
    staff_categories: dict[
        Literal["重病", "特殊困难"],
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)],
    ] = {}


class ProfileOut(ProfileIn):
    """The profile with what the server derives: age, categories, tier, the plan's defaults, contact state."""

    model_config = ConfigDict(extra="ignore")

    code: str
    age: int | None
    grade: str | None
    categories: list[str]
    tier: str
    contact_interval_days: int
    devices_needed: list[str]
    services_offered: list[str]
    last_contact: datetime | None
    updated_at: datetime | None
    updated_by: str | None


class ChangeOut(BaseModel):
    """One field's change."""

    at: datetime
    actor: str
    field: str
    old: object
    new: object


class AssessmentIn(BaseModel):
    """An assessment as the assessor fills the form."""

    model_config = ConfigDict(extra="forbid")

    assessed_at: datetime | None = None
    reason: Literal["first", "routine", "event", "review", "other"]
    assessor: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    answers: dict[str, int]
    coma: bool = False
    dementia_or_mental_disorder: bool = False
    risk_events_30d: Annotated[int, Field(ge=0, le=100)] = 0


class AssessmentOut(BaseModel):
    """A scored assessment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    assessed_at: datetime
    reason: str
    assessor: str
    answers: dict[str, int]
    adjustments: dict[str, object]
    domain_totals: dict[str, int]
    total: int
    preliminary: str
    grade: str
    recorded_by: str


class HelperPlanIn(BaseModel):
    """Pair a helper with the resident (the helper is created when the code is new)."""

    model_config = ConfigDict(extra="forbid")

    helper_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    ]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] | None = None
    phone: Short | None = None
    role: Literal["young_cadre", "volunteer", "relative", "community_worker"] | None = None
    rrule: Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] | None = None
    starts_on: date | None = None
    channel: Literal["visit", "phone", "video"] = "visit"


class HelperPlanOut(BaseModel):
    """A helper's plan for this resident, with what is due."""

    helper_code: str
    name: str
    phone: str | None
    role: str
    rrule: str
    starts_on: date
    channel: str
    next_due: date | None
    overdue: bool
    link: str


class ContactIn(BaseModel):
    """A visit or call, as recorded on the phone."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None
    channel: Literal["visit", "phone", "video"]
    helper_code: str | None = None
    mood: Literal["good", "fair", "low"]
    health: Literal["stable", "worse", "unwell"]
    living: Literal["good", "needs_help", "poor"]
    hazards: Annotated[list[Literal["fall", "gas", "electric", "fire", "lock", "other"]], Field(max_length=6)] = []
    needs: Long | None = None
    note: Long | None = None


class ContactOut(BaseModel):
    """A recorded contact."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    channel: str
    by: str
    mood: str
    health: str
    living: str
    hazards: list[str]
    needs: str | None
    note: str | None


class DueOut(BaseModel):
    """One contact owed: a planned one or a follow-up after an emergency."""

    resident_code: str
    resident_name: str
    kind: Literal["plan", "follow_up"]
    helper_code: str | None
    helper_name: str | None
    channel: str
    due: date
    overdue: bool
    alarm_id: int | None = None
