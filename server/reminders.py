"""A resident who presses again after someone acknowledged: tell that person and the desk again.

An acknowledgement stops escalation ("I'm on my way"), but it does not mean help has arrived. A new
press on the same, still open emergency means the situation changed or the wait is too long, so it
is not just counted: the person who acknowledged (when they have a channel) and the on-duty staff get
a message saying the resident called again. At most one such reminder per alarm per minute, so a
resident pressing repeatedly does not flood anyone; every press is still audited and on the console.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alarms import audit
from server.db.models import Alarm, AlarmAudit, NotificationJob, Pairing, Staff, as_utc
from server.escalation import Recipient, Stage, is_technical, recipients
from server.masking import mask_url as mask  # reminder jobs have negative steps: notify.is_reminder_step

log = logging.getLogger(__name__)

REMIND_SEVERITIES = frozenset({"emergency", "urgent"})
MIN_INTERVAL = timedelta(seconds=60)
REMINDED = "reminded_after_repeat"


def acknowledger(session: Session, alarm: Alarm) -> list[Recipient]:
    """The channels of whoever acknowledged: a caregiver of this resident, or a staff member, by name."""
    by = alarm.acknowledged_by
    if not by:
        return []
    if alarm.resident_id is not None:
        for p in session.scalars(select(Pairing).where(Pairing.resident_id == alarm.resident_id)):
            if p.caregiver.name == by:
                return [
                    Recipient(f"caregiver:{p.caregiver.id}", p.caregiver.name, p.caregiver.language, url)
                    for url in p.caregiver.notify_urls
                ]
    staff = session.scalars(select(Staff).where((Staff.display_name == by) | (Staff.username == by))).first()
    return (
        []
        if staff is None
        else [Recipient(f"staff:{staff.id}", staff.display_name, staff.language, url) for url in staff.notify_urls]
    )


def remind_after_repeat(session: Session, alarm: Alarm, severity: str, now: datetime) -> int:
    """Queue the reminders for a press on an acknowledged alarm (caller commits); returns how many."""
    if alarm.status != "acknowledged" or is_technical(alarm) or severity not in REMIND_SEVERITIES:
        return 0
    earlier = session.scalars(
        select(AlarmAudit.at).where(AlarmAudit.alarm_id == alarm.id, AlarmAudit.action == REMINDED)
    ).all()
    if any(now - as_utc(at) < MIN_INTERVAL for at in earlier):
        return 0
    targets: dict[tuple[str, str], Recipient] = {}
    for r in [*acknowledger(session, alarm), *recipients(session, alarm, Stage("staff", 0), now)]:
        targets.setdefault((r.key, r.url), r)
    step = -1 - len(earlier)  # its own step: the jobs' (alarm, step, recipient, url) stays unique
    for r in targets.values():
        session.add(
            NotificationJob(
                alarm_id=alarm.id,
                step=step,
                recipient=r.key,
                recipient_name=r.name,
                language=r.language,
                url=r.url,
                channel=mask(r.url),
                due_at=now,
            )
        )
    audit(
        session,
        alarm,
        REMINDED,
        "system",
        now,
        acknowledged_by=alarm.acknowledged_by,
        recipients=sorted({r.name for r in targets.values()}),
    )
    if not targets:
        log.warning("alarm %d pressed again after acknowledgement, but nobody has a channel", alarm.id)
    return len(targets)
