"""Each caregiver channel on the admin page: a test message on demand, and how often real deliveries failed.

The test goes through the notifier's own send function (apprise), so it proves the path an alarm takes;
it is audited with its result. Failures are counted from the delivery attempts alarms recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.api.deps import ServicesDep, actor_of
from server.db.models import Caregiver, NotificationAttempt
from server.masking import mask_url
from server.notify_channels import Send, apprise_send
from server.services import Services
from server.web.auth import PairingAdminDep

router = APIRouter(prefix="/console/admin/channels", include_in_schema=False)
FAILURE_WINDOW = timedelta(days=30)
TEST_TITLE = "【安心】测试消息 / Anxin test message"
TEST_BODY = "这是一条测试消息：此通知渠道可以收到报警。\nThis is a test message: alarms can reach this channel."


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One channel of a caregiver as the admin page shows it (masked: URLs hold tokens)."""

    index: int
    masked: str
    failures: int


def failures_by_channel(session: Session, now: datetime) -> dict[str, int]:
    """Failed delivery attempts per (masked) channel in the last 30 days."""
    rows = session.execute(
        select(NotificationAttempt.channel, func.count())
        .where(NotificationAttempt.ok.is_(False), NotificationAttempt.at >= now - FAILURE_WINDOW)
        .group_by(NotificationAttempt.channel)
    )
    return {channel: int(n) for channel, n in rows}


def channel_rows(session: Session, now: datetime) -> dict[str, list[ChannelRow]]:
    """Per caregiver code, their channels in order with their failure counts."""
    failed = failures_by_channel(session, now)
    out: dict[str, list[ChannelRow]] = {}
    for cg in session.scalars(select(Caregiver)):
        out[cg.code] = [
            ChannelRow(i, mask_url(url), failed.get(mask_url(url), 0)) for i, url in enumerate(cg.notify_urls or [])
        ]
    return out


def _sender(services: Services) -> Send:
    return services.notifier.send if services.notifier is not None else apprise_send


@router.post("/{caregiver}/{index}/test")
def test_message(
    caregiver: str, index: int, request: Request, services: ServicesDep, user: PairingAdminDep
) -> RedirectResponse:
    """Send one test message through the channel and say on the admin page whether it arrived."""
    with services.sessions() as s:
        row = s.scalars(select(Caregiver).where(Caregiver.code == caregiver)).first()
        urls = list(row.notify_urls or []) if row is not None else []
    if not 0 <= index < len(urls):
        raise HTTPException(404, detail=f"caregiver {caregiver} has no channel {index}")
    try:
        ok, error = _sender(services)(urls[index], TEST_TITLE, TEST_BODY)
    except Exception as exc:  # a plugin raising is this test's failure, shown to the admin
        ok, error = False, f"{type(exc).__name__}: {exc}"
    with services.sessions() as s, s.begin():
        audit.record(
            s,
            actor_of(request, user),
            "pairing.channel_test",
            services.clock(),
            "caregiver",
            caregiver,
            after={"channel": mask_url(urls[index]), "ok": ok, "error": error},
        )
    result = "ok" if ok else "failed"
    return RedirectResponse(f"/console/admin?tested={result}&tested_cg={quote(caregiver)}", 303)
