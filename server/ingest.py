"""Ingest: commit what gateways send exactly once, then acknowledge, then hand alarms on."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from anxin import protocol
from server.alarms import apply_gateway_alarm, audit
from server.db.models import Alarm, DeadLetter, Gateway, IngestedEvent, Reading
from server.rules_push import record_report

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int], object]
MAX_SKEW = timedelta(minutes=5)


@dataclass
class IngestResult:
    """What one uplink batch did."""

    acked: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    new_alarms: list[int] = field(default_factory=list)
    duplicates: int = 0
    upto: int = 0


def corrected_time(ts: float, batch: protocol.UplinkBatch, received: datetime) -> tuple[datetime, bool]:
    """The event time, shifted by the gateway's clock error when its clock is not to be trusted."""
    at = datetime.fromtimestamp(ts, timezone.utc)
    if batch.sent_at <= 0:
        return at, False
    skew = received - datetime.fromtimestamp(batch.sent_at, timezone.utc)
    if batch.clock_synced and abs(skew) <= MAX_SKEW:
        return at, False
    return at + skew, True


def _validate(ev: protocol.UplinkEvent) -> str | None:
    body = ev.body
    if ev.lane == "alarm" and not isinstance(body.get("type"), str):
        return "alarm without a type"
    if ev.lane == "reading":
        values = body.get("values")
        if not isinstance(body.get("metric"), str) or not isinstance(values, dict):
            return "reading without metric or values"
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()):
            return "reading with non-numeric values"
    return None


class Ingest:
    """Consumes uplink batches on one thread; acknowledges only after the commit."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Publish,
        on_new_alarm: Callable[[int], None],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.sessions = sessions
        self.publish = publish
        self.on_new_alarm = on_new_alarm
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def on_message(self, topic: str, payload: bytes) -> None:
        """From the MQTT edge: only enqueue."""
        self._queue.put((topic, payload))

    def start(self) -> None:
        """Run the ingest thread."""
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drain what is queued, then stop."""
        self._queue.put(None)
        if self._thread:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self.handle(*item)
            except Exception:  # supervisor: the message stays unacknowledged, so the gateway resends it
                self.counters["internal_errors"] += 1
                log.exception("ingest failed on %s", item[0])

    def handle(self, topic: str, payload: bytes) -> IngestResult | None:
        """One MQTT message from a gateway."""
        if topic.endswith("/state"):
            self.handle_state(topic, payload)
            return None
        try:
            gw = protocol.gateway_from_topic(topic)
            batch = protocol.decode_batch(payload)
        except protocol.ProtocolError as exc:
            self.dead_letter(topic, None, None, str(exc), payload)
            return None
        if batch.gateway_id != gw:
            self.dead_letter(topic, gw, None, f"gateway id {batch.gateway_id!r} does not match topic", payload)
            return None
        result = self.commit(batch)
        self.publish(protocol.ack_topic(gw), protocol.encode_ack(protocol.Ack(tuple(result.acked),
                                                                             tuple(result.rejected), result.upto)), 1)
        for alarm_id in result.new_alarms:
            self.on_new_alarm(alarm_id)
        return result

    def commit(self, batch: protocol.UplinkBatch) -> IngestResult:
        """Store the new events of a batch in one transaction; duplicates are only acknowledged."""
        now = self.clock()
        result = IngestResult()
        with self.sessions() as s, s.begin():
            gw = s.get(Gateway, batch.gateway_id)
            if gw is None:
                log.warning("events from unregistered gateway %s: kept, alarms shown to staff", batch.gateway_id)
                gw = Gateway(id=batch.gateway_id, state="online")
                s.add(gw)
            gw.last_seen, gw.boot_id = now, batch.boot_id
            seqs = [e.seq for e in batch.events]
            seen = set(s.scalars(select(IngestedEvent.seq).where(IngestedEvent.gateway_id == gw.id,
                                                                 IngestedEvent.seq.in_(seqs))))
            dead = set(s.scalars(select(DeadLetter.seq).where(DeadLetter.gateway_id == gw.id,
                                                              DeadLetter.seq.in_(seqs))))
            events: list[dict[str, Any]] = []
            readings: list[dict[str, Any]] = []
            for ev in batch.events:
                if ev.seq in dead:  # rejected before; our answer was lost: reject again, keep one letter
                    result.duplicates += 1
                    result.rejected.append(ev.seq)
                    continue
                if ev.seq in seen:
                    result.duplicates += 1
                    result.acked.append(ev.seq)
                    if ev.lane == "alarm" and ev.body.get("sms"):
                        record_late_sms(s, gw.id, ev, now)
                    continue
                seen.add(ev.seq)
                reason = _validate(ev)
                if reason:
                    self._dead(s, protocol.up_topic(gw.id), gw.id, ev.seq, reason, json.dumps(ev.body))
                    result.rejected.append(ev.seq)
                    continue
                at, corrected = corrected_time(ev.ts, batch, now)
                events.append({"gateway_id": gw.id, "seq": ev.seq, "lane": ev.lane, "gateway_ts": at,
                               "received_at": now, "ts_corrected": corrected, "body": ev.body})
                self._apply(s, gw, ev, at, now, result, readings)
                result.acked.append(ev.seq)
                gw.last_seq = max(gw.last_seq or 0, ev.seq)
            # Bulk inserts, in batch order: ORM objects per reading cost more than the whole commit.
            if events:
                s.execute(insert(IngestedEvent), events)
            if readings:
                s.execute(insert(Reading), readings)
            result.upto = gw.acked_upto = advance_upto(s, gw.id, gw.acked_upto or 0)
        self.counters["events"] += len(result.acked) - result.duplicates
        self.counters["duplicates"] += result.duplicates
        return result

    def _apply(self, s: Session, gw: Gateway, ev: protocol.UplinkEvent, at: datetime, now: datetime,
               result: IngestResult, readings: list[dict[str, Any]]) -> None:
        body = ev.body
        if ev.lane == "alarm":
            change = apply_gateway_alarm(s, gw.id, ev.seq, gw.resident_id, body, at, now)
            if change and change.new:
                log.info("ALARM #%d %s (%s) from %s/%s", change.alarm.id, change.alarm.type, change.alarm.severity,
                         gw.id, change.alarm.device)
                result.new_alarms.append(change.alarm.id)
            if change and body.get("sms"):
                record_sms(s, change.alarm, body["sms"], now)
        elif ev.lane == "gap":
            log.warning("gateway %s reports %s sequence numbers it will never send (%s)", gw.id,
                        body.get("count"), body.get("reason"))
        elif ev.lane == "event":
            record_report(s, gw, body)
        elif ev.lane == "reading":
            readings.append({"resident_id": gw.resident_id, "gateway_id": gw.id, "device": str(body.get("device", "")),
                             "metric": body["metric"], "ts": at, "values": body["values"],
                             "flags": list(body.get("flags") or [])})

    def handle_state(self, topic: str, payload: bytes) -> None:
        """A gateway's retained presence message or last will."""
        try:
            gw_id = protocol.gateway_from_topic(topic)
            doc: Any = json.loads(payload)
            state = str(doc["state"])
        except (protocol.ProtocolError, ValueError, KeyError, TypeError) as exc:
            self.dead_letter(topic, None, None, f"bad state message: {exc}", payload)
            return
        with self.sessions() as s, s.begin():
            gw = s.get(Gateway, gw_id) or Gateway(id=gw_id)
            gw.state, gw.last_seen = state, self.clock()
            s.add(gw)
        log.info("gateway %s is %s", gw_id, state)

    def dead_letter(self, topic: str, gw: str | None, seq: int | None, reason: str, payload: bytes) -> None:
        """Keep a message we cannot accept, count it and say so."""
        with self.sessions() as s, s.begin():
            self._dead(s, topic, gw, seq, reason, payload.decode("utf-8", errors="replace"))

    def _dead(self, s: Session, topic: str, gw: str | None, seq: int | None, reason: str, text: str) -> None:
        self.counters["dead_letters"] += 1
        log.warning("dead letter from %s: %s", topic, reason)
        s.add(DeadLetter(topic=topic, gateway_id=gw, seq=seq, reason=reason, payload=text[:65536]))


def advance_upto(s: Session, gateway_id: str, upto: int, window: int = 2000) -> int:
    """The cumulative ack: move past every seq stored, rejected or covered by a gap record.

    Bounded work per batch (`window` rows): behind a hole that stays open, only selective acks move.
    """
    s.flush()
    held = set(s.scalars(select(IngestedEvent.seq).where(IngestedEvent.gateway_id == gateway_id,
                                                         IngestedEvent.seq > upto)
                         .order_by(IngestedEvent.seq).limit(window)))
    held |= set(s.scalars(select(DeadLetter.seq).where(DeadLetter.gateway_id == gateway_id, DeadLetter.seq > upto)))
    gaps = [b.get("ranges", []) for b in s.scalars(select(IngestedEvent.body).where(
        IngestedEvent.gateway_id == gateway_id, IngestedEvent.lane == "gap", IngestedEvent.seq > upto))]
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
    audit(s, alarm, "sms_sent_by_gateway", "gateway", now, delivered_to=sms.get("delivered_to", []),
          attempts=sms.get("attempts", []), sent_at=sms.get("at"))


def record_late_sms(s: Session, gateway_id: str, ev: protocol.UplinkEvent, now: datetime) -> None:
    """An alarm we already stored comes again with its SMS record (our ack was lost or late)."""
    alarm = s.scalars(select(Alarm).where(Alarm.gateway_id == gateway_id, Alarm.gateway_seq == ev.seq)).first()
    if alarm is not None:
        record_sms(s, alarm, ev.body["sms"], now)
