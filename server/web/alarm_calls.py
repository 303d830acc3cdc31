"""Recording a call made from the alarm page: the tel: link dials, this form says what came of it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from server import audit
from server.alarms import get_alarm
from server.api.deps import ServicesDep, actor_of
from server.auth import StaffIdentity
from server.call_log import callees, pick, record_call
from server.errors import Conflict, NotFound
from server.web import views
from server.web.auth import page_permit

router = APIRouter(include_in_schema=False)
AlarmWorkerDep = Annotated[StaffIdentity, Depends(page_permit("alarm.work"))]


def contacts_of(card: views.ResidentCard) -> list[tuple[str, str | None]]:
    """The card's contacts as (name, phone) pairs."""
    return [(c.name, c.phone) for c in card.contacts]


@router.post("/console/alarms/{alarm_id}/call")
def call(
    alarm_id: int,
    request: Request,
    services: ServicesDep,
    user: AlarmWorkerDep,
    number: Annotated[str, Form(max_length=40)],
    outcome: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    """Record one call attempt and its outcome in the alarm's history and the security audit."""
    now = services.clock()
    try:
        with services.sessions() as s, s.begin():
            alarm = get_alarm(s, alarm_id)
            callee = pick(callees(contacts_of(views.resident_card(s, alarm, now))), number, outcome)
            record_call(s, alarm, user.display_name, callee, outcome, note.strip(), now)
            audit.record(
                s,
                actor_of(request, user),
                "alarm.call",
                now,
                "alarm",
                str(alarm_id),
                after={"callee": callee.name, "number": callee.number, "outcome": outcome},
            )
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Conflict as exc:
        return RedirectResponse(f"/console/alarms/{alarm_id}?error={quote(str(exc))}", 303)
    return RedirectResponse(f"/console/alarms/{alarm_id}?focus=call-number", 303)
