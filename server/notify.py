"""Delivers notification jobs through apprise: claimed from the database, rate-limited per channel,
retried with back-off, every attempt recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server import messages
from server.alarms import audit
from server.db.models import Alarm, NotificationAttempt, NotificationJob, Resident
from server.db.models_assist import Notice
from server.db.rows import rowcount
from server.links import LinkClaim, LinkSigner
from server.settings import NOTIFY_BACKOFF_S, NOTIFY_LEASE_S, RATE_LIMITS

log = logging.getLogger(__name__)

Send = Callable[[str, str, str], tuple[bool, str | None]]


def apprise_send(url: str, title: str, body: str) -> tuple[bool, str | None]:
    """Deliver one message through apprise; (ok, error)."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return False, "apprise does not understand this URL"
    ok = sender.notify(title=title, body=body)
    return bool(ok), None if ok else "the channel refused or did not answer"


def url_understood(url: str) -> bool:
    """Whether apprise can build a notifier from the URL (it parses it; nothing is sent)."""
    import apprise

    return apprise.Apprise.instantiate(url) is not None


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


class Notifier:
    """Claims due jobs (several processes may run one each), sends them in parallel, records the outcome."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        signer: LinkSigner,
        base_url: str,
        workers: int = 4,
        send: Send = apprise_send,
        backoff_s: tuple[float, ...] = NOTIFY_BACKOFF_S,
        rate_limits: dict[str, int] | None = None,
        lease_s: float = NOTIFY_LEASE_S,
        batch: int = 100,
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.base_url = base_url.rstrip("/")
        self.send = send
        self.backoff_s = backoff_s
        self.rate_limits = RATE_LIMITS if rate_limits is None else rate_limits
        self.lease = timedelta(seconds=lease_s)
        self.batch = batch
        self.workers = workers
        self.sent = 0
        self.failed = 0
        self.rate_limited = 0
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start the sending threads; apprise loads its plugins now, so the first alarm does not wait ~1 s for it."""
        import apprise

        apprise.Apprise().add("json://localhost/")
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="notify")

    def stop(self) -> None:
        """Let running sends finish."""
        if self._pool:
            self._pool.shutdown(wait=True)
            self._pool = None

    def link(self, alarm_id: int, caregiver_id: int) -> str:
        """The caregiver's one-tap acknowledgement page for this alarm."""
        return f"{self.base_url}/c/{self.signer.sign(LinkClaim(alarm_id, caregiver_id))}"

    def _link_for(self, job: NotificationJob) -> str:
        kind, _, ident = job.recipient.partition(":")
        if kind == "caregiver" and job.alarm_id is not None:
            return self.link(job.alarm_id, int(ident))
        return f"{self.base_url}/console/alarms/{job.alarm_id}"

    def claim(self, now: datetime) -> list[NotificationJob]:
        """Lease due jobs, and jobs whose sender died mid-lease (at-least-once), and commit the lease."""
        with self.sessions() as s, s.begin():
            rows = s.scalars(
                select(NotificationJob)
                .where(
                    NotificationJob.due_at <= now,
                    or_(
                        NotificationJob.status == "pending",
                        and_(NotificationJob.status == "sending", NotificationJob.lease_until < now),
                    ),
                )
                .order_by(NotificationJob.due_at, NotificationJob.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            mine = []
            for job in rows:
                won = rowcount(
                    s.execute(
                        update(NotificationJob)
                        .where(
                            NotificationJob.id == job.id,
                            NotificationJob.status == job.status,
                            NotificationJob.attempts == job.attempts,
                        )
                        .values(status="sending", lease_until=now + self.lease)
                        .execution_options(synchronize_session=False)
                    )
                )
                if won:
                    mine.append(job)
            return mine

    def tick(self, now: datetime) -> int:
        """Claim, rate-limit, send and record one batch; returns how many jobs were handled."""
        jobs = self.claim(now)
        if not jobs:
            return 0
        with self.sessions() as s:
            alarms = {a.id: a for a in s.scalars(select(Alarm).where(Alarm.id.in_({j.alarm_id for j in jobs})))}
            residents = {
                r.id: r
                for r in s.scalars(
                    select(Resident).where(Resident.id.in_({a.resident_id for a in alarms.values() if a.resident_id}))
                )
            }
            notices = {n.id: n for n in s.scalars(select(Notice).where(Notice.id.in_({j.notice_id for j in jobs})))}
            budget = self._budgets(s, {j.channel for j in jobs}, now)
            messages_ = {j.id: self._message(j, alarms, residents, notices) for j in jobs}
        to_send, deferred, outcomes = [], [], []
        for job in jobs:
            message = messages_[job.id]
            if message is None:
                outcomes.append(Outcome(job.id, False, None, skipped=True))
            elif job.channel in budget and budget[job.channel] <= 0:
                deferred.append(job)
            else:
                if job.channel in budget:
                    budget[job.channel] -= 1
                to_send.append((job, message))
        outcomes += self._send_all(to_send)
        self._record(outcomes, deferred, now)
        return len(jobs)

    def _budgets(self, s: Session, channels: set[str], now: datetime) -> dict[str, int]:
        # Counted from recorded attempts, so the limit holds across processes and restarts.
        out = {}
        for ch in channels:
            limit = self.rate_limits.get(ch.split("://", 1)[0])
            if limit is not None:
                used = s.scalar(
                    select(func.count())
                    .select_from(NotificationAttempt)
                    .where(NotificationAttempt.channel == ch, NotificationAttempt.at > now - timedelta(minutes=1))
                )
                out[ch] = limit - int(used or 0)
        return out

    def _message(
        self, job: NotificationJob, alarms: dict[int, Alarm], residents: dict[int, Resident], notices: dict[int, Notice]
    ) -> tuple[str, str] | None:
        """The (title, body) a job still owes, or None when it is no longer wanted."""
        if job.notice_id is not None:
            notice = notices.get(job.notice_id)
            return notice_message(notice) if notice else None
        alarm = alarms.get(job.alarm_id) if job.alarm_id is not None else None
        if alarm is None or not still_wanted(job, alarm):
            return None
        return self._render(job, alarm, residents.get(alarm.resident_id or -1))

    def _render(self, job: NotificationJob, alarm: Alarm, resident: Resident | None) -> tuple[str, str]:
        name = resident.name if resident else f"{messages.gateway_word(job.language)} {alarm.gateway_id}"
        return messages.render(
            job.language,
            alarm.type,
            name,
            (resident.address or "") if resident else "",
            alarm.raised_at,
            alarm.device or "",
            self._link_for(job),
            again=is_reminder_step(job.step),
            unreached=job.recipient.startswith("unreached:"),
        )

    def _send_all(self, batch: list[tuple[NotificationJob, tuple[str, str]]]) -> list[Outcome]:
        def one(item: tuple[NotificationJob, tuple[str, str]]) -> Outcome:
            job, (title, body) = item
            try:
                ok, error = self.send(job.url, title, body)
            except Exception as exc:  # supervisor: one channel's plugin failing is that job's failed attempt,
                log.exception("sending to %s raised", job.channel)  # not the loss of the whole batch's outcomes
                return Outcome(job.id, False, f"{type(exc).__name__}: {exc}")
            return Outcome(job.id, ok, error)

        if self._pool is None or len(batch) <= 1:
            return [one(item) for item in batch]
        return list(self._pool.map(one, batch))

    def _record(self, outcomes: list[Outcome], deferred: list[NotificationJob], now: datetime) -> None:
        with self.sessions() as s, s.begin():
            for job in deferred:
                self.rate_limited += 1
                s.execute(
                    update(NotificationJob)
                    .where(NotificationJob.id == job.id)
                    .values(status="pending", lease_until=None, due_at=now + timedelta(seconds=5))
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
                    self.sent += 1
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
                elif job.attempts <= len(self.backoff_s):
                    job.status, job.lease_until, job.last_error = "pending", None, o.error
                    job.due_at = now + timedelta(seconds=self.backoff_s[job.attempts - 1])
                    log.warning(
                        "notifying %s about %s failed (attempt %d, will retry): %s",
                        job.recipient_name,
                        subject(job),
                        job.attempts,
                        o.error,
                    )
                else:
                    self.failed += 1
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
                    log.error(
                        "gave up notifying %s about %s via %s: %s",
                        job.recipient_name,
                        subject(job),
                        job.channel,
                        o.error,
                    )
