"""Tells people about alarms through apprise URLs, on worker threads, recording every attempt."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from server import messages
from server.alarms import audit, get_alarm
from server.db.models import Caregiver, NotificationAttempt, Pairing, Resident
from server.links import LinkClaim, LinkSigner

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


def mask(url: str) -> str:
    """An apprise URL without credentials, for records and logs."""
    return re.sub(r"//[^/@]*@", "//***@", url)


@dataclass(frozen=True, slots=True)
class Job:
    """Notify rank `rank` of an alarm's caregivers."""

    alarm_id: int
    rank: int = 1


class Notifier:
    """A queue of notification jobs worked by a few threads (apprise blocks)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        signer: LinkSigner,
        base_url: str,
        workers: int = 4,
        send: Send = apprise_send,
        retries: tuple[float, ...] = (0.5, 2.0),
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.base_url = base_url.rstrip("/")
        self.send = send
        self.retries = retries
        self.clock = clock
        self.workers = workers
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker threads (apprise is loaded now: the first alarm must not wait for it)."""
        import apprise

        # apprise discovers its plugins on the first add(), not on import: 0.6-0.8 s that the first
        # alarm after a restart would otherwise wait (measured in bench/scenarios/outage.py). No I/O here.
        apprise.Apprise().add("json://127.0.0.1/warm-up")

        for i in range(self.workers):
            t = threading.Thread(target=self._run, name=f"notify-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Finish queued jobs' current step and stop."""
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=10)

    def submit(self, job: Job) -> None:
        """Queue a notification job."""
        self._queue.put(job)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self.deliver(job)
            except Exception:  # supervisor: one failed job must not stop notifications
                log.exception("notification job %s failed", job)

    def link(self, alarm_id: int, caregiver_id: int) -> str:
        """The caregiver's one-tap acknowledgement page for this alarm."""
        return f"{self.base_url}/c/{self.signer.sign(LinkClaim(alarm_id, caregiver_id))}"

    def deliver(self, job: Job) -> int:
        """Send to every URL of the caregivers at this rank; returns how many succeeded."""
        with self.sessions() as s:
            alarm = get_alarm(s, job.alarm_id)
            if alarm.status in ("acknowledged", "resolved", "cancelled"):
                return 0
            resident = s.get(Resident, alarm.resident_id) if alarm.resident_id else None
            pairs = s.query(Pairing).filter_by(resident_id=alarm.resident_id, rank=job.rank).all() if resident else []
            targets = [(p.caregiver, url) for p in pairs for url in p.caregiver.notify_urls]
            snapshot = (alarm.type, alarm.raised_at, alarm.device or "", resident)
        if not targets:
            log.warning("alarm %d: no caregiver at rank %d to notify", job.alarm_id, job.rank)
            return 0
        ok_count = 0
        for caregiver, url in targets:
            ok_count += self._send_with_retries(job.alarm_id, caregiver, url, snapshot)
        return ok_count

    def _send_with_retries(self, alarm_id: int, cg: Caregiver, url: str, snapshot: tuple) -> int:
        type_, raised_at, device, resident = snapshot
        title, body = messages.render(cg.language, type_, resident.name, resident.address or "", raised_at,
                                      device, self.link(alarm_id, cg.id))
        for attempt, delay in enumerate((0.0, *self.retries), start=1):
            if delay:
                time.sleep(delay)
            ok, error = self.send(url, title, body)
            self._record(alarm_id, cg, url, ok, error, attempt)
            if ok:
                self.sent += 1
                log.info("notified %s about alarm %d via %s", cg.name, alarm_id, mask(url))
                return 1
            log.warning("notifying %s about alarm %d failed (attempt %d): %s", cg.name, alarm_id, attempt, error)
        self.failed += 1
        return 0

    def _record(self, alarm_id: int, cg: Caregiver, url: str, ok: bool, error: str | None, attempt: int) -> None:
        now = self.clock()
        with self.sessions() as s, s.begin():
            s.add(NotificationAttempt(alarm_id=alarm_id, recipient=cg.name, channel=mask(url), at=now, ok=ok,
                                      error=error, attempt=attempt))
            if ok:
                alarm = get_alarm(s, alarm_id)
                if alarm.status == "raised":
                    alarm.status = "notified"
                audit(s, alarm, "notified", cg.name, now, channel=mask(url))
