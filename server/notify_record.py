"""What the notifier writes after a round of sends: each attempt, the job's new state, the alarm's trail."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.alarms import audit
from server.db.models import Alarm, NotificationAttempt, NotificationJob
from server.notify_jobs import Outcome, Tally, subject

log = logging.getLogger(__name__)

RATE_LIMITED_RETRY = timedelta(seconds=5)


def record(
    s: Session,
    outcomes: list[Outcome],
    deferred: list[NotificationJob],
    now: datetime,
    backoff_s: tuple[float, ...],
    tally: Tally,
) -> None:
    """Write a round's outcomes (caller commits): sent, retried after the back-off, given up, or deferred."""
    for job in deferred:
        tally.rate_limited += 1
        s.execute(
            update(NotificationJob)
            .where(NotificationJob.id == job.id)
            .values(status="pending", lease_until=None, due_at=now + RATE_LIMITED_RETRY)
        )
    ids = [o.job_id for o in outcomes]
    jobs = {j.id: j for j in s.scalars(select(NotificationJob).where(NotificationJob.id.in_(ids)))}
    alarms = {
        a.id: a
        for a in s.scalars(
            select(Alarm).where(Alarm.id.in_({j.alarm_id for j in jobs.values() if j.alarm_id is not None}))
        )
    }
    for o in outcomes:
        if o.job_id not in jobs:
            continue
        job = jobs[o.job_id]
        if o.skipped:
            job.status, job.lease_until = "skipped", None
            continue
        job.attempts += 1
        s.add(
            NotificationAttempt(
                alarm_id=job.alarm_id,
                notice_id=job.notice_id,
                recipient=job.recipient_name,
                channel=job.channel,
                at=now,
                ok=o.ok,
                error=o.error,
                attempt=job.attempts,
            )
        )
        alarm = alarms.get(job.alarm_id) if job.alarm_id is not None else None
        if o.ok:
            _sent(s, job, alarm, now, tally)
        elif job.attempts <= len(backoff_s):
            job.status, job.lease_until, job.last_error = "pending", None, o.error
            job.due_at = now + timedelta(seconds=backoff_s[job.attempts - 1])
            log.warning(
                "notifying %s about %s failed (attempt %d, will retry): %s",
                job.recipient_name,
                subject(job),
                job.attempts,
                o.error,
            )
        else:
            _given_up(s, job, alarm, o, now, tally)


def release(s: Session, job_ids: list[int], now: datetime) -> None:
    """Claimed jobs that were never sent (the sender failed before the send): due again at once."""
    s.execute(
        update(NotificationJob)
        .where(NotificationJob.id.in_(job_ids), NotificationJob.status == "sending")
        .values(status="pending", lease_until=None, due_at=now)
        .execution_options(synchronize_session=False)
    )


def _sent(s: Session, job: NotificationJob, alarm: Alarm | None, now: datetime, tally: Tally) -> None:
    tally.sent += 1
    job.status, job.sent_at, job.lease_until = "sent", now, None
    # Compare-and-set: an acknowledgement committed since the alarm was read must stay.
    if alarm:
        s.execute(
            update(Alarm)
            .where(Alarm.id == alarm.id, Alarm.status == "raised")
            .values(status="notified", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        audit(s, alarm, "notified", job.recipient_name, now, channel=job.channel, step=job.step)
    log.info("notified %s about %s via %s", job.recipient_name, subject(job), job.channel)


def _given_up(s: Session, job: NotificationJob, alarm: Alarm | None, o: Outcome, now: datetime, tally: Tally) -> None:
    tally.failed += 1
    job.status, job.lease_until, job.last_error = "failed", None, o.error
    if alarm:
        audit(
            s,
            alarm,
            "notification_failed",
            job.recipient_name,
            now,
            channel=job.channel,
            error=o.error,
            attempts=job.attempts,
        )
    log.error("gave up notifying %s about %s via %s: %s", job.recipient_name, subject(job), job.channel, o.error)
