"""Jinja2 set-up shared by the pages: language, local time, and the words of each page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.api.deps import SESSION_COOKIE
from server.db.models import as_utc
from server.permissions import allowed
from server.services import Services
from server.web import csrf, i18n

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# Residents, staff and the notification texts all live in China Standard Time.
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")

templates = Jinja2Templates(directory=str(HERE / "templates"))


aware = as_utc  # the templates' name for it


def local_time(ts: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A timestamp as staff read it."""
    return aware(ts).astimezone(DISPLAY_TZ).strftime(fmt) if ts else ""


def iso(ts: datetime | None) -> str:
    """A timestamp for scripts on the page (they count waiting time)."""
    return aware(ts).isoformat() if ts else ""


def map_link(address: str | None, language: str) -> str:
    """A link that opens the address in a map app on the phone."""
    if not address:
        return ""
    if language == "zh-CN":
        return f"https://uri.amap.com/search?keyword={quote(address)}"
    return f"https://www.openstreetmap.org/search?query={quote(address)}"


templates.env.filters["local"] = local_time
templates.env.filters["iso"] = iso


def page(
    request: Request,
    services: Services,
    name: str,
    status_code: int = 200,
    person_language: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a template in the request's language (else the person's own, else the server's default)."""
    person_language = person_language or getattr(context.get("user"), "language", None)
    lang = i18n.pick_language(request, person_language or services.settings.language)
    t = i18n.translator(lang)
    user = context.get("user")
    session_token = request.cookies.get(SESSION_COOKIE, "")
    context.update(
        csrf_token=csrf.for_session(services.settings.secret_key or "", session_token),
        can=lambda action: user is not None and allowed(user.role, action),
        request=request,
        lang=lang,
        t=t,
        languages=i18n.LANGUAGES,
        type_name=lambda type_: i18n.alarm_type(type_, lang),
        map_link=lambda address: map_link(address, lang),
    )
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
