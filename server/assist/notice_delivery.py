"""Notices (信息发布) sent to the addressed residents' caregivers through the durable notification queue.

Publishing adds one job per caregiver and channel (server/notify.py sends them: retries, rate limits,
masked channels); residents none of whose caregivers has a channel are kept on the notice as unreached.
Helpers have no push channel: they read notices on their phone page (server/assist/notices.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin import protocol
from server import audit
from server.audit import Actor
from server.db.models import Caregiver, Gateway, NotificationJob, Pairing, Resident
from server.db.models_assist import Notice
from server.db.models_care import ResidentProfile
from server.masking import mask_url
from server.services import Services

log = logging.getLogger(__name__)
STEP = 0  # notice jobs have no escalation step
NOTICE_COMMAND = "notice"  # gateway/commands.py says it as a normal prompt: it never cuts an emergency


def addressed(session: Session, notice: Notice) -> list[Resident]:
    """The residents a notice is for: everyone, or those of its care category or district."""
    query = select(Resident).order_by(Resident.code)
    if notice.audience == "district":
        query = query.join(ResidentProfile, ResidentProfile.resident_id == Resident.id).where(
            ResidentProfile.district == notice.audience_value
        )
    residents = list(session.scalars(query))
    if notice.audience == "category":
        residents = [r for r in residents if notice.audience_value in (r.care_categories or [])]
    return residents


def enqueue(session: Session, notice: Notice, now: datetime) -> int:
    """Queue the notice for every channel of every addressed resident's caregivers; returns the jobs added."""
    residents = addressed(session, notice)
    pairs = session.execute(
        select(Pairing.resident_id, Caregiver)
        .join(Caregiver, Caregiver.id == Pairing.caregiver_id)
        .where(Pairing.resident_id.in_([r.id for r in residents]))
        .order_by(Pairing.rank)
    ).all()
    seen: set[tuple[int, str]] = set()
    reached: set[int] = set()
    for resident_id, caregiver in pairs:
        for url in caregiver.notify_urls or []:
            reached.add(resident_id)
            if (caregiver.id, url) in seen:  # one message per caregiver and channel, however many residents
                continue
            seen.add((caregiver.id, url))
            session.add(
                NotificationJob(
                    notice_id=notice.id,
                    alarm_id=None,
                    step=STEP,
                    recipient=f"caregiver:{caregiver.id}",
                    recipient_name=caregiver.name,
                    language=caregiver.language,
                    url=url,
                    channel=mask_url(url),
                    due_at=now,
                )
            )
    notice.unreached = [f"{r.code} {r.name}" for r in residents if r.id not in reached]
    session.flush()
    return len(seen)


def read_aloud(services: Services, notice_id: int, actor: Actor) -> list[dict[str, Any]]:
    """After publishing: send the notice as a `notice` command to each addressed resident's gateway; the
    outcome per home is kept on the notice. Best effort: a home offline now does not hear it later."""
    with services.sessions() as s:
        notice = s.get(Notice, notice_id)
        if notice is None or not notice.read_aloud:
            return []
        ids = [r.id for r in addressed(s, notice)]
        gateways = list(s.scalars(select(Gateway.id).where(Gateway.resident_id.in_(ids)).order_by(Gateway.id)))
        args = {"notice_id": notice.id, "title": notice.title, "body": notice.body}
    homes = []
    for gateway_id in gateways:
        try:
            services.downlink(gateway_id, protocol.Command(NOTICE_COMMAND, args))
            homes.append({"gateway": gateway_id, "ok": True})
        except Exception as exc:
            log.error("notice %d could not be sent to %s to be read aloud: %s", notice_id, gateway_id, exc)
            homes.append({"gateway": gateway_id, "ok": False})
    with services.sessions() as s, s.begin():
        row = s.get(Notice, notice_id)
        if row is not None:
            row.homes = homes
            audit.record(
                s, actor, "notice.read_aloud", services.clock(), "notice", str(notice_id), after={"homes": homes}
            )
    return homes


@dataclass(frozen=True, slots=True)
class Delivery:
    """One caregiver's channel and what became of the notice there."""

    recipient: str
    channel: str
    status: str  # pending | sending | sent | failed
    attempts: int
    error: str | None


@dataclass(frozen=True, slots=True)
class Deliveries:
    """A notice's deliveries and their counts."""

    rows: list[Delivery] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many deliveries are in this status ("pending" counts those still being tried)."""
        if status == "pending":
            return sum(1 for d in self.rows if d.status in ("pending", "sending"))
        return sum(1 for d in self.rows if d.status == status)

    def summary(self) -> dict[str, int]:
        """Sent, failed, still trying, and residents with nobody to send to."""
        return {
            "sent": self.count("sent"),
            "failed": self.count("failed"),
            "pending": self.count("pending"),
            "unreached": len(self.unreached),
        }


def deliveries(session: Session, notice: Notice) -> Deliveries:
    """Who the notice was sent to, through which (masked) channel, and the outcome."""
    jobs = session.scalars(
        select(NotificationJob)
        .where(NotificationJob.notice_id == notice.id)
        .order_by(NotificationJob.recipient_name, NotificationJob.id)
    )
    return Deliveries(
        [Delivery(j.recipient_name, j.channel, j.status, j.attempts, j.last_error) for j in jobs],
        list(notice.unreached or []),
    )
