"""The one place the care record writes its audit trail (to be pointed at the shared audit later)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.db.models_care import CareAudit


def record(session: Session, actor: str, action: str, resident_id: int | None, now: datetime, **detail: Any) -> None:
    """Append one audit row: who did or read what, of whose record, when."""
    session.add(CareAudit(at=now, actor=actor, action=action, resident_id=resident_id, detail=detail))
