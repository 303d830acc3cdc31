"""The signed-link phone pages: a family member asks for services and rates them (/f/), a provider works a job (/p/)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep, client_address
from server.assist import catalog, ratings, store
from server.assist.context import assist_config
from server.assist.errors import AssistError, BadServiceLink, NotFound
from server.audit import Actor
from server.care.plans import LOCAL
from server.db.models import Alarm, Resident
from server.db.models_assist import Evaluation, Provider
from server.services import Services
from server.web.assist_forms import back, problem, rating_from_form, request_from_form
from server.web.assist_words import assist_page

router = APIRouter(include_in_schema=False)
_REFUSED = (ValidationError, AssistError, ValueError)
ALARM_RATING_DAYS = 30  # resolved alarms of the past month can be rated by the family


def _local(at: Any) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at else ""


def _bad(request: Request, services: Services) -> HTMLResponse:
    return assist_page(request, services, "assist/link_bad.html", status_code=403)


def _resident(services: Services, s: Session, token: str) -> Resident | None:
    try:
        return s.get(Resident, assist_config(services.settings).links.check_family(token))
    except BadServiceLink:
        return None


def _provider(services: Services, s: Session, token: str) -> Provider | None:
    try:
        row = s.get(Provider, assist_config(services.settings).links.check_provider(token))
    except BadServiceLink:
        return None
    return row if row is not None and row.active else None


@router.get("/f/{token}", response_class=HTMLResponse)
def family_home(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """Ask for a service; rate what was done and how an alarm was handled; see every request's status."""
    now, cfg = services.clock(), assist_config(services.settings)
    with services.sessions() as s:
        resident = _resident(services, s, token)
        if resident is None:
            return _bad(request, services)
        mine = store.listing(s, now, cfg.sla, resident_id=resident.id, limit=30)
        rated = set(
            s.execute(
                select(Evaluation.request_id, Evaluation.alarm_id).where(
                    Evaluation.resident_id == resident.id, Evaluation.rater == "family"
                )
            ).all()
        )
        rated_requests, rated_alarms = {r for r, _ in rated}, {a for _, a in rated}
        alarms = [
            a
            for a in s.scalars(
                select(Alarm)
                .where(
                    Alarm.resident_id == resident.id,
                    Alarm.resolved_at.is_not(None),
                    Alarm.raised_at >= now - timedelta(days=ALARM_RATING_DAYS),
                    Alarm.outcome != "test_passed",
                )
                .order_by(Alarm.raised_at.desc())
            )
            if a.id not in rated_alarms
        ]
    return assist_page(
        request,
        services,
        "assist/family.html",
        resident=resident,
        token=token,
        mine=mine,
        to_rate=[r for r in mine if r.status == "done" and r.id not in rated_requests],
        alarms=alarms,
        categories=list(catalog.CATEGORIES),
        local=_local,
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )


async def _as_family(
    token: str, request: Request, services: Services, done: str, act: Callable[[Session, Resident, Any, Actor], object]
) -> Response:
    """Run one family action in a transaction, as the resident the link belongs to; back to their page."""
    form = await request.form()

    def save() -> bool:
        with services.sessions() as s, s.begin():
            resident = _resident(services, s, token)
            if resident is None:
                return False
            act(s, resident, form, Actor(f"family:{resident.code}", "family", client_address(request)))
            return True

    try:
        ok = await run_in_threadpool(save)
    except _REFUSED as exc:
        return back(f"/f/{token}", error=problem(exc))
    return back(f"/f/{token}", done=done) if ok else _bad(request, services)


@router.post("/f/{token}/requests", response_model=None)
async def family_request(token: str, request: Request, services: ServicesDep) -> Response:
    """A family member's request for the resident the link belongs to."""
    return await _as_family(
        token,
        request,
        services,
        "sent",
        lambda s, resident, form, who: store.create(
            s, request_from_form(form, resident.code), "family", who, services.clock()
        ),
    )


@router.post("/f/{token}/rate", response_model=None)
async def family_rate(token: str, request: Request, services: ServicesDep) -> Response:
    """The family's rating of a completed request or a resolved alarm of their resident."""
    return await _as_family(
        token,
        request,
        services,
        "rated",
        lambda s, resident, form, who: ratings.rate(
            s, rating_from_form(form, "family"), who, services.clock(), resident_id=resident.id
        ),
    )


@router.get("/p/{token}", response_class=HTMLResponse)
def provider_home(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """The provider's open jobs, each with the resident's address and phone and the next step's button."""
    now, cfg = services.clock(), assist_config(services.settings)
    with services.sessions() as s:
        provider = _provider(services, s, token)
        if provider is None:
            return _bad(request, services)
        jobs = [
            j
            for j in store.listing(s, now, cfg.sla, provider_id=provider.id, limit=200)
            if j.status in ("assigned", "on_the_way")
        ]
        codes = [j.resident_code for j in jobs]
        people = {r.code: r for r in s.scalars(select(Resident).where(Resident.code.in_(codes)))}
    return assist_page(
        request,
        services,
        "assist/provider.html",
        provider=provider,
        token=token,
        jobs=jobs,
        people=people,
        local=_local,
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )


@router.post("/p/{token}/jobs/{request_id}", response_model=None)
async def provider_step(token: str, request_id: int, request: Request, services: ServicesDep) -> Response:
    """On my way, arrived, or done (with a note), for one of this provider's own jobs."""
    form = await request.form()

    def save() -> bool:
        with services.sessions() as s, s.begin():
            provider = _provider(services, s, token)
            if provider is None:
                return False
            if store.one(s, request_id, services.clock(), {}).provider_code != provider.code:
                raise NotFound("this job is not yours")
            store.step(
                s,
                request_id,
                str(form.get("step", "")),
                Actor(f"provider:{provider.code}", "provider", client_address(request)),
                services.clock(),
                note=str(form.get("note") or "") or None,
            )
            return True

    try:
        ok = await run_in_threadpool(save)
    except _REFUSED as exc:
        return back(f"/p/{token}", error=problem(exc))
    return back(f"/p/{token}", done=str(form.get("step", ""))) if ok else _bad(request, services)
