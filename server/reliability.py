"""What the server knows about each gateway's event stream: gaps, thinning, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import DeadLetter, IngestedEvent


@dataclass(frozen=True, slots=True)
class SequenceReport:
    """Sequence numbers of one gateway: received, missing, and missing-but-accounted-for."""

    gateway_id: str
    received: int
    last_seq: int
    missing: list[list[int]] = field(default_factory=list)
    accounted: list[list[int]] = field(default_factory=list)
    unexplained: list[list[int]] = field(default_factory=list)

    @property
    def unexplained_count(self) -> int:
        """How many sequence numbers are neither received nor covered by a gap record."""
        return sum(b - a + 1 for a, b in self.unexplained)


def _subtract(missing: list[list[int]], covered: list[list[int]]) -> list[list[int]]:
    """Ranges of `missing` not inside any range of `covered` (both inclusive, any order)."""
    out: list[list[int]] = []
    cov = sorted(covered)
    for a, b in missing:
        cur = a
        for c, d in cov:
            if d < cur or c > b:
                continue
            if c > cur:
                out.append([cur, c - 1])
            cur = max(cur, d + 1)
            if cur > b:
                break
        if cur <= b:
            out.append([cur, b])
    return out


def sequence_report(session: Session, gateway_id: str) -> SequenceReport:
    """Holes in a gateway's sequence (a hole may still be in flight), and those gap records explain."""
    prev = func.lag(IngestedEvent.seq).over(order_by=IngestedEvent.seq)
    rows = session.execute(
        select(IngestedEvent.seq, prev.label("prev")).where(IngestedEvent.gateway_id == gateway_id)
    ).all()
    missing: list[list[int]] = []
    last, received = 0, len(rows)
    for seq, before in rows:
        lower = (before or 0) + 1
        if seq > lower:
            missing.append([lower, seq - 1])
        last = max(last, seq)
    accounted: list[list[int]] = []
    for body in session.scalars(select(IngestedEvent.body).where(IngestedEvent.gateway_id == gateway_id,
                                                                 IngestedEvent.lane == "gap")):
        accounted.extend([int(r[0]), int(r[1])] for r in body.get("ranges", []) if len(r) == 2)
    return SequenceReport(gateway_id, received, last, missing, sorted(accounted), _subtract(missing, accounted))


def dead_letters(session: Session, gateway_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The most recent rejected messages, newest first, for administrators."""
    q = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if gateway_id:
        q = q.where(DeadLetter.gateway_id == gateway_id)
    return [
        {"id": d.id, "received_at": d.received_at, "topic": d.topic, "gateway_id": d.gateway_id, "seq": d.seq,
         "reason": d.reason, "payload": d.payload}
        for d in session.scalars(q)
    ]
