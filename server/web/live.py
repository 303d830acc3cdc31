"""Server-sent events that tell open pages to redraw, with a database poll for other processes' changes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from server.api.deps import ServicesDep
from server.db.models import Alarm, AlarmAudit
from server.events import Change, EventHub
from server.links import BadLink
from server.services import Services
from server.web import views
from server.web.auth import ConsoleUserDep

router = APIRouter(include_in_schema=False)

# A change made by another server process reaches this page within this many seconds.
POLL_S = 3.0
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def stream(
    request: Request, hub: EventHub, check: Callable[[], Any], wanted: Callable[[Change], bool]
) -> AsyncIterator[str]:
    """Say 'changed' whenever a wanted change is published here, or the database fingerprint moves."""
    sub = hub.subscribe()
    try:
        last = await run_in_threadpool(check)
        yield "retry: 2000\n\n" + sse("hello", {})
        while not hub.closed:
            try:
                change = await asyncio.wait_for(sub.queue.get(), POLL_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                now = await run_in_threadpool(check)
                # The comment line keeps proxies from closing an idle stream.
                yield sse("changed", {"ids": [], "source": "poll"}) if now != last else ": ping\n\n"
                last = now
                continue
            if change is None:
                return
            if wanted(change):
                last = await run_in_threadpool(check)
                yield sse("changed", {"ids": sorted(change.alarm_ids), "source": "push"})
    finally:
        hub.unsubscribe(sub)


def _hub(services: Services) -> EventHub:
    hub = services.events
    if hub is None:
        raise HTTPException(503, detail="live updates are not enabled on this server")
    return hub


@router.get("/console/events")
async def console_events(request: Request, services: ServicesDep, _user: ConsoleUserDep) -> StreamingResponse:
    """Every alarm change, for the console's pages."""

    def check() -> Any:
        with services.sessions() as s:
            return views.fingerprint(s)

    return StreamingResponse(
        stream(request, _hub(services), check, lambda c: True), media_type="text/event-stream", headers=HEADERS
    )


@router.get("/c/{token}/events")
async def caregiver_events(token: str, request: Request, services: ServicesDep) -> StreamingResponse:
    """Changes of the one alarm a caregiver's link is for."""
    try:
        alarm_id = services.signer.check(token).alarm_id
    except BadLink as exc:
        raise HTTPException(403, detail=str(exc)) from exc

    def check() -> Any:
        with services.sessions() as s:
            return (
                s.scalar(select(Alarm.updated_at).where(Alarm.id == alarm_id)),
                s.scalar(select(func.count(AlarmAudit.id)).where(AlarmAudit.alarm_id == alarm_id)),
            )

    return StreamingResponse(
        stream(request, _hub(services), check, lambda c: alarm_id in c.alarm_ids),
        media_type="text/event-stream",
        headers=HEADERS,
    )
