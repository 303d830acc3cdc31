"""Doctor pages: the cohort by risk, one resident's blood-pressure picture, and a printable report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from server import followup_store, home_reminders
from server.api.deps import SESSION_COOKIE, ServicesDep, SessionDep, forbidden, record_read
from server.auth import AuthError, StaffIdentity, identity_for
from server.data_rights import may_share
from server.permissions import allowed
from server.trends import chronic_service, service, store
from server.trends.errors import TrendsError
from server.trends.series import day_date, day_end_utc, day_start_utc, zone
from server.web import csrf, i18n
from server.web.doctor_chart import AlarmMark, bp_chart

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
WARNING_TEXT = {
    "crisis": "血压危象 ≥180/110",
    "low_bp": "低血压：均值收缩压 <100 或 ≥1/4 读数 <90/60",
    "above_target_2_weeks": "连续两周高于目标",
    "rising": "周均收缩压升高 ≥10",
    "above_target": "本周高于目标",
    "not_measuring": "≥3 天未测量",
    "pulse_low": "脉搏过缓 <50 次/分",
    "pulse_high": "脉搏过速 >100 次/分",
    "hypoglycaemia_level_2": "2 级低血糖 <3.0",
    "hypoglycaemia": "低血糖 <3.9",
    "low_spo2": "血氧低于阈值",
    "weight_gain": "3 天增重 >2 kg",
    "glucose_off_target": "血糖达标 <50%",
    "glucose_unstable": "血糖波动大 CV>36%",
}
WARNING_TEXT_EN = {
    "crisis": "Crisis ≥180/110",
    "low_bp": "Low BP: mean systolic <100 or ≥1/4 of readings <90/60",
    "above_target_2_weeks": "Above target two weeks running",
    "rising": "Weekly systolic up ≥10",
    "above_target": "Above target this week",
    "not_measuring": "Not measured ≥3 days",
    "pulse_low": "Pulse slow <50/min",
    "pulse_high": "Pulse fast >100/min",
    "hypoglycaemia_level_2": "Level 2 hypoglycaemia <3.0",
    "hypoglycaemia": "Hypoglycaemia <3.9",
    "low_spo2": "SpO2 below threshold",
    "weight_gain": "Weight +2 kg in 3 days",
    "glucose_off_target": "Glucose in range <50%",
    "glucose_unstable": "Glucose unstable CV>36%",
}
# Where the thresholds come from, printed under the flags (docs/trends.md).
WARNING_SOURCE = (
    "来源：家庭血压 7-2-2 与 135/85 mmHg（中国高血压防治指南 2024；ESH 2023）；危象 ≥180/110；"
    "低血压 <90/60 mmHg，老年人家庭均值收缩压 <100 提示降压过度；静息脉搏 50–100 次/分。"
    " Sources: Chinese hypertension guideline 2024, ESH 2023 (home BP); hypotension < 90/60 mmHg."
)
CONTEXT_TEXT = {
    "fasting": "空腹 fasting",
    "before_meal": "餐前 before meal",
    "after_meal": "餐后 after meal",
    "bedtime": "睡前 bedtime",
    "other": "其他 other",
}

router = APIRouter(prefix="/doctor", tags=["doctor pages"], include_in_schema=False)


def doctor_user(request: Request, services: ServicesDep) -> StaffIdentity:
    """A signed-in doctor or administrator; strangers are sent to sign in, other roles refused."""
    login = HTTPException(303, headers={"Location": f"/console/login?next={quote(request.url.path)}"})
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise login
    try:
        with services.sessions() as s:
            staff = identity_for(s, services.tokens, token)
    except AuthError as exc:
        raise login from exc
    if not allowed(staff.role, "trends.read"):
        raise forbidden(staff, "trends.read")
    return staff


DoctorDep = Annotated[StaffIdentity, Depends(doctor_user)]
Threshold = Literal["135/85", "130/80"]


def _local(ts: datetime | None, tz: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if ts is None:
        return ""
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(tz).strftime(fmt)


def _num(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


templates.env.filters["num"] = _num
templates.env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.0f} %"
templates.env.globals["WARNING_TEXT"] = WARNING_TEXT
templates.env.globals["CONTEXT_TEXT"] = CONTEXT_TEXT
templates.env.globals["WARNING_SOURCE"] = WARNING_SOURCE


@pass_context
def _lang(ctx: Any) -> str:
    # The console's rule (server/web/i18n.py): ?lang=, then the cookie, then the server's default.
    request = ctx["request"]
    return i18n.pick_language(request, request.app.state.services.settings.language)


@pass_context
def _words(ctx: Any, zh: str, en: str) -> str:
    """Chinese first; English when the page is asked for in English."""
    return en if _lang(ctx) == "en" else zh


templates.env.globals["page_lang"] = _lang
templates.env.globals["w"] = _words
templates.env.globals["warning"] = pass_context(
    lambda ctx, key: (WARNING_TEXT_EN if _lang(ctx) == "en" else WARNING_TEXT).get(key, key)
)
# Codes of the alarm table in words (the console's own words, in the page's language).
templates.env.globals["code_word"] = pass_context(
    lambda ctx, kind, code: i18n.translator(_lang(ctx))(f"{kind}_{code}", code) if code else ""
)
templates.env.globals["alarm_type"] = pass_context(lambda ctx, code: i18n.alarm_type(code, _lang(ctx)))


def localized(request: Request, response: HTMLResponse) -> HTMLResponse:
    """Remember a language chosen with ?lang= (the console's cookie), so the next page keeps it."""
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, request.query_params["lang"], max_age=365 * 86400, samesite="lax")
    return response


def _csrf(request: Request) -> str:
    # The sign-out form's token (server/web/guard.py refuses a cookie-carrying POST without one).
    token = request.cookies.get(SESSION_COOKIE, "")
    return csrf.token_for(request.app.state.services.settings.secret_key or "", token) if token else ""


templates.env.globals["csrf_for"] = _csrf


@router.get("/doctor.css")
def stylesheet() -> FileResponse:
    """The doctor pages' own stylesheet (screen and print)."""
    return FileResponse(HERE / "static" / "doctor.css", media_type="text/css")


@router.get("", response_class=HTMLResponse)
def cohort_page(
    request: Request,
    staff: DoctorDep,
    session: SessionDep,
    services: ServicesDep,
    days: int = Query(service.COHORT_DAYS, ge=7, le=366),
    threshold: Threshold = "135/85",
) -> HTMLResponse:
    """Every resident, highest risk first."""
    entries = service.cohort(session, services.clock(), days, threshold)
    rows = [
        {"e": e, "last": _local(e.last_reading, zone(e.resident.timezone))} for e in entries if may_share(e.resident)
    ]
    return localized(
        request,
        templates.TemplateResponse(
            request,
            "doctor/cohort.html",
            {
                "staff": staff,
                "rows": rows,
                "days": days,
                "threshold": threshold,
                "counts": {w: sum(w in e.warnings for e in entries) for w in WARNING_TEXT},
            },
        ),
    )


def _resident_context(
    session: SessionDep, services: ServicesDep, code: str, days: int, until: date | None, threshold: str
) -> dict[str, Any]:
    resident = store.resident_by_code(session, code)
    if resident is None:
        raise HTTPException(404, detail=f"no resident with code {code!r}")
    if not may_share(resident):
        raise HTTPException(403, detail=f"resident {code} has not agreed to share health readings with doctors")
    try:
        trend = service.resident_trend(session, resident, services.clock(), days, until, threshold)
    except TrendsError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    s, tz = trend.summary, zone(resident.timezone)
    chronic = chronic_service.pictures(session, [resident], {resident.id: s.period})[resident.id]
    alarms = store.alarms_between(
        session, resident.id, day_start_utc(s.period.first_day, tz), day_end_utc(s.period.last_day, tz)
    )
    marks = [AlarmMark(a.raised_at, f"{_local(a.raised_at, tz)} {a.type} ({a.status})") for a in alarms]
    return {
        "resident": resident,
        "s": s,
        "chronic": chronic,
        "followups": followup_store.history(session, resident.id),
        "limit": trend.limit,
        "days": days,
        "threshold": threshold,
        "first": day_date(s.period.first_day),
        "last": day_date(s.period.last_day),
        "home_first": day_date(s.home.first_day),
        "until": until.isoformat() if until else "",
        "chart": Markup(bp_chart(trend.series, s.period, s.target, tz, marks)),
        "weeks": [{"first": day_date(w.first_day), "last": day_date(w.last_day), "w": w} for w in s.weeks],
        "alarms": [{"a": a, "at": _local(a.raised_at, tz)} for a in alarms],
        "adherence": home_reminders.adherence(session, resident.id, services.clock(), days),
        "generated": _local(services.clock(), tz),
    }


@router.get("/residents/{code}", response_class=HTMLResponse)
def resident_page(
    code: str,
    request: Request,
    staff: DoctorDep,
    session: SessionDep,
    services: ServicesDep,
    days: int = Query(service.RESIDENT_DAYS, ge=7, le=366),
    until: date | None = None,
    threshold: Threshold = "135/85",
) -> HTMLResponse:
    """One resident: chart, guideline figures, weekly means, alarm history, exports."""
    ctx = _resident_context(session, services, code, days, until, threshold)
    record_read(services, request, staff, "trends.read", "resident", code)
    return localized(
        request,
        templates.TemplateResponse(request, "doctor/resident.html", {**ctx, "staff": staff, "printable": False}),
    )


@router.get("/residents/{code}/report", response_class=HTMLResponse)
def report_page(
    code: str,
    request: Request,
    staff: DoctorDep,
    session: SessionDep,
    services: ServicesDep,
    days: int = Query(service.RESIDENT_DAYS, ge=7, le=366),
    until: date | None = None,
    threshold: Threshold = "135/85",
) -> HTMLResponse:
    """The same picture laid out for paper (A4, no navigation)."""
    ctx = _resident_context(session, services, code, days, until, threshold)
    record_read(services, request, staff, "trends.report", "resident", code)
    return localized(
        request, templates.TemplateResponse(request, "doctor/resident.html", {**ctx, "staff": staff, "printable": True})
    )
