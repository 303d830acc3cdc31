"""Inside the ingest transaction, what each kind of new event does: an alarm reaches the desk, a reading
becomes a row, a gap is logged, an event goes to whoever reads its kind."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from anxin.protocol import AlarmBody, EventBody, GapBody, ReadingBody, UplinkEvent
from server.alarms import apply_alarm
from server.assist.home_press import record_service_press
from server.db.models import Gateway
from server.home_reminders import record_outcome
from server.home_text import for_log
from server.ingest_checks import measured_time
from server.reliability import record_late_sms, record_sms
from server.reminders import remind_after_repeat
from server.rules_push import record_report

log = logging.getLogger(__name__)


def alarm(s: Session, gw: Gateway, seq: int, body: AlarmBody, at: datetime, now: datetime) -> int | None:
    """Raise, repeat, cancel or clear; the alarm's id when the desk must notify now (new, or pressed again
    after an acknowledgement), else None."""
    change = apply_alarm(s, gw.id, seq, gw.resident_id, body, at, now)
    notify = None
    if change and change.new:
        log.info(
            "ALARM #%d %s (%s) from %s/%s",
            change.alarm.id,
            change.alarm.type,
            change.alarm.severity,
            for_log(gw.id),
            for_log(change.alarm.device),
        )
        notify = change.alarm.id
    elif (
        change
        and body.change == "raise"
        and remind_after_repeat(s, change.alarm, body.severity or change.alarm.severity, now)
    ):
        notify = change.alarm.id  # the desk sends the reminders at once
    if change and body.sms:
        record_sms(s, change.alarm, body.sms, now)
    return notify


def alarm_again(s: Session, gw: Gateway, ev: UplinkEvent, body: AlarmBody, now: datetime) -> None:
    """An alarm stored before comes again: only the SMS record it may now carry is new (our ack was lost)."""
    if body.sms:
        record_late_sms(s, gw.id, ev, now)


def reading_row(gw: Gateway, body: ReadingBody, at: datetime, now: datetime) -> dict[str, Any]:
    """The `readings` row of a new reading (the caller checked consent)."""
    return {
        "resident_id": gw.resident_id,
        "gateway_id": gw.id,
        "device": body.device[:128].replace("\x00", ""),
        "metric": body.metric,
        "ts": measured_time(body, at, now),
        "values": body.values,
        "flags": [f.replace("\x00", "") for f in body.flags] if body.flags else [],
    }


def gap(gw: Gateway, body: GapBody) -> None:
    """Sequence numbers the gateway will never send: said in the log (the cumulative ack reads the ranges)."""
    log.warning(
        "gateway %s reports %s sequence numbers it will never send (%s)",
        for_log(gw.id),
        for_log(body.count),
        for_log(body.reason),
    )


def event(s: Session, gw: Gateway, ev: UplinkEvent, body: EventBody, now: datetime) -> None:
    """A gateway's report (rules applied, reminder outcome, service press); other kinds are only stored."""
    # These readers take the wire body: each reads its own kind's detail.
    record_report(s, gw, ev.body) or record_outcome(s, gw, ev.seq, ev.body) or record_service_press(s, gw, ev.body, now)
