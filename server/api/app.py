"""The FastAPI application: REST under /api/v1, OpenAPI at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from server import web
from server.api.routes import (
    alarms,
    audit,
    auth,
    care,
    community,
    data_rights,
    gateways,
    health,
    home_reminders,
    links,
    readings,
    reliability,
    residents,
    rules_config,
    security_audit,
    staff,
    trends,
    trends_chronic,
)
from server.api.routes import assist as assist_routes
from server.metrics import metrics_router
from server.services import Services
from server.web import doctor
from server.web import followup as followup_pages
from server.web.guard import SecurityGuard


def create_app(services: Services) -> FastAPI:
    """Build the app around already-built services (no I/O here)."""
    app = FastAPI(title="Anxin 安心", version="1", description="Home monitoring and emergency calls")
    app.state.services = services
    for module in (
        auth,
        alarms,
        residents,
        readings,
        gateways,
        audit,
        links,
        health,
        rules_config,
        trends,
        reliability,
        care,
        staff,
        security_audit,
        data_rights,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(home_reminders.router, prefix="/api/v1")  # issue 17: reminders spoken at home
    app.include_router(trends_chronic.router, prefix="/api/v1")
    app.include_router(assist_routes.router, prefix="/api/v1")  # issue 19: services at home
    app.include_router(community.router, prefix="/api/v1")
    app.include_router(metrics_router(app.state))
    app.include_router(doctor.router)
    app.include_router(followup_pages.router)
    web.mount(app)
    app.add_middleware(SecurityGuard, settings=services.settings)
    return app
