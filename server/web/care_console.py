"""The coordinator's pages: the resident list, one profile page per resident, contacts, helpers, the desk."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep
from server.care import (
    assessments,
    audit,
    contacts,
    pairing,
    plans,
    profile,
    queue,
    search,
)
from server.care.categories import CATEGORIES, STAFF_SET
from server.care.context import care_config
from server.care.errors import CareError, UnknownResident
from server.care.schemas import HelperPlanIn
from server.care.standard import GRADES, REASONS
from server.db.models import Resident
from server.services import Services
from server.web import csrf
from server.web.auth import CareReaderDep, CareWriterDep
from server.web.care_forms import LIST_FIELDS, contact_from_form, problem, profile_from_form
from server.web.care_words import care_page

router = APIRouter(include_in_schema=False)


def _back(code: str, anchor: str = "", error: str | None = None) -> RedirectResponse:
    query = f"?error={quote(error)}" if error else "?saved=1"
    return RedirectResponse(f"/console/residents/{quote(code)}{query}#{anchor}", 303)


@router.get("/console/residents", response_class=HTMLResponse)
def list_page(request: Request, services: ServicesDep, care_user: CareReaderDep) -> HTMLResponse:
    """Every resident, searchable and filtered."""
    q = request.query_params
    f = search.Filters(
        q.get("q") or None,
        q.get("district") or None,
        q.get("category") or None,
        q.get("age") or None,
        q.get("grade") or None,
        q.get("overdue") == "1",
    )
    now = services.clock()
    with services.sessions() as s:
        late = {d.resident_code for d in queue.due(s, now, care_config(services.settings).followup_hours) if d.overdue}
        rows = search.find(s, f, plans.local_date(now), late)
        districts = search.districts(s)
    return care_page(
        request,
        services,
        "care/residents.html",
        care_user=care_user,
        rows=rows,
        f=f,
        districts=districts,
        categories=CATEGORIES,
        grades=GRADES,
        bands=list(search.AGE_BANDS),
    )


def _profile_context(s: Session, services: Services, code: str, who: str) -> dict[str, Any]:
    cfg = care_config(services.settings)
    now = services.clock()
    resident = profile.resident_by_code(s, code)
    audit.record(s, who, "profile_read", resident.id, now)
    owed = [d for d in queue.due(s, now, cfg.followup_hours) if d.resident_code == code]
    return {
        "resident": resident,
        "p": profile.read(s, resident, plans.local_date(now), cfg.advanced_age, cfg.intervals),
        "history": profile.history(s, resident)[:50],
        "assessments": assessments.all_for(s, resident.id),
        "helpers": [(p, h, cfg.links.sign(h.id)) for p, h in pairing.plans_of_resident(s, resident.id)],
        "owed": owed,
        "contacts": contacts.history(s, resident.id, 50),
        "today": plans.local_date(now),
        "now_local": now.astimezone(plans.LOCAL).strftime("%Y-%m-%dT%H:%M"),
    }


@router.get("/console/residents/new", response_class=HTMLResponse)
def new_page(request: Request, services: ServicesDep, care_user: CareWriterDep) -> HTMLResponse:
    """An empty profile form with a code field."""
    return care_page(
        request,
        services,
        "care/profile_form.html",
        care_user=care_user,
        p=None,
        code="",
        error=request.query_params.get("error"),
    )


@router.post("/console/residents/new", response_model=None)
async def create(request: Request, services: ServicesDep, care_user: CareWriterDep) -> Response:
    """Create the resident and go to their page."""
    form = await _fields(request)
    code = str(form.get("code", "")).strip()
    try:
        if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 64:
            raise CareError("编号只能是字母、数字、- 和 _ / the code takes letters, digits, - and _")
        body = profile_from_form(form)

        def save() -> None:
            with services.sessions() as s, s.begin():
                if s.scalars(select(Resident).where(Resident.code == code)).first() is not None:
                    raise CareError(f"编号 {code} 已存在 / {code} exists already")
                profile.save(
                    s, code, body, care_user.username, services.clock(), care_config(services.settings).advanced_age
                )

        await run_in_threadpool(save)
    except (ValidationError, CareError) as exc:
        return care_page(
            request,
            services,
            "care/profile_form.html",
            status_code=422,
            care_user=care_user,
            p=form,
            code=code,
            error=problem(exc),
        )
    return _back(code)


@router.get("/console/residents/{code}", response_class=HTMLResponse)
def profile_page(code: str, request: Request, services: ServicesDep, care_user: CareReaderDep) -> HTMLResponse:
    """One resident: profile, categories and plan, assessments, helpers, contacts, history."""
    try:
        with services.sessions() as s, s.begin():
            ctx = _profile_context(s, services, code, care_user.username)
    except UnknownResident as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    return care_page(
        request,
        services,
        "care/profile.html",
        care_user=care_user,
        **ctx,
        error=request.query_params.get("error"),
        saved=request.query_params.get("saved"),
        staff_set=STAFF_SET,
        reasons=REASONS,
    )


@router.post("/console/residents/{code}/profile", response_model=None)
async def save_profile(code: str, request: Request, services: ServicesDep, care_user: CareWriterDep) -> Response:
    """Save the profile form; a refused form keeps what was typed and says why."""
    form = await _fields(request)
    try:
        body = profile_from_form(form)

        def save() -> None:
            with services.sessions() as s, s.begin():
                profile.resident_by_code(s, code)
                profile.save(
                    s, code, body, care_user.username, services.clock(), care_config(services.settings).advanced_age
                )

        await run_in_threadpool(save)
    except (ValidationError, CareError) as exc:
        return care_page(
            request,
            services,
            "care/profile_form.html",
            status_code=422,
            care_user=care_user,
            p=form,
            code=code,
            error=problem(exc),
        )
    return _back(code, "profile")


@router.get("/console/residents/{code}/edit", response_class=HTMLResponse)
def edit_page(code: str, request: Request, services: ServicesDep, care_user: CareWriterDep) -> HTMLResponse:
    """The profile form, filled."""
    cfg = care_config(services.settings)
    with services.sessions() as s, s.begin():
        try:
            resident = profile.resident_by_code(s, code)
        except UnknownResident as exc:
            raise HTTPException(404, detail=str(exc)) from exc
        p = profile.read(s, resident, plans.local_date(services.clock()), cfg.advanced_age, cfg.intervals).model_dump()
    for name in LIST_FIELDS:
        p[name] = "\n".join(p[name])
    for c, reason in p["staff_categories"].items():
        p[f"cat_{c}"], p[f"reason_{c}"] = "1", reason
    return care_page(request, services, "care/profile_form.html", care_user=care_user, p=p, code=code, error=None)


async def _fields(request: Request) -> dict[str, Any]:
    """The form's own fields, without the CSRF token the guard has already checked (server/web/guard.py)."""
    return csrf.own_fields(await request.form())


@router.post("/console/residents/{code}/helpers", response_model=None)
async def pair_helper(code: str, request: Request, services: ServicesDep, care_user: CareWriterDep) -> Response:
    """Pair a helper from the profile page."""
    form = {k: str(v).strip() or None for k, v in (await _fields(request)).items()}
    try:
        body = HelperPlanIn.model_validate({k: v for k, v in form.items() if v is not None})

        def save() -> None:
            with services.sessions() as s, s.begin():
                pairing.pair(s, profile.resident_by_code(s, code), body, care_user.username, services.clock())

        await run_in_threadpool(save)
    except (ValidationError, CareError) as exc:
        return _back(code, "helpers", problem(exc))
    return _back(code, "helpers")


@router.post("/console/residents/{code}/contacts", response_model=None)
async def log_contact(code: str, request: Request, services: ServicesDep, care_user: CareWriterDep) -> Response:
    """Staff log a visit or call."""
    form = await request.form()
    try:
        body = contact_from_form(form)

        def save() -> None:
            with services.sessions() as s, s.begin():
                contacts.log_contact(
                    s, profile.resident_by_code(s, code), body, care_user.display_name, services.clock()
                )

        await run_in_threadpool(save)
    except (ValidationError, CareError, ValueError) as exc:
        return _back(code, "contacts", problem(exc) if not isinstance(exc, ValueError) else str(exc))
    return _back(code, "contacts")


@router.get("/console/care", response_class=HTMLResponse)
def desk_page(request: Request, services: ServicesDep, care_user: CareReaderDep) -> HTMLResponse:
    """Due today, overdue, coverage by category and per helper."""
    cfg = care_config(services.settings)
    now = services.clock()
    today = plans.local_date(now)
    with services.sessions() as s:
        owed = queue.due(s, now, cfg.followup_hours)
        cover = queue.coverage(s, now, cfg.intervals)
    return care_page(
        request,
        services,
        "care/desk.html",
        care_user=care_user,
        today=today,
        due_today=[d for d in owed if d.due == today and not d.overdue],
        overdue=[d for d in owed if d.overdue],
        coverage=cover,
        helpers=queue.per_helper(owed, today),
    )
