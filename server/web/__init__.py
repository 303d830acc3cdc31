"""Web pages: the on-duty console and the caregiver's phone page, server-rendered with light JavaScript."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from server.web import (
    accounts,
    admin,
    admin_channels,
    admin_homes,
    admin_pairings,
    admin_remove,
    alarm_calls,
    assist_console,
    assist_links,
    care_assessment,
    care_console,
    caregiver,
    community_pages,
    console,
    coverage_page,
    dashboard,
    helper_page,
    live,
)
from server.web.auth import LoginRequired
from server.web.render import STATIC_DIR


def mount(app: FastAPI) -> None:
    """Add the pages, their event streams and static files (served here: no CDN) to the app."""
    for module in (
        console,
        admin,
        admin_pairings,
        admin_homes,
        coverage_page,
        accounts,
        live,
        caregiver,
        care_console,
        care_assessment,
        helper_page,
    ):
        app.include_router(module.router)
    for module in (assist_console, assist_links, dashboard, community_pages):  # issue 19: services at home
        app.include_router(module.router)
    app.include_router(alarm_calls.router)  # issue 16: calls made from the alarm page, recorded
    app.include_router(admin_channels.router)  # issue 16: test message and failure count per channel
    app.include_router(admin_remove.router)  # issue 16: removing a resident = the data-rights erasure
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(_request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/console/login?next={quote(exc.next_url)}", 303)
