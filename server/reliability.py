"""What the server knows about each gateway's event stream: gaps, thinning, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from anxin import protocol
from server.alarms import audit
from server.db.models import Alarm, DeadLetter, IngestedEvent


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
    for body in session.scalars(
        select(IngestedEvent.body).where(IngestedEvent.gateway_id == gateway_id, IngestedEvent.lane == "gap")
    ):
        accounted.extend([int(r[0]), int(r[1])] for r in body.get("ranges", []) if len(r) == 2)
    rejected = session.scalars(
        select(DeadLetter.seq).where(DeadLetter.gateway_id == gateway_id, DeadLetter.seq.is_not(None))
    )
    accounted.extend([q, q] for q in rejected if q is not None)  # rejected events are accounted for, in dead letters
    return SequenceReport(gateway_id, received, last, missing, sorted(accounted), _subtract(missing, accounted))


# Used by ingest inside its transaction.


def dead_seqs(s: Session, batches: list[protocol.UplinkBatch]) -> set[tuple[str, int]]:
    """(gateway, seq) of this drain's events that were dead-lettered before: one query for the whole drain."""
    wanted = {(b.gateway_id, e.seq) for b in batches for e in b.events}
    bounds: dict[str, tuple[int, int]] = {}
    for gw_id, seq in wanted:
        lo, hi = bounds.get(gw_id, (seq, seq))
        bounds[gw_id] = (min(lo, seq), max(hi, seq))
    if not bounds:
        return set()
    found = s.execute(
        select(DeadLetter.gateway_id, DeadLetter.seq).where(
            or_(
                *(
                    and_(DeadLetter.gateway_id == gw_id, DeadLetter.seq.between(lo, hi))
                    for gw_id, (lo, hi) in bounds.items()
                )
            )
        )
    )
    return {(g, q) for g, q in found if g is not None and q is not None and (g, q) in wanted}


def advance_all(s: Session, uptos: dict[str, int], handled: dict[str, set[int]]) -> dict[str, int]:
    """The cumulative ack of every gateway in a drain (`handled`: the seqs it stored or rejected).

    The usual case costs one query for the whole drain: the drain itself continues each gateway's
    run from its old `upto`, and nothing stored, rejected or covered by a gap record lies just past
    it. A gateway where something does (a hole filled, a gap record) takes `advance_upto`.
    """
    s.flush()
    ends = {}
    for gw_id, upto in uptos.items():
        seen = handled.get(gw_id, set())
        while upto + 1 in seen:
            upto += 1
        ends[gw_id] = upto
    if not ends:
        return {}
    stored = select(IngestedEvent.gateway_id).where(
        or_(
            *(and_(IngestedEvent.gateway_id == gw_id, IngestedEvent.seq == end + 1) for gw_id, end in ends.items()),
            *(
                and_(IngestedEvent.gateway_id == gw_id, IngestedEvent.seq > uptos[gw_id], IngestedEvent.lane == "gap")
                for gw_id in ends
            ),
        )
    )
    rejected = select(DeadLetter.gateway_id).where(
        or_(*(and_(DeadLetter.gateway_id == gw_id, DeadLetter.seq == end + 1) for gw_id, end in ends.items()))
    )
    slow = set(s.scalars(union_all(stored, rejected)))
    return {gw_id: advance_upto(s, gw_id, uptos[gw_id]) if gw_id in slow else end for gw_id, end in ends.items()}


def advance_upto(s: Session, gateway_id: str, upto: int, window: int = 2000) -> int:
    """The cumulative ack: move past every seq stored, rejected or covered by a gap record.

    Bounded work per batch (`window` rows): behind a hole that stays open, only selective acks move.
    """
    s.flush()
    held = set(
        s.scalars(
            select(IngestedEvent.seq)
            .where(IngestedEvent.gateway_id == gateway_id, IngestedEvent.seq > upto)
            .order_by(IngestedEvent.seq)
            .limit(window)
        )
    )
    held |= set(s.scalars(select(DeadLetter.seq).where(DeadLetter.gateway_id == gateway_id, DeadLetter.seq > upto)))
    gaps = [
        b.get("ranges", [])
        for b in s.scalars(
            select(IngestedEvent.body).where(
                IngestedEvent.gateway_id == gateway_id, IngestedEvent.lane == "gap", IngestedEvent.seq > upto
            )
        )
    ]
    covered = sorted((int(r[0]), int(r[1])) for ranges in gaps for r in ranges if len(r) == 2)
    while True:
        nxt = upto + 1
        if nxt in held:
            upto = nxt
            continue
        jump = next((b for a, b in covered if a <= nxt <= b), None)
        if jump is None:
            return upto
        upto = jump


# SMS fallback: the gateway texted caregivers while the uplink was down; staff see the whole story.


def record_sms(s: Session, alarm: Alarm, sms: Any, now: datetime) -> None:
    """Audit the SMS the gateway already sent for this alarm (once)."""
    if not isinstance(sms, dict) or any(a.action == "sms_sent_by_gateway" for a in alarm.audit):
        return
    alarm.detail = {**(alarm.detail or {}), "sms_fallback": sms}
    audit(
        s,
        alarm,
        "sms_sent_by_gateway",
        "gateway",
        now,
        delivered_to=sms.get("delivered_to", []),
        attempts=sms.get("attempts", []),
        sent_at=sms.get("at"),
    )


def record_late_sms(s: Session, gateway_id: str, ev: protocol.UplinkEvent, now: datetime) -> None:
    """An alarm we already stored comes again with its SMS record (our ack was lost or late)."""
    alarm = s.scalars(select(Alarm).where(Alarm.gateway_id == gateway_id, Alarm.gateway_seq == ev.seq)).first()
    if alarm is not None:
        record_sms(s, alarm, ev.body["sms"], now)


@dataclass(frozen=True, slots=True)
class UnknownKeys:
    """A device's latest report of keys its gateway does not understand (counts since the gateway started)."""

    gateway_id: str
    device: str
    keys: dict[str, int]
    messages: int
    reported_at: datetime


def unknown_keys(session: Session, since: datetime) -> list[UnknownKeys]:
    """The newest `unknown_keys` report of every device since `since` (gateways send one at most hourly)."""
    rows = session.execute(
        select(IngestedEvent.gateway_id, IngestedEvent.body, IngestedEvent.received_at)
        .where(
            IngestedEvent.lane == "event",
            IngestedEvent.received_at >= since,
            IngestedEvent.body["kind"].as_string() == "unknown_keys",
        )
        .order_by(IngestedEvent.id)
    ).all()
    latest: dict[tuple[str, str], UnknownKeys] = {}
    for gateway_id, body, at in rows:
        detail = body.get("detail") if isinstance(body, dict) else None
        keys = detail.get("keys") if isinstance(detail, dict) else None
        if not isinstance(body, dict) or not isinstance(detail, dict) or not isinstance(keys, dict):
            continue  # text from homes is data: only well-formed reports are shown
        counts = {str(k)[:64]: int(v) for k, v in keys.items() if isinstance(v, int) and not isinstance(v, bool)}
        messages = detail.get("messages")
        device = str(body.get("device", ""))[:128]
        latest[(gateway_id, device)] = UnknownKeys(
            gateway_id, device, counts, messages if isinstance(messages, int) else sum(counts.values()), at
        )
    return sorted(latest.values(), key=lambda u: (u.gateway_id, u.device))
