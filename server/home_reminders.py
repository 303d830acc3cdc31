"""Reminders spoken at home: set by doctors and coordinators, pushed to the gateway, outcomes recorded.

The document is the schema both sides share (anxin/reminders_document.py), validated here before
anything is stored or sent; the gateway keeps it and says the reminders even with no uplink.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin import protocol
from anxin import reminders_document as schedule
from server.db.models import Gateway, Resident, as_utc
from server.db.models_reminders import HomeReminder, ReminderChange, ReminderOutcome
from server.errors import NotFound, ServerError
from server.permissions import roles_for
from server.services import Services

log = logging.getLogger(__name__)

SETTERS = roles_for("reminders.write")  # doctors and coordinators (server/permissions.py)


class InvalidReminders(ServerError):
    """A reminders document the gateway would refuse; nothing was stored or sent."""


@dataclass(frozen=True, slots=True)
class Adherence:
    """One reminder's record over a period."""

    key: str
    kind: str
    what: str
    confirmed: int
    missed: int

    @property
    def rate(self) -> float | None:
        """Share of occurrences confirmed; None when none fell in the period."""
        total = self.confirmed + self.missed
        return None if total == 0 else self.confirmed / total


def to_schedule(row: HomeReminder) -> schedule.Reminder:
    """A stored reminder in the gateway's schema."""
    return schedule.Reminder(
        id=row.key,
        kind=row.kind,
        what=row.what,
        rrule=row.rrule,
        start=datetime.fromisoformat(row.start_local),
        metric=row.metric,
        repeats=row.repeats,
        repeat_every_min=row.repeat_every_min,
    )


def set_reminders(
    services: Services, resident_id: int, items: Sequence[Mapping[str, Any]], actor: str, role: str
) -> tuple[int, list[schedule.Reminder]]:
    """Replace a resident's reminders, audit the change and push them to the home; (version, reminders)."""
    now = services.clock()
    version = int(now.timestamp())  # later pushes have later versions; the gateway refuses older ones
    try:
        doc = schedule.parse({"version": version, "reminders": [dict(i) for i in items]})
    except schedule.RemindersError as exc:
        raise InvalidReminders(str(exc)) from exc
    with services.sessions() as s, s.begin():
        if s.get(Resident, resident_id) is None:
            raise NotFound(f"resident {resident_id} does not exist")
        for old in s.scalars(select(HomeReminder).where(HomeReminder.resident_id == resident_id)):
            s.delete(old)
        s.flush()
        for r in doc.reminders:
            s.add(
                HomeReminder(
                    resident_id=resident_id,
                    key=r.id,
                    kind=r.kind,
                    what=r.what,
                    rrule=r.rrule,
                    start_local=r.start.isoformat(timespec="seconds"),
                    metric=r.metric,
                    repeats=r.repeats,
                    repeat_every_min=r.repeat_every_min,
                    updated_by=actor,
                    updated_at=now,
                )
            )
        s.add(
            ReminderChange(
                resident_id=resident_id,
                at=now,
                actor=actor,
                role=role,
                version=version,
                detail={"reminders": [r.model_dump(mode="json") for r in doc.reminders]},
            )
        )
        gateways = list(s.scalars(select(Gateway.id).where(Gateway.resident_id == resident_id)))
    for gw in gateways:  # QoS 1 on the gateway's persistent session: it gets them after an outage too
        services.downlink(gw, protocol.Command(schedule.COMMAND, doc.model_dump(mode="json")))
    if not gateways:
        log.warning("reminders of resident %d stored, but no gateway is paired to say them", resident_id)
    return version, list(doc.reminders)


def reminders_of(session: Session, resident_id: int) -> list[HomeReminder]:
    """A resident's reminders by key."""
    return list(
        session.scalars(select(HomeReminder).where(HomeReminder.resident_id == resident_id).order_by(HomeReminder.key))
    )


def record_outcome(session: Session, gw: Gateway, seq: int, body: Mapping[str, Any]) -> bool:
    """A gateway's reminder_confirmed / reminder_missed event as an outcome row; False for other kinds."""
    kind = body.get("kind")
    raw = body.get("detail")
    d: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    if kind in schedule.REPORT_KINDS:
        log.log(logging.WARNING if kind == "reminders_rejected" else logging.INFO, "gateway %s: %s %s", gw.id, kind, d)
        return True
    if kind not in schedule.OUTCOME_KINDS:
        return False
    try:
        due = as_utc(datetime.fromisoformat(str(d["due"])))
        row = ReminderOutcome(
            resident_id=gw.resident_id,
            gateway_id=gw.id,
            seq=seq,
            reminder_key=str(d["reminder"])[:64],
            kind=str(d.get("kind") or "")[:16],
            what=str(d.get("what") or "")[:200],
            due_at=due,
            outcome="confirmed" if kind == "reminder_confirmed" else "missed",
            confirmed_by=str(d["by"])[:16] if d.get("by") else None,
            said=int(d.get("said") or 1),
        )
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("gateway %s sent an unreadable %s (seq %d): %s", gw.id, kind, seq, exc)
        return True
    session.add(row)
    return True


def adherence(session: Session, resident_id: int, now: datetime, days: int = 30) -> list[Adherence]:
    """Per reminder, confirmed and missed occurrences over the last `days`."""
    since = now.astimezone(UTC) - timedelta(days=days)
    counts: dict[str, Adherence] = {}
    for o in session.scalars(
        select(ReminderOutcome)
        .where(ReminderOutcome.resident_id == resident_id, ReminderOutcome.due_at >= since)
        .order_by(ReminderOutcome.due_at)
    ):
        a = counts.get(o.reminder_key, Adherence(o.reminder_key, o.kind, o.what, 0, 0))
        ok = o.outcome == "confirmed"
        counts[o.reminder_key] = Adherence(a.key, o.kind, o.what, a.confirmed + ok, a.missed + (not ok))
    return [counts[k] for k in sorted(counts)]


def outcomes(session: Session, resident_id: int, since: datetime, until: datetime) -> list[ReminderOutcome]:
    """The outcomes whose occurrence fell in [since, until), oldest first (for the FHIR export)."""
    return list(
        session.scalars(
            select(ReminderOutcome)
            .where(
                ReminderOutcome.resident_id == resident_id,
                ReminderOutcome.due_at >= since,
                ReminderOutcome.due_at < until,
            )
            .order_by(ReminderOutcome.due_at)
        )
    )
