"""Doctor pages for the follow-up record: the form (hypertension, type 2 diabetes), and each doctor's
schedule with the overdue list. Records are append-only and signed by the doctor who entered them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from server import followup
from server.api.deps import SESSION_COOKIE, ServicesDep, SessionDep
from server.followup_store import FollowUpRejected, add, schedule
from server.trends import store
from server.web import csrf
from server.web.doctor import DoctorDep, templates

router = APIRouter(prefix="/doctor", tags=["doctor pages"], include_in_schema=False)
LABELS = {
    "CONDITIONS": {k: v[0] for k, v in followup.CONDITIONS.items()},
    "SYMPTOMS": followup.SYMPTOMS,
    "MODES": followup.MODES,
    "ADHERENCE": followup.ADHERENCE,
    "CLASSIFICATION": followup.CLASSIFICATION,
    "HYPO": followup.HYPO,
    "LEVEL": followup.LEVEL,
    "SALT": followup.SALT,
    "PEDAL_PULSE": followup.PEDAL_PULSE,
}
templates.env.globals.update(FOLLOWUP=LABELS)
templates.env.filters["labels"] = lambda keys, table: "、".join(table.get(k, k) for k in keys)
MEDICINE_ROWS = 4


def _form_doc(raw: dict[str, Any], symptoms: list[str]) -> dict[str, Any]:
    """The posted fields as FollowUpIn input: blanks are absent, medicines and referral gathered."""
    doc: dict[str, Any] = {
        k: v for k, v in raw.items() if isinstance(v, str) and v.strip() and not k.startswith(("med_", "referral_"))
    }
    doc["symptoms"] = symptoms
    doc["medication"] = [
        {
            "name": raw[f"med_name_{i}"].strip(),
            "dose": raw.get(f"med_dose_{i}", "").strip(),
            "times_per_day": raw.get(f"med_times_{i}") or 1,
        }
        for i in range(1, MEDICINE_ROWS + 1)
        if str(raw.get(f"med_name_{i}", "")).strip()
    ]
    if str(raw.get("referral_reason", "")).strip() or str(raw.get("referral_institution", "")).strip():
        doc["referral"] = {
            "reason": raw.get("referral_reason", "").strip(),
            "institution": raw.get("referral_institution", "").strip(),
        }
    return doc


def _resident(session: SessionDep, code: str) -> Any:
    resident = store.resident_by_code(session, code)
    if resident is None:
        raise HTTPException(404, detail=f"no resident with code {code!r}")
    return resident


def _render(
    request: Request,
    staff: Any,
    resident: Any,
    condition: str,
    values: dict[str, Any],
    error: str | None,
    status: int = 200,
) -> HTMLResponse:
    token = csrf.for_session(request.app.state.services.settings.secret_key or "", request.cookies.get(SESSION_COOKIE))
    return templates.TemplateResponse(
        request,
        "doctor/followup_form.html",
        {
            "staff": staff,
            "resident": resident,
            "condition": condition,
            "v": values,
            "error": error,
            "csrf_token": token,
            "rows": range(1, MEDICINE_ROWS + 1),
            "printable": False,
        },
        status_code=status,
    )


@router.get("/residents/{code}/followups/new", response_class=HTMLResponse)
def followup_form(
    code: str,
    request: Request,
    staff: DoctorDep,
    session: SessionDep,
    services: ServicesDep,
    condition: followup.Condition = "hypertension",
) -> HTMLResponse:
    """An empty follow-up form for one condition, dated today."""
    resident = _resident(session, code)
    return _render(request, staff, resident, condition, {"visit_date": services.clock().date().isoformat()}, None)


@router.post("/residents/{code}/followups", response_class=HTMLResponse)
async def record_followup(
    code: str, request: Request, staff: DoctorDep, session: SessionDep, services: ServicesDep
) -> Any:
    """Validate and store one visit; a refused form comes back with everything entered and the reason."""
    resident = _resident(session, code)
    posted = await request.form()
    raw = {k: str(v) for k, v in csrf.own_fields(posted).items()}
    symptoms = [str(s) for s in posted.getlist("symptoms")]
    condition = raw.get("condition", "hypertension")
    try:
        form = followup.FollowUpIn.model_validate(_form_doc(raw, symptoms))
        add(session, resident, form, staff.username, services.clock())
        session.commit()
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or '表单'}: {e['msg']}" for e in exc.errors())
        return _render(request, staff, resident, condition, {**raw, "symptoms": symptoms}, reasons, 400)
    except FollowUpRejected as exc:
        return _render(request, staff, resident, condition, {**raw, "symptoms": symptoms}, str(exc), 400)
    return RedirectResponse(f"/doctor/residents/{resident.code}#followups", status_code=303)


@router.get("/followups", response_class=HTMLResponse)
def followup_schedule(
    request: Request, staff: DoctorDep, session: SessionDep, services: ServicesDep, everyone: bool = False
) -> HTMLResponse:
    """The signed-in doctor's residents (and those nobody follows yet) by due date, overdue first."""
    today = services.clock().date()
    rows = schedule(session, today, None if everyone else staff.username)
    return templates.TemplateResponse(
        request,
        "doctor/followups.html",
        {
            "staff": staff,
            "rows": rows,
            "today": today,
            "everyone": everyone,
            "printable": False,
            "overdue": sum(1 for _, d in rows if d.overdue_days > 0),
        },
    )
