"""Glucose, SpO2 and weight trends for doctors: one resident's figures and their readings as CSV."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request, Response

from server.api.deps import ServicesDep, SessionDep, permit, record_read
from server.api.routes.trends import DaysQ, Doctor, UntilQ, _bad, _resident
from server.trends import chronic_service, chronic_store, tabular
from server.trends.chronic_schemas import ChronicOut, chronic_out
from server.trends.errors import TrendsError
from server.trends.series import day_end_utc, day_start_utc, zone

router = APIRouter(prefix="/trends", tags=["trends"], dependencies=[Depends(permit("trends.read"))])


@router.get("/residents/{code}/chronic", response_model=ChronicOut)
def get_chronic(
    code: str,
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    staff: Doctor,
    days: int = DaysQ,
    until: date | None = UntilQ,
) -> ChronicOut:
    """Glucose by context against the guideline, SpO2 distribution and time below threshold, weight trend."""
    resident = _resident(session, code)
    record_read(services, request, staff, "trends.read_chronic", "resident", code)
    try:
        period, picture = chronic_service.resident_picture(session, resident, services.clock(), days, until)
    except TrendsError as exc:
        raise _bad(exc) from exc
    return chronic_out(resident.code, period, picture)


@router.get("/residents/{code}/vitals.csv", responses={200: {"content": {"text/csv": {}}}})
def get_vitals_csv(
    code: str,
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    staff: Doctor,
    days: int = DaysQ,
    until: date | None = UntilQ,
) -> Response:
    """The period's glucose, SpO2, weight and temperature readings as CSV (UTF-8, one row per reading)."""
    resident = _resident(session, code)
    try:
        period, _ = chronic_service.resident_picture(session, resident, services.clock(), days, until)
        tz = zone(resident.timezone)
    except TrendsError as exc:
        raise _bad(exc) from exc
    rows = chronic_store.export_rows(
        session, resident.id, day_start_utc(period.first_day, tz), day_end_utc(period.last_day, tz)
    )
    record_read(services, request, staff, "trends.export_vitals_csv", "resident", code, {"rows": len(rows)})
    return Response(
        tabular.vitals_csv(resident, rows, tz),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{resident.code}-vitals.csv"'},
    )
