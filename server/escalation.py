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
from sqlalchemy.orm import Session, joinedload

from server.alarms import audit
from server.db.models import Alarm, AlarmAudit, DutyShift, NotificationJob, Pairing, Staff
from server.db.rows import rowcount
from server.masking import mask_url as mask
from server.settings import STAFF_ACK_TIMEOUT_S, SUPERVISOR_ACK_TIMEOUT_S

log = logging.getLogger(__name__)

ESCALATING = ("raised", "notified")
NO_RECIPIENTS = "no_recipients"  # a stage had nobody with a channel: the alarm shows "未能通知" (server/web/views.py)
SUPERVISOR_TOLD = "supervisor_told"
NOBODY_REACHABLE = "nobody_reachable"
NOBODY_RETRY_S = 30
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
    rostered = list(
        session.scalars(select(Staff).where(Staff.id.in_(shifts), Staff.active.is_(True)).order_by(Staff.id))
    )
    if rostered:
        return rostered
    return list(session.scalars(select(Staff).where(Staff.role == "staff", Staff.active.is_(True))))


def recipients(session: Session, alarm: Alarm, stage: Stage, now: datetime) -> list[Recipient]:
    """Who the stage reaches, one entry per channel."""
    if stage.kind == "caregiver":
        pairs = session.scalars(
            select(Pairing)
            .where(Pairing.resident_id == alarm.resident_id, Pairing.rank == stage.rank)
            .options(joinedload(Pairing.caregiver))  # one statement, not one more per caregiver
        )
        return [
            Recipient(f"caregiver:{p.caregiver.id}", p.caregiver.name, p.caregiver.language, url)
            for p in pairs
            for url in p.caregiver.notify_urls
        ]
    people = (
        on_duty(session, now)
        if stage.kind == "staff"
        else list(session.scalars(select(Staff).where(Staff.role == "supervisor", Staff.active.is_(True))))
    )
    return [Recipient(f"staff:{p.id}", p.display_name, p.language, url) for p in people for url in p.notify_urls]


class Escalator:
    """Turns due escalation timers into notification jobs."""

    def __init__(
        self,
        staff_timeout_s: int = STAFF_ACK_TIMEOUT_S,
        supervisor_timeout_s: int = SUPERVISOR_ACK_TIMEOUT_S,
        batch: int = 50,
    ) -> None:
        self.staff_timeout_s = staff_timeout_s
        self.supervisor_timeout_s = supervisor_timeout_s
        self.batch = batch

    def tick(self, session: Session, now: datetime) -> int:
        """Fire every due step (caller commits); returns how many steps fired."""
        due = session.scalars(
            select(Alarm)
            .where(Alarm.next_escalation_at <= now, Alarm.status.in_(ESCALATING))
            .order_by(Alarm.next_escalation_at)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        ).all()
        fired = 0
        for alarm in due:
            fired += self._fire(session, alarm, now, [])
        return fired

    def fire_one(self, session: Session, alarm_id: int, now: datetime, leased_until: datetime) -> list[NotificationJob]:
        """Fire one alarm's step if it is due (the first call of a new alarm, server/first_call.py), its jobs
        written already leased by the caller until `leased_until`; none when it is not due, or another round
        holds or fired it (the compare-and-set below)."""
        alarm = session.scalars(
            select(Alarm)
            .where(Alarm.id == alarm_id, Alarm.next_escalation_at <= now, Alarm.status.in_(ESCALATING))
            .with_for_update(skip_locked=True)
        ).first()
        jobs: list[NotificationJob] = []
        if alarm is not None:
            self._fire(session, alarm, now, jobs, leased_until)
        return jobs

    def _fire(
        self, session: Session, alarm: Alarm, now: datetime, jobs: list[NotificationJob], leased: datetime | None = None
    ) -> int:
        """Fire the alarm's step; the jobs it writes are appended to `jobs` (leased until `leased`, when given)."""
        pairings = (
            []
            if alarm.resident_id is None
            else list(session.scalars(select(Pairing).where(Pairing.resident_id == alarm.resident_id)))
        )
        stages = policy(pairings, is_technical(alarm), self.staff_timeout_s, self.supervisor_timeout_s)
        step = alarm.escalation_step
        walk = next_reachable(session, alarm, stages, step, now)
        if walk.targets:
            nxt = now + timedelta(seconds=walk.stage.timeout_s)
        else:  # nobody anywhere: every console is told (server/web/live.py), and the round is tried again soon
            nxt = now + timedelta(seconds=min(NOBODY_RETRY_S, walk.stage.timeout_s))
        # Compare-and-set: another process that fired this step first makes rowcount 0.
        won = rowcount(
            session.execute(
                update(Alarm)
                .where(Alarm.id == alarm.id, Alarm.escalation_step == step, Alarm.status.in_(ESCALATING))
                .values(escalation_step=walk.step + 1, next_escalation_at=nxt, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if not won:
            return 0
        if not walk.targets and _has(session, alarm, NOBODY_REACHABLE):
            return 1  # already on every console; the retry is not written down again
        for skipped_step, empty in walk.skipped:
            audit(session, alarm, NO_RECIPIENTS, "system", now, step=skipped_step, stage=empty.kind, rank=empty.rank)
            log.warning(
                "alarm %d: nobody to notify at step %d (%s); next stage at once", alarm.id, skipped_step, empty.kind
            )
        # "Could not notify the family" is said only when a family stage was empty: an empty staff stage after
        # the family was told is recorded (history) but is not news for the supervisor, who is the next stage.
        no_family = not is_technical(alarm) and not any(st.kind == "caregiver" for st in stages)
        family_missed = no_family or any(st.kind == "caregiver" for _, st in walk.skipped)
        told = self._tell_supervisor(session, alarm, walk, now, jobs) if family_missed else []
        chief_reached = family_missed and walk.stage.kind == "supervisor"
        for r in walk.targets:
            # Reached only at the supervisor stage: their message says the family could not be notified.
            key = f"unreached:{r.key}" if chief_reached else r.key
            jobs.append(_job(alarm, walk.step, key, r, now))
        for job in jobs:
            if leased is not None:  # the first call sends them itself: the desk must not claim them meanwhile
                job.status, job.lease_until = "sending", leased
            session.add(job)
        if walk.targets:
            audit(
                session,
                alarm,
                "escalated",
                "system",
                now,
                step=walk.step,
                stage=walk.stage.kind,
                rank=walk.stage.rank,
                round=walk.step // len(stages) + 1,
                recipients=sorted({r.name for r in walk.targets}),
                next_at=nxt.isoformat(),
            )
        elif not told:
            audit(session, alarm, NOBODY_REACHABLE, "system", now, step=walk.step, next_at=nxt.isoformat())
            log.error("alarm %d: no stage of its policy reaches anybody; every console is told", alarm.id)
        return 1

    def _tell_supervisor(
        self, session: Session, alarm: Alarm, walk: Walk, now: datetime, jobs: list[NotificationJob]
    ) -> list[Recipient]:
        """Stages were skipped: the supervisor hears that the family could not be notified (once per alarm)."""
        if _has(session, alarm, SUPERVISOR_TOLD):
            return []
        chiefs = recipients(session, alarm, Stage("supervisor", self.supervisor_timeout_s), now)
        if walk.stage.kind != "supervisor":  # otherwise the stage's own jobs carry the news
            already = {(r.key, r.url) for r in walk.targets}
            for r in chiefs:
                if (r.key, r.url) not in already:
                    jobs.append(_job(alarm, walk.step, f"unreached:{r.key}", r, now))
        if chiefs:
            audit(
                session,
                alarm,
                SUPERVISOR_TOLD,
                "system",
                now,
                step=walk.step,
                recipients=sorted({r.name for r in chiefs}),
                skipped=[st.kind for _, st in walk.skipped],
            )
        return chiefs


def _job(alarm: Alarm, step: int, key: str, r: Recipient, now: datetime) -> NotificationJob:
    return NotificationJob(
        alarm_id=alarm.id,
        step=step,
        recipient=key,
        recipient_name=r.name,
        language=r.language,
        url=r.url,
        channel=mask(r.url),
        due_at=now,
        status="pending",
        attempts=0,
    )


def _has(session: Session, alarm: Alarm, action: str) -> bool:
    return (
        session.scalar(
            select(AlarmAudit.id).where(AlarmAudit.alarm_id == alarm.id, AlarmAudit.action == action).limit(1)
        )
        is not None
    )


@dataclass(frozen=True, slots=True)
class Walk:
    """Where one firing lands: the first stage from `step` that reaches somebody, and the empty ones before it."""

    step: int
    stage: Stage
    targets: list[Recipient]
    skipped: list[tuple[int, Stage]]


def next_reachable(session: Session, alarm: Alarm, stages: list[Stage], step: int, now: datetime) -> Walk:
    """Walk the policy from `step`, at most one round, skipping stages with nobody to notify."""
    skipped: list[tuple[int, Stage]] = []
    for at in range(step, step + len(stages)):
        stage = stages[at % len(stages)]
        targets = recipients(session, alarm, stage, now)
        if targets:
            return Walk(at, stage, targets, skipped)
        skipped.append((at, stage))
    last = step + len(stages) - 1
    return Walk(last, stages[last % len(stages)], [], skipped)
