"""Calls made about an alarm: who was called, on which number, and what came of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.alarms import audit as alarm_audit
from server.db.models import Alarm
from server.errors import Conflict

CALL_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number")
EMERGENCY_NUMBER = "120"


@dataclass(frozen=True, slots=True)
class Callee:
    """Someone the desk can call about this alarm."""

    name: str
    number: str


def callees(contacts: list[tuple[str, str | None]]) -> list[Callee]:
    """The resident's contacts with a phone number, then the ambulance (120) always."""
    people = [Callee(name, phone) for name, phone in contacts if phone]
    return [*people, Callee(EMERGENCY_NUMBER, EMERGENCY_NUMBER)]


def pick(people: list[Callee], number: str, outcome: str) -> Callee:
    """The callee behind a number from the form; refuses a number or outcome the page did not offer."""
    if outcome not in CALL_OUTCOMES:
        raise Conflict(f"unknown call outcome {outcome!r}; use one of {', '.join(CALL_OUTCOMES)}")
    for person in people:
        if person.number == number.strip():
            return person
    raise Conflict(f"{number!r} is not a number of this alarm's contacts or 120")


def record_call(
    session: Session, alarm: Alarm, by: str, callee: Callee, outcome: str, note: str | None, now: datetime
) -> None:
    """Write the call into the alarm's own history (the security audit is the caller's)."""
    alarm_audit(
        session,
        alarm,
        "call",
        by,
        now,
        callee=callee.name,
        number=callee.number,
        call_outcome=outcome,
        note=note or None,
    )
