"""What a notification job is about and whether it is still owed: pure functions over loaded rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.db.models import Alarm, NotificationJob
from server.db.models_assist import Notice


def is_reminder_step(step: int) -> bool:
    """Reminders after a new press on an acknowledged alarm have steps -1, -2, … (server/reminders.py)."""
    return step < 0


def notice_message(notice: Notice) -> tuple[str, str]:
    """A notice (信息发布) as a caregiver's message: its title and body as staff wrote them."""
    return f"通知 Notice：{notice.title}", notice.body


def subject(job: NotificationJob) -> str:
    """What a job is about, for log lines."""
    return f"alarm {job.alarm_id}" if job.alarm_id is not None else f"notice {job.notice_id}"


def still_wanted(job: NotificationJob, alarm: Alarm | None) -> bool:
    """Whether the alarm still needs this message: escalation stops at an acknowledgement, reminders do not."""
    if alarm is None:
        return False
    return alarm.status in ("raised", "notified") or (alarm.status == "acknowledged" and is_reminder_step(job.step))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one claimed job came to."""

    job_id: int
    ok: bool
    error: str | None
    skipped: bool = False


@dataclass(slots=True)
class Round:
    """Claimed jobs sorted out: what to send (with its title and body), what the rate limit defers, what is
    no longer wanted."""

    to_send: list[tuple[NotificationJob, tuple[str, str]]] = field(default_factory=list)
    deferred: list[NotificationJob] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)


@dataclass(slots=True)
class Tally:
    """The notifier's counters (/health and /metrics read them)."""

    sent: int = 0
    failed: int = 0
    rate_limited: int = 0
