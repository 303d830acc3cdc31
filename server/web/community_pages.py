"""The coordinator's pages for activities, teams (老有所为) and notices (信息发布)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep, actor_of
from server.assist import activities, notice_delivery, notices
from server.assist.activities import ActivityIn, SignupIn
from server.assist.errors import AssistError
from server.assist.notices import NoticeIn
from server.auth import StaffIdentity
from server.care.categories import CATEGORIES as CARE_CATEGORIES
from server.care.plans import LOCAL
from server.db.models_assist import Activity, Notice
from server.permissions import allowed
from server.web.assist_forms import back, local_time, problem
from server.web.assist_words import assist_page
from server.web.auth import page_permit

router = APIRouter(include_in_schema=False)
ReaderDep = Annotated[StaffIdentity, Depends(page_permit("service_requests.read"))]
OrganiserDep = Annotated[StaffIdentity, Depends(page_permit("activities.write"))]
PublisherDep = Annotated[StaffIdentity, Depends(page_permit("notices.write"))]
_REFUSED = (ValidationError, AssistError, ValueError)


def _page(request: Request, services: Any, name: str, me: StaffIdentity, **context: Any) -> HTMLResponse:
    return assist_page(
        request,
        services,
        name,
        care_user=me,
        may=lambda action: allowed(me.role, action),
        nav="community",
        error=request.query_params.get("error"),
        done=request.query_params.get("done"),
        local=lambda at: at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at else "",
        **context,
    )


@router.get("/console/activities", response_class=HTMLResponse)
def overview(request: Request, services: ServicesDep, me: ReaderDep) -> HTMLResponse:
    """Activities and teams with sign-ups and attendance; notices; the forms to add both."""
    with services.sessions() as s:
        rows, news = activities.listing(s), notices.listing(s, 50)
    return _page(request, services, "assist/activities.html", me, rows=rows, news=news, care_categories=CARE_CATEGORIES)


@router.get("/console/activities/{activity_id}", response_class=HTMLResponse)
def detail(activity_id: int, request: Request, services: ServicesDep, me: ReaderDep) -> HTMLResponse:
    """One activity: who signed up (attendance to mark) and whom their interests suggest inviting."""
    with services.sessions() as s:
        activity = s.get(Activity, activity_id)
        if activity is None:
            raise HTTPException(404, "no such activity")
        joined, invite = activities.members(s, activity_id), activities.suggest(s, activity_id)
    return _page(request, services, "assist/activity.html", me, a=activity, joined=joined, invite=invite)


@router.get("/console/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(notice_id: int, request: Request, services: ServicesDep, me: ReaderDep) -> HTMLResponse:
    """One notice: to whom it went through the caregivers' channels, what failed, and who had nobody to send to."""
    with services.sessions() as s:
        notice = s.get(Notice, notice_id)
        if notice is None:
            raise HTTPException(404, "no such notice")
        found = notice_delivery.deliveries(s, notice)
    return _page(request, services, "assist/notice.html", me, n=notice, found=found, counts=found.summary())


async def _save(request: Request, services: Any, url: str, work: Any) -> Response:
    form = await request.form()

    def run() -> None:
        with services.sessions() as s, s.begin():
            work(s, form)

    try:
        await run_in_threadpool(run)
    except _REFUSED as exc:
        return back(url, error=problem(exc))
    return back(url, done="saved")


@router.post("/console/activities", response_model=None)
async def create(request: Request, services: ServicesDep, me: OrganiserDep) -> Response:
    """Announce an activity or found a team."""

    def work(s: Any, form: Any) -> None:
        body = ActivityIn(
            kind=str(form.get("kind", "")),
            title=str(form.get("title", "")).strip(),
            tags=[t.strip() for t in str(form.get("tags", "")).replace("，", ",").split(",") if t.strip()],
            starts_at=local_time(form.get("starts_at")),
            place=str(form.get("place", "")).strip() or None,
            district=str(form.get("district", "")).strip() or None,
            capacity=int(str(form.get("capacity") or 30)),
        )
        activities.create(s, body, actor_of(request, me), services.clock())

    return await _save(request, services, "/console/activities", work)


@router.post("/console/activities/{activity_id}/signups", response_model=None)
async def sign_up(activity_id: int, request: Request, services: ServicesDep, me: OrganiserDep) -> Response:
    """Sign a resident up (or into a team with a skill), or mark whether they came."""

    def work(s: Any, form: Any) -> None:
        attended = {"yes": True, "no": False}.get(str(form.get("attended", "")))
        body = SignupIn(
            resident_code=str(form.get("resident_code", "")),
            role=str(form.get("role") or "") or None,
            attended=attended,
        )
        activities.sign_up(s, activity_id, body, actor_of(request, me), services.clock())

    return await _save(request, services, f"/console/activities/{activity_id}", work)


@router.post("/console/notices", response_model=None)
async def publish(request: Request, services: ServicesDep, me: PublisherDep) -> Response:
    """Publish a notice to everyone, a care category or a district (and have it read aloud at home if ticked)."""
    published: list[int] = []

    def work(s: Any, form: Any) -> None:
        audience = str(form.get("audience", "all"))
        value = str(form.get(f"value_{audience}", "")).strip() or None
        body = NoticeIn(
            title=str(form.get("title", "")).strip(),
            body=str(form.get("body", "")).strip(),
            audience=audience,
            audience_value=value,
            read_aloud=form.get("read_aloud") == "yes",
        )
        published.append(notices.publish(s, body, actor_of(request, me), services.clock()).id)

    answer = await _save(request, services, "/console/activities#notices", work)
    if published:  # committed: now the homes may hear it
        await run_in_threadpool(notice_delivery.read_aloud, services, published[0], actor_of(request, me))
    return answer
