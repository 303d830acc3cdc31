"""Poison isolation for ingest: what a failed commit means, and how a message committed in pieces adds up."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

if TYPE_CHECKING:
    from server.ingest_store import IngestResult


def is_transient(exc: BaseException) -> bool:
    """A database that is down or busy (retry later), as opposed to a message it cannot take.

    Busy includes a connection pool with nothing free (`PoolTimeout`): an alarm that waited for a
    connection is not poison, and dead-lettering it would make the gateway forget it.
    """
    return isinstance(exc, (OperationalError, PoolTimeout, DisconnectionError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def body_text(body: dict[str, Any]) -> str:
    """An event body as text for a dead letter, whatever it holds (nesting no encoder takes included)."""
    try:
        return json.dumps(body, default=str, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError) as exc:
        return f"<event body that cannot be written out: {type(exc).__name__}>"


def merged(out: IngestResult, parts: list[IngestResult]) -> IngestResult:
    """`out` (empty) made the one result of a message committed event by event."""
    for p in parts:
        out.acked += p.acked
        out.rejected += p.rejected
        out.new_alarms += p.new_alarms
        out.duplicates += p.duplicates
        out.readings += p.readings
        out.upto = max(out.upto, p.upto)
    return out
