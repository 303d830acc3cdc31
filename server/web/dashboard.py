"""The decision figures page (大数据辅助决策): every chart as a table with bars, each downloadable as XLSX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import ServicesDep, record_read
from server.assist import figures, xlsx
from server.assist.context import assist_config
from server.auth import StaffIdentity
from server.care.context import care_config
from server.care.plans import LOCAL
from server.permissions import allowed
from server.services import Services
from server.web.assist_words import assist_page, cell
from server.web.auth import page_permit

router = APIRouter(include_in_schema=False)
FiguresDep = Annotated[StaffIdentity, Depends(page_permit("figures.read"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _overview(services: Services) -> figures.Overview:
    with services.sessions() as s:
        return figures.overview(
            s, services.clock(), assist_config(services.settings).sla, care_config(services.settings).intervals
        )


@router.get("/console/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, services: ServicesDep, me: FiguresDep) -> HTMLResponse:
    """Every chart, printable as the monthly report."""
    view = _overview(services)
    return assist_page(
        request,
        services,
        "assist/dashboard.html",
        care_user=me,
        nav="dashboard",
        view=view,
        may=lambda action: allowed(me.role, action),
        error=None,
        cell=cell,
        at=view.now.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M"),
        days=figures.WINDOW_DAYS,
    )


@router.get("/console/dashboard/{key}.xlsx")
def download(key: str, request: Request, services: ServicesDep, me: FiguresDep) -> Response:
    """One chart's numbers as an XLSX workbook (the download is audited)."""
    try:
        chart = _overview(services).chart(key)
    except StopIteration as exc:
        raise HTTPException(404, "no such chart") from exc
    record_read(services, request, me, "figures.exported", "chart", key)
    return Response(
        xlsx.workbook(chart),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="anxin-{key}.xlsx"'},
    )
