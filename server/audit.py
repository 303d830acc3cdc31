"""Writing and reading the security audit: every change and every read of personal health data."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db.models_security import AuditEntry
from server.db.rows import rowcount
from server.masking import redact

EXPORT_FIELDS = (
    "id",
    "at",
    "actor",
    "actor_role",
    "action",
    "target_kind",
    "target",
    "source",
    "before",
    "after",
    "reason",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted and from where: a signed-in account, the system, or an unknown client."""

    name: str | None
    role: str | None
    source: str | None


CLI = Actor("cli", None, "local")  # whoever runs anxin-server on the host


def record(
    session: Session,
    actor: Actor,
    action: str,
    now: datetime,
    target_kind: str | None = None,
    target: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one entry (secrets in before/after are masked); the caller commits with the change itself."""
    entry = AuditEntry(
        at=now,
        actor=actor.name,
        actor_role=actor.role,
        source=actor.source,
        action=action,
        target_kind=target_kind,
        target=target,
        before=redact(before) if before else before,
        after=redact(after) if after else after,
        reason=reason,
    )
    session.add(entry)
    return entry


def query(
    session: Session,
    since: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    """Entries newest first, filtered."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if action:
        q = q.where(AuditEntry.action == action)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if target:
        q = q.where(AuditEntry.target == target)
    return list(session.scalars(q))


def to_csv(entries: list[AuditEntry]) -> str:
    """The entries as CSV (UTF-8), one row each, before/after as JSON text."""
    import json

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for e in entries:
        row = [getattr(e, f) for f in EXPORT_FIELDS]
        writer.writerow(
            [
                ""
                if v is None
                else json.dumps(v, ensure_ascii=False)
                if isinstance(v, (dict, list))
                else v.isoformat()
                if isinstance(v, datetime)
                else v
                for v in row
            ]
        )
    return out.getvalue()


def purge(session: Session, now: datetime, retention_days: int) -> int:
    """Remove entries older than the retention (the only deletion the audit knows); returns how many."""
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=retention_days)))
    return rowcount(result)


def snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """The audited fields of a row as plain values (None when there is no row: a creation)."""
    if row is None:
        return None
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        out[name] = (
            value.isoformat()
            if isinstance(value, datetime)
            else list(value)
            if isinstance(value, list)
            else dict(value)
            if isinstance(value, dict)
            else value
        )
    return out


RESIDENT_FIELDS = (
    "code",
    "name",
    "birth_year",
    "address",
    "phone",
    "key_holder",
    "conditions",
    "medication",
    "consent",
    "consent_sharing",
)
CAREGIVER_FIELDS = ("code", "name", "phone", "relation", "notify_urls")
