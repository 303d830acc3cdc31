"""A resident's data rights: consent (time and scope), a full export (JSON, CSV), erasure — administrators."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel

from server import audit, data_rights
from server.api.deps import ServicesDep, actor_of, permit
from server.auth import StaffIdentity
from server.db.models import Resident
from server.trends import store

router = APIRouter(prefix="/data-rights", tags=["data rights"])
Rights = Annotated[StaffIdentity, Depends(permit("data_rights"))]
ConsentWriter = Annotated[StaffIdentity, Depends(permit("consent.write"))]
Code = Annotated[str, Path(min_length=1, max_length=64)]


class ConsentIn(BaseModel):
    """What the resident agreed to (emergency response needs no consent and is always on)."""

    readings: bool
    sharing: bool


def _resident(s: Any, code: str) -> Resident:
    resident = store.resident_by_code(s, code)
    if resident is None:
        raise HTTPException(404, detail=f"no resident with code {code!r}")
    return resident


@router.put("/{code}/consent")
def put_consent(
    code: Code, body: ConsentIn, services: ServicesDep, request: Request, who: ConsentWriter
) -> dict[str, Any]:
    """Record consent with its time and scope; readings arriving without it are not stored."""
    with services.sessions() as s, s.begin():
        resident = _resident(s, code)
        before = {"readings": resident.consent, "sharing": resident.consent_sharing}
        data_rights.set_consent(resident, body.readings, body.sharing, services.clock())
        after = {"readings": resident.consent, "sharing": resident.consent_sharing}
        audit.record(s, actor_of(request, who), "consent.write", services.clock(), "resident", code, before, after)
        return {**after, "at": resident.consent_at.isoformat() if resident.consent_at else None}


def _export(services: ServicesDep, request: Request, who: StaffIdentity, code: str, fmt: str) -> dict[str, Any]:
    with services.sessions() as s, s.begin():
        data = data_rights.export(s, _resident(s, code))
        audit.record(
            s, actor_of(request, who), "data_rights.export", services.clock(), "resident", code, after={"format": fmt}
        )
        return data


@router.get("/{code}/export")
def export_json(code: Code, services: ServicesDep, request: Request, who: Rights) -> Response:
    """Everything held about the resident, as JSON."""
    data = _export(services, request, who, code, "json")
    return Response(
        json.dumps(data, ensure_ascii=False, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{code}-personal-data.json"'},
    )


@router.get("/{code}/export.csv", responses={200: {"content": {"text/csv": {}}}})
def export_csv(code: Code, services: ServicesDep, request: Request, who: Rights) -> Response:
    """Everything held about the resident, as CSV (one row per record)."""
    data = _export(services, request, who, code, "csv")
    return Response(
        data_rights.export_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{code}-personal-data.csv"'},
    )


@router.post("/{code}/erase")
def erase(code: Code, services: ServicesDep, request: Request, who: Rights) -> dict[str, int]:
    """Remove or anonymise the resident's personal data for good; alarm counts stay for the service figures."""
    with services.sessions() as s, s.begin():
        resident = _resident(s, code)
        counts = data_rights.erase(s, resident, services.clock())
        audit.record(s, actor_of(request, who), "data_rights.erase", services.clock(), "resident", code, after=counts)
        return counts
