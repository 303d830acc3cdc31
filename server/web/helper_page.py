"""The helper's phone page at /h/{token}: their residents, what is due, a one-minute contact form, a calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep, client_address
from server.assist import notices, ratings
from server.assist.errors import AssistError
from server.audit import Actor
from server.care import calendar, contacts, pairing, plans, profile, queue
from server.care.context import care_config
from server.care.errors import CareError
from server.care.links import BadHelperLink
from server.db.models_assist import ServiceRequest
from server.db.models_care import Helper
from server.services import Services
from server.web.assist_forms import problem, rating_from_form
from server.web.care_forms import contact_from_form
from server.web.care_words import care_page

router = APIRouter(include_in_schema=False)
RATE_WINDOW = timedelta(days=14)  # done requests of the past two weeks are offered for the resident's rating


def _helper(services: Services, s: Session, token: str) -> Helper | None:
    try:
        helper = s.get(Helper, care_config(services.settings).links.check(token))
    except BadHelperLink:
        return None
    return helper if helper is not None and helper.active else None


def _bad(request: Request, services: Services) -> HTMLResponse:
    return care_page(request, services, "care/helper_bad.html", status_code=403)


@router.get("/h/{token}", response_class=HTMLResponse)
def helper_home(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """My residents, soonest due first, with a gentle reminder of what is overdue."""
    now = services.clock()
    with services.sessions() as s:
        helper = _helper(services, s, token)
        if helper is None:
            return _bad(request, services)
        owed = queue.due(s, now, care_config(services.settings).followup_hours, helper_id=helper.id)
        mine = pairing.plans_of_helper(s, helper.id)
        news = notices.for_helper(s, helper.id)
        rate = to_rate(s, helper.id, now)
    return care_page(
        request,
        services,
        "care/helper.html",
        person_language=helper.language,
        helper=helper,
        notices=news,
        to_rate=rate,
        rate_error=request.query_params.get("rate_error"),
        token=token,
        owed=owed,
        mine=mine,
        today=plans.local_date(now),
        overdue=sum(1 for d in owed if d.overdue),
        done=request.query_params.get("done"),
    )


@router.get("/h/{token}/contact/{code}", response_class=HTMLResponse)
def contact_form(token: str, code: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """The one-minute form for one resident."""
    return _contact_form(token, code, request, services)


def _contact_form(
    token: str,
    code: str,
    request: Request,
    services: Services,
    error: str | None = None,
    sent: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    with services.sessions() as s:
        helper = _helper(services, s, token)
        if helper is None:
            return _bad(request, services)
        plan, resident = next(
            ((p, r) for p, r in pairing.plans_of_helper(s, helper.id) if r.code == code), (None, None)
        )
        if plan is None or resident is None:  # not theirs, or no such resident: the link opens nothing else
            return _bad(request, services)
    sent = sent or {}
    return care_page(
        request,
        services,
        "care/helper_contact.html",
        status_code=status_code,
        person_language=helper.language,
        helper=helper,
        token=token,
        resident=resident,
        error=error,
        channel=sent.get("channel") or plan.channel,
        sent=sent,
        now_local=sent.get("at") or services.clock().astimezone(plans.LOCAL).strftime("%Y-%m-%dT%H:%M"),
    )


@router.post("/h/{token}/contact/{code}", response_model=None)
async def contact_save(token: str, code: str, request: Request, services: ServicesDep) -> Response:
    """Keep the contact as the helper the link belongs to."""
    form = await request.form()

    def save() -> str | None:
        with services.sessions() as s, s.begin():
            helper = _helper(services, s, token)
            if helper is None:
                return None
            contacts.log_contact(
                s,
                profile.resident_by_code(s, code),
                contact_from_form(form),
                helper.name,
                services.clock(),
                helper=helper,
            )
            return helper.name

    try:
        who = await run_in_threadpool(save)
    except (ValidationError, CareError, ValueError) as exc:
        # Refused (a time in the future, say): the same form again with everything as it was typed.
        return _contact_form(token, code, request, services, error=str(exc), sent=form, status_code=422)
    if who is None:
        return _bad(request, services)
    return RedirectResponse(f"/h/{token}?done={code}", 303)


@router.get("/h/{token}/calendar.ics")
def helper_calendar(token: str, request: Request, services: ServicesDep) -> Response:
    """The helper's plans as an iCalendar feed (subscribe once; it follows every change)."""
    now = services.clock()
    with services.sessions() as s:
        helper = _helper(services, s, token)
        if helper is None:
            return Response("this link is not valid or has expired\n", status_code=403, media_type="text/plain")
        mine = pairing.plans_of_helper(s, helper.id)
        follow = [
            d
            for d in queue.due(s, now, care_config(services.settings).followup_hours, helper_id=helper.id)
            if d.kind == "follow_up"
        ]
        body = calendar.feed(helper, mine, follow, now, request.url.hostname or "anxin")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="anxin-contacts.ics"'},
    )


def to_rate(session: Session, helper_id: int, now: datetime) -> list[tuple[ServiceRequest, str]]:
    """(request, resident name) done in the past two weeks for the helper's residents, not yet rated by them."""
    names = {r.id: r.name for _p, r in pairing.plans_of_helper(session, helper_id)}
    return [(q, names[q.resident_id]) for q in ratings.unrated(session, list(names), "resident", now - RATE_WINDOW)]


@router.post("/h/{token}/rate", response_model=None)
async def rate(token: str, request: Request, services: ServicesDep) -> Response:
    """Keep the resident's rating of a done request, as told to their helper (their own residents only)."""
    form = await request.form()

    def save() -> bool:
        with services.sessions() as s, s.begin():
            helper = _helper(services, s, token)
            if helper is None:
                return False
            body = rating_from_form(form, "resident")
            if body.request_id not in {q.id for q, _ in to_rate(s, helper.id, services.clock())}:
                raise AssistError("this request is not one of your residents' to rate")
            ratings.rate(s, body, Actor(f"helper:{helper.code}", "helper", client_address(request)), services.clock())
            return True

    try:
        ok = await run_in_threadpool(save)
    except (ValidationError, AssistError, ValueError) as exc:
        return RedirectResponse(f"/h/{token}?rate_error={quote(problem(exc)[:200])}", 303)
    return RedirectResponse(f"/h/{token}?done=rated", 303) if ok else _bad(request, services)
