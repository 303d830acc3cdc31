"""Activities, teams and notices under /api/v1 (老有所为, 信息发布)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from server.api.deps import RowId, ServicesDep, actor_of, permit
from server.api.routes.assist import Reader, _tx
from server.assist import activities, notice_delivery, notices
from server.assist.activities import ActivityIn, ActivityOut, SignupIn
from server.assist.notices import NoticeIn, NoticeOut
from server.auth import StaffIdentity
from server.db.models_assist import Notice

router = APIRouter(tags=["activities and notices"])
Organiser = Annotated[StaffIdentity, Depends(permit("activities.write"))]
Publisher = Annotated[StaffIdentity, Depends(permit("notices.write"))]


@router.get("/activities", response_model=list[ActivityOut])
def get_activities(services: ServicesDep, _who: Reader) -> list[ActivityOut]:
    """Courses, talks, outings and teams, soonest first, with sign-ups and attendance."""
    with _tx(services) as s:
        return activities.listing(s)


@router.post("/activities", response_model=ActivityOut, status_code=201)
def post_activity(body: ActivityIn, request: Request, services: ServicesDep, who: Organiser) -> ActivityOut:
    """Announce an activity or found a team."""
    with _tx(services) as s:
        row = activities.create(s, body, actor_of(request, who), services.clock())
        return next(a for a in activities.listing(s) if a.id == row.id)


@router.post("/activities/{activity_id}/signups", response_model=ActivityOut)
def post_signup(
    activity_id: RowId, body: SignupIn, request: Request, services: ServicesDep, who: Organiser
) -> ActivityOut:
    """Sign a resident up or into a team (with the skill they bring), or mark their attendance."""
    with _tx(services) as s:
        activities.sign_up(s, activity_id, body, actor_of(request, who), services.clock())
        return next(a for a in activities.listing(s) if a.id == activity_id)


@router.get("/activities/{activity_id}/suggestions")
def get_invitees(activity_id: RowId, services: ServicesDep, _who: Reader) -> list[dict[str, Any]]:
    """Residents to invite: their profile's interests or skills match the activity's tags."""
    with _tx(services) as s:
        return activities.suggest(s, activity_id)


@router.get("/notices", response_model=list[NoticeOut])
def get_notices(services: ServicesDep, _who: Reader) -> list[Any]:
    """Every notice, newest first."""
    with _tx(services) as s:
        return [NoticeOut.model_validate(n) for n in notices.listing(s)]


@router.post("/notices", response_model=NoticeOut, status_code=201)
def post_notice(body: NoticeIn, request: Request, services: ServicesDep, who: Publisher) -> NoticeOut:
    """Publish a notice to everyone or to a care category or district (shown on their helpers' pages)."""
    with _tx(services) as s:
        out = NoticeOut.model_validate(notices.publish(s, body, actor_of(request, who), services.clock()))
    notice_delivery.read_aloud(services, out.id, actor_of(request, who))  # after the commit: the homes hear it
    return out


@router.get("/notices/{notice_id}/deliveries")
def get_deliveries(notice_id: RowId, services: ServicesDep, _who: Reader) -> dict[str, Any]:
    """A notice's messages to caregivers (who, masked channel, outcome), counted; and residents nobody could be sent to."""
    with _tx(services) as s:
        notice = s.get(Notice, notice_id)
        if notice is None:
            raise HTTPException(404, "no such notice")
        found = notice_delivery.deliveries(s, notice)
        return {
            **found.summary(),
            "deliveries": [
                {
                    "recipient": d.recipient,
                    "channel": d.channel,
                    "status": d.status,
                    "attempts": d.attempts,
                    "error": d.error,
                }
                for d in found.rows
            ],
            "unreached_residents": found.unreached,
            "read_aloud_homes": list(notice.homes or []),
        }
