"""The services desk: requests (intake, queue, overdue, assignment), providers, and low ratings to follow up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep, actor_of
from server.assist import catalog, providers, ratings, store
from server.assist.context import assist_config
from server.assist.errors import AssistError
from server.assist.schemas import ProviderIn
from server.auth import StaffIdentity
from server.care.plans import LOCAL
from server.db.models import Resident
from server.db.models_assist import Provider
from server.permissions import allowed
from server.web.assist_forms import back, problem, rating_from_form, request_from_form
from server.web.assist_words import assist_page
from server.web.auth import page_permit

router = APIRouter(include_in_schema=False)
ReaderDep = Annotated[StaffIdentity, Depends(page_permit("service_requests.read"))]
WriterDep = Annotated[StaffIdentity, Depends(page_permit("service_requests.write"))]
ProviderWriterDep = Annotated[StaffIdentity, Depends(page_permit("providers.write"))]
RaterDep = Annotated[StaffIdentity, Depends(page_permit("evaluations.write"))]
SupervisorDep = Annotated[StaffIdentity, Depends(page_permit("evaluations.follow_up"))]
_REFUSED = (ValidationError, AssistError, ValueError)


def _page(request: Request, services: Any, name: str, me: StaffIdentity, **context: Any) -> HTMLResponse:
    return assist_page(
        request,
        services,
        name,
        care_user=me,
        may=lambda action: allowed(me.role, action),
        categories=list(catalog.CATEGORIES),
        error=request.query_params.get("error"),
        done=request.query_params.get("done"),
        local=lambda at: at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at else "",
        **context,
    )


@router.get("/console/requests", response_class=HTMLResponse)
def requests_page(request: Request, services: ServicesDep, me: ReaderDep) -> HTMLResponse:
    """Overdue first, then every open request, the intake form, and the supervisor's follow-ups."""
    now, cfg = services.clock(), assist_config(services.settings)
    code = request.query_params.get("family")
    with services.sessions() as s:
        open_ = store.listing(s, now, cfg.sla, status="open")
        recent = store.listing(s, now, cfg.sla, status="done", limit=10)
        residents = list(s.scalars(select(Resident).order_by(Resident.code)))
        follow = ratings.listing(s, open_follow_ups=True) if allowed(me.role, "evaluations.follow_up") else []
        family = (
            next(
                (f"{services.settings.base_url}/f/{cfg.links.family(r.id)}" for r in residents if r.code == code), None
            )
            if code and allowed(me.role, "service_requests.write")
            else None
        )
    return _page(
        request,
        services,
        "assist/requests.html",
        me,
        nav="requests",
        overdue=sorted((r for r in open_ if r.overdue), key=lambda r: r.due_at),
        open_=open_,
        recent=recent,
        residents=residents,
        follow=follow,
        family=family,
        family_code=code,
    )


@router.post("/console/requests", response_model=None)
async def take_request(request: Request, services: ServicesDep, me: WriterDep) -> Response:
    """A request taken by phone or at the desk."""
    form = await request.form()
    try:
        body = request_from_form(form)

        def save() -> int:
            with services.sessions() as s, s.begin():
                return store.create(s, body, "staff", actor_of(request, me), services.clock()).id

        rid = await run_in_threadpool(save)
    except _REFUSED as exc:
        return back("/console/requests", error=problem(exc))
    return back(f"/console/requests/{rid}", done="created")


@router.get("/console/requests/{request_id}", response_class=HTMLResponse)
def request_page(request_id: int, request: Request, services: ServicesDep, me: ReaderDep) -> HTMLResponse:
    """One request: its timed steps, the ranked providers to assign, cancelling, the resident's rating."""
    now, cfg = services.clock(), assist_config(services.settings)
    with services.sessions() as s:
        try:
            req = store.one(s, request_id, now, cfg.sla)
        except AssistError as exc:
            raise HTTPException(404, "no such request") from exc
        codes = {p.id: p.code for p in s.scalars(select(Provider))}
        suggestions = (
            [(codes[x.candidate.provider_id], x) for x in providers.suggest(s, request_id)]
            if req.status in ("new", "accepted", "assigned")
            else []
        )
        rated = [e for e in ratings.listing(s) if e.request_id == request_id]
    return _page(
        request, services, "assist/request.html", me, nav="requests", r=req, suggestions=suggestions, rated=rated
    )


@router.post("/console/requests/{request_id}/step", response_model=None)
async def request_step(request_id: int, request: Request, services: ServicesDep, me: WriterDep) -> Response:
    """Assign (to the chosen provider), accept or cancel."""
    form = await request.form()

    def save() -> None:
        with services.sessions() as s, s.begin():
            code = str(form.get("provider_code") or "")
            provider = store.provider_by_code(s, code) if code else None
            store.step(
                s,
                request_id,
                str(form.get("step", "")),
                actor_of(request, me),
                services.clock(),
                provider,
                str(form.get("note") or "") or None,
            )

    try:
        await run_in_threadpool(save)
    except _REFUSED as exc:
        return back(f"/console/requests/{request_id}", error=problem(exc))
    return back(f"/console/requests/{request_id}", done=str(form.get("step", "")))


@router.post("/console/requests/{request_id}/rate", response_model=None)
async def rate_for_resident(request_id: int, request: Request, services: ServicesDep, me: RaterDep) -> Response:
    """The resident's rating, taken by staff on the phone or at a visit."""
    form = dict(await request.form())
    form["request_id"] = str(request_id)

    def save() -> None:
        with services.sessions() as s, s.begin():
            ratings.rate(s, rating_from_form(form, "resident"), actor_of(request, me), services.clock())

    try:
        await run_in_threadpool(save)
    except _REFUSED as exc:
        return back(f"/console/requests/{request_id}", error=problem(exc))
    return back(f"/console/requests/{request_id}", done="rated")


@router.post("/console/follow-ups/{evaluation_id}/close", response_model=None)
async def close_follow_up(evaluation_id: int, request: Request, services: ServicesDep, me: SupervisorDep) -> Response:
    """The supervisor closes a low rating's follow-up with what was done."""
    form = await request.form()

    def save() -> None:
        with services.sessions() as s, s.begin():
            ratings.close_follow_up(
                s, evaluation_id, str(form.get("note", "")), actor_of(request, me), services.clock()
            )

    try:
        await run_in_threadpool(save)
    except _REFUSED as exc:
        return back("/console/requests#follow-ups", error=problem(exc))
    return back("/console/requests#follow-ups", done="closed")


@router.get("/console/providers", response_class=HTMLResponse)
def providers_page(request: Request, services: ServicesDep, me: ReaderDep) -> HTMLResponse:
    """Providers and volunteers with load and ratings; their phone page's link for those who manage them."""
    cfg = assist_config(services.settings)
    with services.sessions() as s:
        rows = providers.listing(s)
        ids = {p.code: p.id for p in s.scalars(select(Provider))}
    links = (
        {code: f"{services.settings.base_url}/p/{cfg.links.provider(pid)}" for code, pid in ids.items()}
        if allowed(me.role, "providers.write")
        else {}
    )
    return _page(request, services, "assist/providers.html", me, nav="providers", rows=rows, links=links)


@router.post("/console/providers", response_model=None)
async def save_provider(request: Request, services: ServicesDep, me: ProviderWriterDep) -> Response:
    """Register or update a provider."""
    form = await request.form()
    try:
        body = ProviderIn(
            code=str(form.get("code", "")).strip(),
            name=str(form.get("name", "")).strip(),
            kind=str(form.get("kind", "")),
            categories=form.getlist("categories"),
            district=str(form.get("district", "")).strip() or None,
            hours=str(form.get("hours", "")).strip() or None,
            capacity=int(str(form.get("capacity") or 3)),
            phone=str(form.get("phone", "")).strip() or None,
        )

        def save() -> None:
            with services.sessions() as s, s.begin():
                providers.save(s, body, actor_of(request, me), services.clock())

        await run_in_threadpool(save)
    except _REFUSED as exc:
        return back("/console/providers", error=problem(exc))
    return back("/console/providers", done="saved")
