"""Escalation: caregiver 1 → caregiver 2 → on-duty staff → supervisor, repeating until someone acknowledges.

Timers are the alarms' own `next_escalation_at` column, so they survive restarts; a due alarm is
claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL) and advanced with a compare-and-set on its step,
so with several server processes each step fires exactly once (SQLite serialises writers anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.alarms import audit
from server.db.models import Alarm, DutyShift, NotificationJob, Pairing, Staff
from server.masking import mask_url as mask

log = logging.getLogger(__name__)

ESCALATING = ("raised", "notified")
TECHNICAL_TYPES = frozenset({"gateway_offline", "device_offline", "device_silent", "low_battery", "tamper"})


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a policy: whom to tell, and how long to wait for an acknowledgement."""

    kind: str  # "caregiver", "staff" or "supervisor"
    timeout_s: int
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person and one of their channels."""

    key: str
    name: str
    language: str
    url: str


def is_technical(alarm: Alarm) -> bool:
    """Technical alarms (a silent gateway, a flat battery) go to staff only, never to families."""
    return alarm.severity == "technical" or alarm.type in TECHNICAL_TYPES


def policy(pairings: list[Pairing], technical: bool, staff_timeout_s: int, supervisor_timeout_s: int) -> list[Stage]:
    """The stages of a resident's policy, in order; the last one is followed by the first again."""
    ordered = [] if technical else sorted(pairings, key=lambda p: p.rank)
    stages = [Stage("caregiver", p.ack_timeout_s, p.rank) for p in ordered]
    return [*stages, Stage("staff", staff_timeout_s), Stage("supervisor", supervisor_timeout_s)]


def on_duty(session: Session, now: datetime) -> list[Staff]:
    """Staff whose shift covers now; with no roster for now, every active desk account (never nobody)."""
    shifts = select(DutyShift.staff_id).where(DutyShift.starts_at <= now, DutyShift.ends_at > now)
    rostered = list(session.scalars(
        select(Staff).where(Staff.id.in_(shifts), Staff.active.is_(True)).order_by(Staff.id)))
    if rostered:
        return rostered
    return list(session.scalars(select(Staff).where(Staff.role == "staff", Staff.active.is_(True))))


def recipients(session: Session, alarm: Alarm, stage: Stage, now: datetime) -> list[Recipient]:
    """Who the stage reaches, one entry per channel."""
    if stage.kind == "caregiver":
        pairs = session.scalars(select(Pairing).where(Pairing.resident_id == alarm.resident_id,
                                                      Pairing.rank == stage.rank))
        return [Recipient(f"caregiver:{p.caregiver.id}", p.caregiver.name, p.caregiver.language, url)
                for p in pairs for url in p.caregiver.notify_urls]
    people = on_duty(session, now) if stage.kind == "staff" else list(session.scalars(
        select(Staff).where(Staff.role == "supervisor", Staff.active.is_(True))))
    return [Recipient(f"staff:{p.id}", p.display_name, p.language, url) for p in people for url in p.notify_urls]


class Escalator:
    """Turns due escalation timers into notification jobs."""

    def __init__(self, staff_timeout_s: int = 120, supervisor_timeout_s: int = 300, batch: int = 50) -> None:
        self.staff_timeout_s = staff_timeout_s
        self.supervisor_timeout_s = supervisor_timeout_s
        self.batch = batch

    def tick(self, session: Session, now: datetime) -> int:
        """Fire every due step (caller commits); returns how many steps fired."""
        due = session.scalars(
            select(Alarm).where(Alarm.next_escalation_at <= now, Alarm.status.in_(ESCALATING))
            .order_by(Alarm.next_escalation_at).limit(self.batch).with_for_update(skip_locked=True)
        ).all()
        fired = 0
        for alarm in due:
            fired += self._fire(session, alarm, now)
        return fired

    def _fire(self, session: Session, alarm: Alarm, now: datetime) -> int:
        pairings = [] if alarm.resident_id is None else list(
            session.scalars(select(Pairing).where(Pairing.resident_id == alarm.resident_id)))
        stages = policy(pairings, is_technical(alarm), self.staff_timeout_s, self.supervisor_timeout_s)
        step = alarm.escalation_step
        stage = stages[step % len(stages)]
        targets = recipients(session, alarm, stage, now)
        # A stage that reaches nobody (no channel configured) must not hold the alarm for its full timeout.
        nxt = now + timedelta(seconds=stage.timeout_s if targets else min(stage.timeout_s, 10))
        # Compare-and-set: another process that fired this step first makes rowcount 0.
        won = session.execute(
            update(Alarm).where(Alarm.id == alarm.id, Alarm.escalation_step == step,
                                Alarm.status.in_(ESCALATING))
            .values(escalation_step=step + 1, next_escalation_at=nxt)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            return 0
        for r in targets:
            session.add(NotificationJob(alarm_id=alarm.id, step=step, recipient=r.key, recipient_name=r.name,
                                        language=r.language, url=r.url, channel=mask(r.url), due_at=now))
        audit(session, alarm, "escalated", "system", now, step=step, stage=stage.kind, rank=stage.rank,
              round=step // len(stages) + 1, recipients=sorted({r.name for r in targets}),
              next_at=nxt.isoformat())
        if not targets:
            log.warning("alarm %d: nobody to notify at step %d (%s); moving on at %s", alarm.id, step, stage.kind, nxt)
        return 1
