"""The assessment pages: the paper-like form, one recorded assessment, scoring and keeping a new one."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep
from server.care import assessments, audit, plans, profile
from server.care.context import care_config
from server.care.errors import CareError, UnknownResident
from server.care.schemas import AssessmentIn
from server.care.standard import DOMAINS, GRADES, REASONS
from server.db.models import Resident
from server.web.auth import CareReaderDep, CareWriterDep
from server.web.care_forms import local_input, problem
from server.web.care_words import care_page

router = APIRouter(include_in_schema=False)


@router.get("/console/residents/{code}/assessment", response_class=HTMLResponse)
def assessment_form(code: str, request: Request, services: ServicesDep, care_user: CareWriterDep) -> HTMLResponse:
    """The paper-like assessment form, empty."""
    with services.sessions() as s:
        try:
            resident = profile.resident_by_code(s, code)
        except UnknownResident as exc:
            raise HTTPException(404, detail=str(exc)) from exc
    return care_page(
        request,
        services,
        "care/assessment.html",
        care_user=care_user,
        resident=resident,
        a=None,
        domains=DOMAINS,
        reasons=REASONS,
        grades=GRADES,
        error=request.query_params.get("error"),
        now_local=services.clock().astimezone(plans.LOCAL).strftime("%Y-%m-%dT%H:%M"),
    )


@router.get("/console/residents/{code}/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_view(
    code: str, assessment_id: int, request: Request, services: ServicesDep, care_user: CareReaderDep
) -> HTMLResponse:
    """One recorded assessment, as the printed form."""
    with services.sessions() as s, s.begin():
        resident = s.scalars(select(Resident).where(Resident.code == code)).first()
        a = next((x for x in assessments.all_for(s, resident.id) if x.id == assessment_id), None) if resident else None
        if resident is None or a is None:
            raise HTTPException(404, detail=f"{code} has no assessment {assessment_id}")
        audit.record(s, care_user.username, "assessment_read", resident.id, services.clock(), assessment=a.id)
    return care_page(
        request,
        services,
        "care/assessment.html",
        care_user=care_user,
        resident=resident,
        a=a,
        domains=DOMAINS,
        reasons=REASONS,
        grades=GRADES,
        error=None,
        now_local="",
    )


@router.post("/console/residents/{code}/assessment", response_model=None)
async def record_assessment(code: str, request: Request, services: ServicesDep, care_user: CareWriterDep) -> Response:
    """Score the form and keep it."""
    form = await request.form()
    try:
        answers = {k[2:]: int(str(v)) for k, v in form.items() if k.startswith("i_") and str(v).strip()}
        body = AssessmentIn.model_validate(
            {
                "assessed_at": local_input(str(form.get("assessed_at") or "")),
                "reason": form.get("reason"),
                "assessor": form.get("assessor", ""),
                "answers": answers,
                "coma": bool(form.get("coma")),
                "dementia_or_mental_disorder": bool(form.get("dementia")),
                "risk_events_30d": int(str(form.get("risk_events") or 0)),
            }
        )

        def save() -> int:
            with services.sessions() as s, s.begin():
                resident = profile.resident_by_code(s, code)
                return assessments.record_assessment(
                    s, resident, body, care_user.username, services.clock(), care_config(services.settings).advanced_age
                ).id

        new_id = await run_in_threadpool(save)
    except (ValidationError, CareError, ValueError) as exc:
        message = problem(exc) if isinstance(exc, (ValidationError, CareError)) else str(exc)
        return RedirectResponse(f"/console/residents/{quote(code)}/assessment?error={quote(message)}", 303)
    return RedirectResponse(f"/console/residents/{quote(code)}/assessments/{new_id}", 303)
