"""Blood-pressure trends for doctors: cohort by risk, one resident's summary, FHIR R4 and CSV exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from server import home_reminders
from server.api.deps import ServicesDep, SessionDep, permit, record_read
from server.auth import StaffIdentity
from server.data_rights import may_share
from server.db.models import Resident
from server.trends import chronic_store, fhir, service, store, tabular
from server.trends.errors import TrendsError
from server.trends.schemas import CohortOut, MirrorOut, SummaryOut, cohort_out, summary_out
from server.trends.series import day_end_utc, day_start_utc, zone

# Health records: doctors (and administrators) only; the desk sees alarms, not trends.
router = APIRouter(prefix="/trends", tags=["trends"], dependencies=[Depends(permit("trends.read"))])

Threshold = Literal["135/85", "130/80"]
DaysQ = Query(service.RESIDENT_DAYS, ge=7, le=366, description="length of the period in days")
UntilQ = Query(None, description="last local day of the period (default: the resident's today)")
ThresholdQ = Query("135/85", description="home blood-pressure threshold of the 7-2-2 average")


Doctor = Annotated[StaffIdentity, Depends(permit("trends.read"))]


def _resident(session: SessionDep, code: str) -> Resident:
    resident = store.resident_by_code(session, code)
    if resident is None:
        raise HTTPException(404, detail=f"no resident with code {code!r}")
    if not may_share(resident):
        raise HTTPException(403, detail=f"resident {code} has not agreed to share health readings with doctors")
    return resident


def _bad(exc: TrendsError) -> HTTPException:
    return HTTPException(422, detail=str(exc))


@router.get("/mirror", response_model=MirrorOut)
def get_mirror(request: Request) -> MirrorOut:
    """The InfluxDB mirror's counters: points queued, written, failed (given up), retried."""
    mirror = getattr(request.app.state, "mirror", None)
    if mirror is None:
        return MirrorOut(enabled=False, counters={}, pending=0)
    return MirrorOut(enabled=True, counters=dict(mirror.counters), pending=mirror.pending())


@router.get("/cohort", response_model=list[CohortOut])
def get_cohort(
    session: SessionDep,
    services: ServicesDep,
    days: int = Query(service.COHORT_DAYS, ge=7, le=366),
    threshold: Threshold = ThresholdQ,
) -> list[CohortOut]:
    """Every resident, highest risk first (crisis, above target, rising, not measuring)."""
    try:
        return [
            cohort_out(e) for e in service.cohort(session, services.clock(), days, threshold) if may_share(e.resident)
        ]
    except TrendsError as exc:
        raise _bad(exc) from exc


@router.get("/residents/{code}", response_model=SummaryOut)
def get_summary(
    code: str,
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    staff: Doctor,
    days: int = DaysQ,
    until: date | None = UntilQ,
    threshold: Threshold = ThresholdQ,
) -> SummaryOut:
    """One resident's figures for the period."""
    resident = _resident(session, code)
    record_read(services, request, staff, "trends.read", "resident", code)
    try:
        t = service.resident_trend(session, resident, services.clock(), days, until, threshold)
    except TrendsError as exc:
        raise _bad(exc) from exc
    return summary_out(resident.code, resident.name, t.summary, t.limit)


def _export_window(
    session: SessionDep,
    services: ServicesDep,
    code: str,
    days: int,
    until: date | None,
    loader: Callable[..., list[Any]] = store.export_rows,
) -> tuple[Resident, list[Any]]:
    resident = _resident(session, code)
    try:
        period = service.period_for(resident, services.clock(), days, until)
        tz = zone(resident.timezone)
    except TrendsError as exc:
        raise _bad(exc) from exc
    rows = loader(session, resident.id, day_start_utc(period.first_day, tz), day_end_utc(period.last_day, tz))
    return resident, rows


@router.get("/residents/{code}/fhir", responses={200: {"content": {"application/fhir+json": {}}}})
def get_fhir(
    code: str,
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    staff: Doctor,
    days: int = DaysQ,
    until: date | None = UntilQ,
) -> Response:
    """A FHIR R4 collection Bundle: the Patient and Observations per measurement (blood pressure, pulse,
    glucose, SpO2, weight, BMI, body temperature), and what happened to the medication reminders at home."""
    resident, rows = _export_window(session, services, code, days, until)
    _, vitals = _export_window(session, services, code, days, until, chronic_store.export_rows)
    record_read(services, request, staff, "trends.export_fhir", "resident", code, {"rows": len(rows) + len(vitals)})
    period = service.period_for(resident, services.clock(), days, until)
    tz = zone(resident.timezone)
    kept = home_reminders.outcomes(
        session, resident.id, day_start_utc(period.first_day, tz), day_end_utc(period.last_day, tz)
    )
    body = fhir.bundle(resident, sorted([*rows, *vitals], key=lambda r: (r.ts, r.id)), services.clock(), kept)
    # ensure_ascii off so that Chinese names stay readable in the file a doctor downloads
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{resident.code}-fhir-bundle.json"'},
    )


@router.get("/residents/{code}/readings.csv", responses={200: {"content": {"text/csv": {}}}})
def get_csv(
    code: str,
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    staff: Doctor,
    days: int = DaysQ,
    until: date | None = UntilQ,
) -> Response:
    """The period's readings as CSV (UTF-8, one row per reading)."""
    resident, rows = _export_window(session, services, code, days, until)
    record_read(services, request, staff, "trends.export_csv", "resident", code, {"rows": len(rows)})
    text = tabular.to_csv(resident, rows, zone(resident.timezone))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{resident.code}-blood-pressure.csv"'},
    )
