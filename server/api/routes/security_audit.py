"""The security audit for administrators: query it, export it as CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from server import audit
from server.api.deps import ServicesDep, SessionDep, actor_of, as_utc, permit
from server.auth import StaffIdentity
from server.masking import redact

router = APIRouter(prefix="/admin/audit", tags=["audit"])
Admin = Annotated[StaffIdentity, Depends(permit("audit.read"))]
Since = Annotated[datetime | None, Query(description="at or after (ISO 8601)")]
Action = Annotated[str | None, Query(max_length=48)]
Who = Annotated[str | None, Query(max_length=128)]
Target = Annotated[str | None, Query(max_length=128)]
Limit = Annotated[int, Query(ge=1, le=50000)]


def _entries(
    session: SessionDep, since: datetime | None, action: str | None, actor: str | None, target: str | None, limit: int
) -> list[Any]:
    return audit.query(session, as_utc(since), action, actor, target, limit)


@router.get("")
def entries(
    session: SessionDep,
    _who: Admin,
    since: Since = None,
    action: Action = None,
    actor: Who = None,
    target: Target = None,
    limit: Limit = 500,
) -> list[dict[str, Any]]:
    """Who did or read what, when, from where, before → after; newest first."""
    return [
        {
            f: (v.isoformat() if isinstance(v, datetime) else redact(v))
            for f in audit.EXPORT_FIELDS
            for v in [getattr(e, f)]
        }
        for e in _entries(session, since, action, actor, target, limit)
    ]


@router.get(".csv", responses={200: {"content": {"text/csv": {}}}})
def export(
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    who: Admin,
    since: Since = None,
    action: Action = None,
    actor: Who = None,
    target: Target = None,
    limit: Limit = 50000,
) -> Response:
    """The same as CSV; the export itself is audited."""
    rows = _entries(session, since, action, actor, target, limit)
    audit.record(
        session, actor_of(request, who), "audit.export", services.clock(), "audit", None, after={"rows": len(rows)}
    )
    session.commit()
    return Response(
        audit.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="anxin-audit.csv"'},
    )
