"""Delivers notification jobs through apprise: claimed from the database, rate-limited per channel,
retried with back-off, every attempt recorded.

The parts: `notify_channels` (apprise), `notify_jobs` (what a job is about, pure), `notify_record` (what a
round writes afterwards), and here the claim and the round. The desk worker runs `tick` on its loop; the
first call of a new alarm (server/first_call.py) claims that alarm's jobs inside its own transaction with
`claim_in` and sends them with `send_round` — one lease, whoever claims, so no job is sent twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from server import messages
from server.db.models import Alarm, NotificationAttempt, NotificationJob, Resident
from server.db.models_assist import Notice
from server.db.rows import rowcount
from server.links import LinkClaim, LinkSigner
from server.notify_channels import Send, apprise_send, load_plugins
from server.notify_jobs import (
    Outcome,
    Round,
    Tally,
    is_reminder_step,
    notice_message,
    still_wanted,
)
from server.notify_record import record, release
from server.settings import NOTIFY_BACKOFF_S, NOTIFY_LEASE_S, RATE_LIMITS

log = logging.getLogger(__name__)

__all__ = ["Notifier"]


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
        self.tally = Tally()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def sent(self) -> int:
        """Messages delivered since start."""
        return self.tally.sent

    @property
    def failed(self) -> int:
        """Messages given up after every retry."""
        return self.tally.failed

    @property
    def rate_limited(self) -> int:
        """Sends deferred by a channel's rate limit."""
        return self.tally.rate_limited

    def start(self) -> None:
        """Start the sending threads; apprise loads its plugins now, so the first alarm does not wait ~1 s for it."""
        load_plugins()
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
            return self.claim_in(s, now)

    def claim_in(self, s: Session, now: datetime, alarm_id: int | None = None) -> list[NotificationJob]:
        """Lease due jobs (only this alarm's, when given) in the caller's transaction: a compare-and-set on
        status and attempts, so of two claimants (two processes, the desk and a first call) one wins."""
        query = select(NotificationJob).where(
            NotificationJob.due_at <= now,
            or_(
                NotificationJob.status == "pending",
                and_(NotificationJob.status == "sending", NotificationJob.lease_until < now),
            ),
        )
        if alarm_id is not None:
            query = query.where(NotificationJob.alarm_id == alarm_id)
        rows = s.scalars(
            query.order_by(NotificationJob.due_at, NotificationJob.id)
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
        try:
            with self.sessions() as s:
                sorted_out = self.sort_out(s, jobs, now)
        except Exception:  # nothing was sent: the jobs are due again at once, not after their lease
            self.give_back(jobs, now)
            raise
        self.send_round(sorted_out, now)
        return len(jobs)

    def sort_out(self, s: Session, jobs: list[NotificationJob], now: datetime) -> Round:
        """Render what each claimed job owes, and hold back what a channel's rate limit does not allow now."""
        # Only the queries a round needs (an alarm's first call has no notice): each is a statement on the path.
        alarm_ids = {j.alarm_id for j in jobs if j.alarm_id is not None}
        alarms = {a.id: a for a in s.scalars(select(Alarm).where(Alarm.id.in_(alarm_ids)))} if alarm_ids else {}
        resident_ids = {a.resident_id for a in alarms.values() if a.resident_id}
        residents = (
            {r.id: r for r in s.scalars(select(Resident).where(Resident.id.in_(resident_ids)))} if resident_ids else {}
        )
        notice_ids = {j.notice_id for j in jobs if j.notice_id is not None}
        notices = {n.id: n for n in s.scalars(select(Notice).where(Notice.id.in_(notice_ids)))} if notice_ids else {}
        budget = self._budgets(s, {j.channel for j in jobs}, now)
        out = Round()
        for job in jobs:
            message = self._message(job, alarms, residents, notices)
            if message is None:
                out.skipped.append(Outcome(job.id, False, None, skipped=True))
            elif job.channel in budget and budget[job.channel] <= 0:
                out.deferred.append(job)
            else:
                if job.channel in budget:
                    budget[job.channel] -= 1
                out.to_send.append((job, message))
        return out

    def send_round(self, sorted_out: Round, now: datetime) -> None:
        """Send what the round owes (one job on the caller's thread, several in parallel) and record it all."""
        outcomes = sorted_out.skipped + self._send_all(sorted_out.to_send)
        with self.sessions() as s, s.begin():
            record(s, outcomes, sorted_out.deferred, now, self.backoff_s, self.tally)

    def give_back(self, jobs: list[NotificationJob], now: datetime) -> None:
        """Claimed jobs that were not sent: due again at once (else the lease, a minute, would delay them)."""
        try:
            with self.sessions() as s, s.begin():
                release(s, [j.id for j in jobs], now)
        except Exception:  # the lease still expires: at-least-once holds, only later
            log.exception(
                "could not give back %d claimed notification(s); they are retried when the lease ends", len(jobs)
            )

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
