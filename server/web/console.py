"""The duty console: sign-in, the live queue, an alarm with the resident's card, and its actions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server import alarms as desk
from server import audit
from server.alarm_ack import acknowledge_and_tell_home
from server.api.deps import (
    ServicesDep,
    SessionDep,
    actor_of,
    clear_session_cookie,
    client_address,
    record_read,
    set_session_cookie,
)
from server.auth import AuthError, end_sessions
from server.call_log import CALL_OUTCOMES
from server.coverage_facts import coverage_now
from server.db.models import Alarm, Device, Gateway, Staff
from server.errors import Conflict, NotFound
from server.signin import Throttled, sign_in
from server.web import views
from server.web.auth import ConsoleUserDep, SignedInDep
from server.web.coverage_page import words as coverage_words
from server.web.render import page

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None) -> str:
    # Only ever redirect inside this site.
    return url if url and url.startswith("/") and not url.startswith("//") else "/console"


@router.get("/")
def root() -> RedirectResponse:
    """The console is the home page."""
    return RedirectResponse("/console", 303)


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request, services: ServicesDep, next: str = "/console") -> HTMLResponse:
    """The sign-in form."""
    return page(request, services, "login.html", next=_safe_next(next), error=False, username="")


@router.post("/console/login", response_model=None)
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/console",
    totp: Annotated[str, Form(max_length=12)] = "",
) -> HTMLResponse | RedirectResponse:
    """Check the credentials and set the session cookie (the same token the REST API accepts)."""
    try:
        staff = await sign_in(services, username.strip(), password, client_address(request), totp or None)
    except Throttled as exc:
        response = page(
            request, services, "login.html", status_code=429, next=_safe_next(next), error=str(exc), username=username
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthError:
        return page(
            request, services, "login.html", status_code=401, next=_safe_next(next), error=True, username=username
        )
    redirect = RedirectResponse(_safe_next(next), 303)
    set_session_cookie(redirect, services.tokens.issue(staff), services.tokens.ttl_s)
    return redirect


@router.post("/console/logout")
def logout(request: Request, services: ServicesDep, user: SignedInDep) -> RedirectResponse:
    """End the session (and every other of this account: the token version moves on)."""
    with services.sessions() as s, s.begin():
        row = s.get(Staff, user.id)
        if row is not None:
            end_sessions(row)
            audit.record(s, actor_of(request, user), "logout", services.clock(), "staff", user.username)
    response = RedirectResponse("/console/login", 303)
    clear_session_cookie(response)
    return response


@router.get("/console", response_class=HTMLResponse)
def queue_page(request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep) -> HTMLResponse:
    """The live alarm queue."""
    alarms = views.alarm_queue(session)
    return page(
        request,
        services,
        "queue.html",
        user=user,
        alarms=alarms,
        now=services.clock(),
        unreached=views.unreached(session, [a.id for a in alarms]),
    )


@router.get("/console/queue", response_class=HTMLResponse)
def queue_fragment(request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep) -> HTMLResponse:
    """The queue's table alone, fetched by the page when the server says something changed."""
    alarms = views.alarm_queue(session)
    return page(
        request,
        services,
        "_queue.html",
        user=user,
        alarms=alarms,
        unreached=views.unreached(session, [a.id for a in alarms]),
    )


@router.get("/console/alerting")
def alerting(session: SessionDep, user: ConsoleUserDep) -> JSONResponse:
    """Unanswered emergencies (every console page sounds the alert) and alarms nobody could be told about."""
    queue = views.alarm_queue(session)
    unanswered = [a for a in queue if a.severity == "emergency" and a.status in views.UNANSWERED]
    lost = views.unreached(session, [a.id for a in queue if a.status in views.UNANSWERED])
    return JSONResponse(
        {
            "unanswered_emergencies": [a.id for a in unanswered],
            "newest": [_headline(a) for a in unanswered[-1:]],
            "unreached": [_headline(a) for a in queue if a.id in lost],
        }
    )


def _headline(alarm: Alarm) -> dict[str, object]:
    # Data, never layout: live.js puts these strings into the page with textContent.
    who = alarm.resident.name if alarm.resident else alarm.gateway_id
    return {"id": alarm.id, "resident": who, "type": alarm.type, "url": f"/console/alarms/{alarm.id}"}


def _where(session: SessionDep, alarm: Alarm) -> dict[str, Any]:
    """The device's room and the gateway's state, for the alarm page ("sos-button · gw-r003" said too little)."""
    device = (
        session.scalars(
            select(Device).where(Device.gateway_id == alarm.gateway_id, Device.name == alarm.device)
        ).first()
        if alarm.device
        else None
    )
    gateway = session.get(Gateway, alarm.gateway_id)
    return {"device_row": device, "gateway_row": gateway}


def _alarm(session: SessionDep, alarm_id: int) -> Alarm:
    alarm = session.scalars(select(Alarm).where(Alarm.id == alarm_id).options(selectinload(Alarm.audit))).first()
    if alarm is None:
        raise HTTPException(404, detail=f"alarm {alarm_id} does not exist")
    return alarm


@router.get("/console/alarms/{alarm_id}", response_class=HTMLResponse)
def alarm_page(
    alarm_id: int, request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep
) -> HTMLResponse:
    """One alarm with the resident's card and what staff can do."""
    alarm = _alarm(session, alarm_id)
    card = views.resident_card(session, alarm, services.clock())
    if alarm.resident is not None:
        record_read(
            services, request, user, "resident_card.read", "resident", alarm.resident.code, {"alarm_id": alarm.id}
        )
    gaps = (
        []
        if alarm.resident is None
        else coverage_now(session, services.clock(), only=alarm.resident.code).of(alarm.resident.code)
    )
    return page(
        request,
        services,
        "alarm.html",
        user=user,
        alarm=alarm,
        card=card,
        outcomes=desk.OUTCOMES,
        gaps=gaps,
        coverage_words=coverage_words,
        call_outcomes=CALL_OUTCOMES,
        **_where(session, alarm),
        acks=views.acknowledgements(alarm),
        error=request.query_params.get("error"),
        unreached=views.unreached(session, [alarm.id]),
    )


@router.get("/console/alarms/{alarm_id}/panel", response_class=HTMLResponse)
def alarm_panel(
    alarm_id: int, request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep
) -> HTMLResponse:
    """The alarm's live part (status, acknowledgements, history), redrawn on change."""
    alarm = _alarm(session, alarm_id)
    return page(
        request,
        services,
        "_alarm_panel.html",
        user=user,
        alarm=alarm,
        acks=views.acknowledgements(alarm),
        unreached=views.unreached(session, [alarm.id]),
        **_where(session, alarm),
    )


def _back(alarm_id: int, error: Conflict | None = None, focus: str | None = None) -> RedirectResponse:
    # A refused action (the alarm was closed meanwhile) is shown on the alarm's page, not as an error page;
    # otherwise the focus goes to the next piece of work (static/keys.js reads `focus`).
    query = f"?error={quote(str(error))}" if error else (f"?focus={focus}" if focus else "")
    return RedirectResponse(f"/console/alarms/{alarm_id}{query}", 303)


@router.post("/console/alarms/{alarm_id}/ack")
def ack(
    alarm_id: int, services: ServicesDep, user: ConsoleUserDep, back: Annotated[str, Form(max_length=16)] = ""
) -> RedirectResponse:
    """Acknowledge as the signed-in staff member; the home hears that help is coming.

    From the queue (`back=queue`) the queue comes back with the focus on that alarm's link."""
    try:
        acknowledge_and_tell_home(services, alarm_id, user.display_name, "console")
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Conflict as exc:
        return _back(alarm_id, exc)
    if back == "queue":
        return RedirectResponse(f"/console?focus=alarm-link-{alarm_id}", 303)
    return _back(alarm_id, focus="note-text")


@router.post("/console/alarms/{alarm_id}/note")
def note(
    alarm_id: int,
    services: ServicesDep,
    user: ConsoleUserDep,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
) -> RedirectResponse:
    """Add a note to the alarm's record."""
    try:
        with services.sessions() as s, s.begin():
            desk.add_note(s, alarm_id, user.display_name, text, services.clock())
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    return _back(alarm_id, focus="outcome")


@router.post("/console/alarms/{alarm_id}/resolve")
def resolve(
    alarm_id: int,
    services: ServicesDep,
    user: ConsoleUserDep,
    outcome: Annotated[str, Form()],
    text: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    """Close the alarm with an outcome."""
    try:
        with services.sessions() as s, s.begin():
            desk.resolve(s, alarm_id, user.display_name, outcome, text or None, services.clock())
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Conflict as exc:
        return _back(alarm_id, exc)
    return _back(alarm_id)
