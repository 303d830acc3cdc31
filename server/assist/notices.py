"""Notices (信息发布) to everyone or a group (care category, district), shown to helpers of those residents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.assist import notice_delivery
from server.audit import Actor
from server.db.models import Resident
from server.db.models_assist import Notice
from server.db.models_care import HelperPlan, ResidentProfile

RECENT = 20  # a helper's page shows this many notices at most


class NoticeIn(BaseModel):
    """A notice and who it is for."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=128)
    body: str = Field(min_length=1, max_length=5000)
    audience: Literal["all", "category", "district"] = "all"
    audience_value: str | None = Field(default=None, max_length=64)
    read_aloud: bool = False  # also said at each addressed resident's home (notice_delivery.read_aloud)

    @model_validator(mode="after")
    def _value_for_a_group(self) -> NoticeIn:
        if self.audience != "all" and not self.audience_value:
            raise ValueError(f"a notice to a {self.audience} needs audience_value (which {self.audience})")
        return self


class NoticeOut(NoticeIn):
    """A notice as published."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int
    at: datetime
    by: str


def publish(session: Session, body: NoticeIn, actor: Actor, now: datetime, deliver: bool = True) -> Notice:
    """Publish a notice and queue it for the addressed residents' caregivers (unless `deliver` is off:
    a notice recorded as history, as the demo's); audited."""
    row = Notice(
        title=body.title,
        body=body.body,
        audience=body.audience,
        read_aloud=body.read_aloud,
        audience_value=body.audience_value if body.audience != "all" else None,
        at=now,
        by=actor.name or "",
    )
    session.add(row)
    session.flush()
    jobs = notice_delivery.enqueue(session, row, now) if deliver else 0  # sent to caregivers by server/notify.py
    audit.record(
        session,
        actor,
        "notice.published",
        now,
        "notice",
        str(row.id),
        after={**body.model_dump(), "caregiver_messages": jobs, "unreached": len(row.unreached or [])},
    )
    return row


def listing(session: Session, limit: int = 200) -> list[Notice]:
    """Every notice, newest first."""
    return list(session.scalars(select(Notice).order_by(Notice.at.desc(), Notice.id.desc()).limit(limit)))


def reaches(notice: Notice, categories: set[str], districts: set[str]) -> bool:
    """Whether a notice is for someone whose residents have these categories and districts."""
    if notice.audience == "category":
        return notice.audience_value in categories
    if notice.audience == "district":
        return notice.audience_value in districts
    return True


def for_helper(session: Session, helper_id: int) -> list[Notice]:
    """The notices for a helper: to all, or to a category or district of one of their residents."""
    rows = session.execute(
        select(Resident.care_categories, ResidentProfile.district)
        .join(HelperPlan, HelperPlan.resident_id == Resident.id)
        .outerjoin(ResidentProfile, ResidentProfile.resident_id == Resident.id)
        .where(HelperPlan.helper_id == helper_id)
    ).all()
    categories = {c for cats, _ in rows for c in (cats or [])}
    districts = {d for _, d in rows if d}
    return [n for n in listing(session, 500) if reaches(n, categories, districts)][:RECENT]
