"""The ingest transaction: store what gateways send exactly once, in one commit per drain.

Read top to bottom, a drain of batches goes: the gateways that sent them → screen each event (refused
before, or refused now: dead letter) → insert the new ones (a duplicate is only acknowledged again) →
what each new event does, by kind (server/ingest_kinds.py) → how far each gateway's cumulative ack
moves, written for every gateway of the drain in one statement. Acknowledging happens after the commit,
and presence (last seen, state, boot id) is noted then, in server/ingest_pipeline.py: the transaction
never touches it, so two drains do not queue on a gateway row only to say it is alive.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from anxin import protocol
from anxin.protocol import AlarmBody, EventBody, GapBody, ReadingBody
from server import ingest_kinds as kinds
from server.db.bulk import insert_new_events, insert_readings
from server.db.models import Gateway, Resident
from server.home_text import for_log
from server.ingest_checks import corrected_time, decoded, sanitized
from server.ingest_letters import DeadLetters
from server.reliability import advance_all, dead_seqs

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What one uplink batch did."""

    acked: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    new_alarms: list[int] = field(default_factory=list)  # for the desk now: new, or pressed again after an ack
    duplicates: int = 0
    readings: list[dict[str, Any]] = field(default_factory=list)  # the rows committed to `readings`
    upto: int = 0


# One accepted event of a drain: (index of its batch, the event as stored, its typed body, its time).
Accepted = tuple[int, protocol.UplinkEvent, protocol.Body, datetime]


class EventStore:
    """Commits drains of uplink batches; no I/O in the constructor."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        letters: DeadLetters,
        clock: Callable[[], datetime],
        counters: Counter[str],
    ) -> None:
        self.sessions = sessions
        self.letters = letters
        self.clock = clock
        self.counters = counters

    def commit_many(self, batches: list[protocol.UplinkBatch]) -> list[IngestResult]:
        """Store the new events of several batches in one transaction, with bulk inserts."""
        now = self.clock()
        results = [IngestResult() for _ in batches]
        with self.sessions() as s, s.begin():
            gateways = _gateways(s, {b.gateway_id for b in batches}, now)
            accepted = self._screen(s, batches, gateways, results, now)
            fresh = insert_new_events(
                s,
                [
                    {
                        "gateway_id": batches[i].gateway_id,
                        "seq": ev.seq,
                        "lane": ev.lane,
                        "gateway_ts": at,
                        "received_at": now,
                        "ts_corrected": at_corrected,
                        "body": None if ev.lane == "reading" else ev.body,
                    }
                    for (i, ev, _b, at), at_corrected in accepted
                ],
            )
            newest = self._handle(s, batches, gateways, [a for a, _c in accepted], fresh, results, now)
            insert_readings(s, [r for result in results for r in result.readings])
            uptos = self._advance(s, batches, gateways, results)
            _write_progress(s, gateways, newest, uptos)
        for r in results:
            self.counters["events"] += len(r.acked) - r.duplicates
            self.counters["duplicates"] += r.duplicates
        return results

    def _screen(
        self,
        s: Session,
        batches: list[protocol.UplinkBatch],
        gateways: dict[str, Gateway],
        results: list[IngestResult],
        now: datetime,
    ) -> list[tuple[Accepted, bool]]:
        """Every event that may be stored, with its typed body and time; the others rejected (dead-lettered)."""
        dead = dead_seqs(s, batches)
        accepted: list[tuple[Accepted, bool]] = []
        for i, batch in enumerate(batches):
            gw = gateways[batch.gateway_id]
            for ev in batch.events:
                if (gw.id, ev.seq) in dead:  # rejected before and our answer was lost: one letter is enough
                    results[i].duplicates += 1
                    results[i].rejected.append(ev.seq)
                    continue
                ev = sanitized(ev)
                try:
                    body = decoded(ev)
                except protocol.ProtocolError as exc:
                    self.letters.add(s, protocol.up_topic(gw.id), gw.id, ev.seq, str(exc), json.dumps(ev.body))
                    results[i].rejected.append(ev.seq)
                    continue
                at, corrected = corrected_time(ev.ts, batch, now)
                accepted.append(((i, ev, body, at), corrected))
        return accepted

    def _handle(
        self,
        s: Session,
        batches: list[protocol.UplinkBatch],
        gateways: dict[str, Gateway],
        accepted: list[Accepted],
        fresh: set[tuple[str, int]],
        results: list[IngestResult],
        now: datetime,
    ) -> dict[str, int]:
        """What each event does, by kind (readings rows go into each result); returns each gateway's newest seq."""
        consenting = _consenting(s, {g.resident_id for g in gateways.values() if g.resident_id})
        newest: dict[str, int] = {}
        for i, ev, body, at in accepted:
            gw, result = gateways[batches[i].gateway_id], results[i]
            if (gw.id, ev.seq) not in fresh:
                result.duplicates += 1
                result.acked.append(ev.seq)
                if isinstance(body, AlarmBody):
                    kinds.alarm_again(s, gw, ev, body, now)
                continue
            fresh.discard((gw.id, ev.seq))  # a seq twice in this drain: the second is a duplicate
            if isinstance(body, ReadingBody):
                if gw.resident_id is not None and gw.resident_id not in consenting:
                    self.counters["readings_without_consent"] += 1  # acknowledged, never stored (PIPL)
                else:
                    result.readings.append(kinds.reading_row(gw, body, at, now))
            elif isinstance(body, AlarmBody):
                alarm_id = kinds.alarm(s, gw, ev.seq, body, at, now)
                if alarm_id is not None:
                    result.new_alarms.append(alarm_id)
            elif isinstance(body, GapBody):
                kinds.gap(gw, body)
            elif isinstance(body, EventBody):
                kinds.event(s, gw, ev, body, now)
            result.acked.append(ev.seq)
            newest[gw.id] = max(newest.get(gw.id, 0), ev.seq)
        return newest

    @staticmethod
    def _advance(
        s: Session, batches: list[protocol.UplinkBatch], gateways: dict[str, Gateway], results: list[IngestResult]
    ) -> dict[str, int]:
        """Each gateway's cumulative ack: past everything stored, rejected or inside a gap record."""
        handled: dict[str, set[int]] = {}
        for batch, result in zip(batches, results, strict=True):
            handled.setdefault(batch.gateway_id, set()).update(result.acked, result.rejected)
        uptos = advance_all(s, {gw.id: gw.acked_upto or 0 for gw in gateways.values()}, handled)
        for batch, result in zip(batches, results, strict=True):
            result.upto = uptos[batch.gateway_id]
        return uptos


# The drain's progress for all its gateways in one executemany (the ORM would send one UPDATE per row).
_GATEWAYS = cast(Table, Gateway.__table__)  # Core: a list of parameters then runs as one executemany
_GW = _GATEWAYS.c
_PROGRESS = (
    update(_GATEWAYS)
    .where(_GW.id == bindparam("b_id"))
    .values(last_seq=bindparam("b_seq"), acked_upto=bindparam("b_upto"))
)


def _write_progress(s: Session, gateways: dict[str, Gateway], newest: dict[str, int], uptos: dict[str, int]) -> None:
    """Each gateway's newest stored seq and cumulative ack, where either moved."""
    rows = []
    for gw_id, gw in sorted(gateways.items()):  # one lock order for every writer of these rows
        seq, upto = max(gw.last_seq or 0, newest.get(gw_id, 0)), uptos[gw_id]
        if seq != (gw.last_seq or 0) or upto != (gw.acked_upto or 0):
            rows.append({"b_id": gw_id, "b_seq": seq, "b_upto": upto})
    if rows:
        s.execute(_PROGRESS, rows)


def _gateways(s: Session, ids: set[str], now: datetime) -> dict[str, Gateway]:
    """The gateways of a drain; an unregistered one is added (its alarms are shown to staff)."""
    found = {g.id: g for g in s.scalars(select(Gateway).where(Gateway.id.in_(ids)))}
    missing = ids - found.keys()
    for gw_id in missing:
        log.warning("events from unregistered gateway %s: kept, alarms shown to staff", for_log(gw_id))
        found[gw_id] = Gateway(id=gw_id, state="online", state_at=now, last_seen=now, last_seq=0, acked_upto=0)
        s.add(found[gw_id])
    if missing:
        s.flush()
    return found


def _consenting(s: Session, resident_ids: set[int]) -> set[int]:
    """Residents who agreed to their health readings being stored (emergencies need no consent)."""
    if not resident_ids:
        return set()
    return set(s.scalars(select(Resident.id).where(Resident.id.in_(resident_ids), Resident.consent.is_(True))))
