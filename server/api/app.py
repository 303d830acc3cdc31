"""The FastAPI application: REST under /api/v1, OpenAPI at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from server.api.routes import alarms, auth, health, links
from server.services import Services
from server import web


def create_app(services: Services) -> FastAPI:
    """Build the app around already-built services (no I/O here)."""
    app = FastAPI(title="Anxin 安心", version="1", description="Home monitoring and emergency calls")
    app.state.services = services
    for module in (auth, alarms, links, health):
        app.include_router(module.router, prefix="/api/v1")
    web.mount(app)
    return app
