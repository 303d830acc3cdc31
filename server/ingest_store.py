"""Ingest's storage side: commit what gateways send exactly once, then acknowledge, then hand alarms on."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from anxin import protocol
from anxin.mqtt import MqttError
from server.alarms import apply_gateway_alarm
from server.db.bulk import insert_new_events, insert_readings
from server.db.models import DeadLetter, Gateway, Resident
from server.home_text import for_log
from server.ingest_checks import (MAX_UPLINK_BYTES, capped_alarm, corrected_time, json_safe, measured_time,
                                  reading_flags, validate)
from server.ingest_poison import body_text, is_transient, merged
from server.reminders import remind_after_repeat
from server.reliability import advance_all, dead_seqs, record_late_sms, record_sms
from server.home_reminders import record_outcome
from server.rules_push import record_report
from server.assist.home_press import record_service_press

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int], object]


@dataclass
class IngestResult:
    """What one uplink batch did."""

    acked: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    new_alarms: list[int] = field(default_factory=list)  # for the desk now: new, or pressed again after an ack
    duplicates: int = 0
    readings: list[dict[str, Any]] = field(default_factory=list)  # the rows committed to `readings`
    upto: int = 0


class IngestStore:
    """Decodes uplink messages and commits them in one transaction per call; `Ingest` feeds it from MQTT."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Publish,
        on_new_alarm: Callable[[int], None],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        on_readings: Callable[[list[dict[str, Any]]], None] = lambda _r: None,
    ) -> None:
        self.sessions = sessions
        self.publish = publish
        self.on_new_alarm = on_new_alarm
        self.clock = clock
        self.on_readings = on_readings  # after the commit: the InfluxDB mirror, when configured
        self.counters: Counter[str] = Counter()

    def handle(self, topic: str, payload: bytes) -> IngestResult | None:
        """One MQTT message from a gateway."""
        results = self.handle_many([(topic, payload)])
        return results[0] if results else None

    def handle_many(self, items: list[tuple[str, bytes]]) -> list[IngestResult]:
        """Several MQTT messages: state messages apart, uplink batches committed together, then acked."""
        batches: list[protocol.UplinkBatch] = []
        later_states: list[tuple[str, bytes]] = []
        for topic, payload in items:
            if topic.endswith("/state"):
                # A last will that came after a batch must not be overwritten by that batch's "online".
                if batches:
                    later_states.append((topic, payload))
                else:
                    self.handle_state(topic, payload)
                continue
            batch = self._decode(topic, payload)
            if batch is not None:
                batches.append(batch)
        if not batches:
            return []
        try:
            results = self.commit_many(batches)
        except Exception as exc:  # any class: one message must never hold back another home's alarm
            if is_transient(exc) and len(batches) == 1:
                raise
            # One message (or a race with another server process) spoiled the shared transaction:
            # retry each on its own so the others are not held back.
            log.warning("batched commit of %d messages failed (%s); committing one by one", len(batches), exc)
            results = [self._commit_alone(b) for b in batches]
        for batch, result in zip(batches, results):
            if result.acked or result.rejected:
                self._send_ack(batch, result)
            for alarm_id in result.new_alarms:
                self.on_new_alarm(alarm_id)
        committed = [r for result in results for r in result.readings]
        if committed:
            self.on_readings(committed)
        for topic, payload in later_states:
            self.handle_state(topic, payload)
        return results

    def _send_ack(self, batch: protocol.UplinkBatch, result: IngestResult) -> None:
        # Committed already: a link that is down now (a broker blip, the intake probe reconnecting) costs
        # only this ack (the gateway resends, the duplicate is acked then), never the rest of the drain.
        try:
            self.publish(protocol.ack_topic(batch.gateway_id),
                         protocol.encode_ack(protocol.Ack(tuple(result.acked), tuple(result.rejected),
                                                          result.upto, batch.batch_id)), 1)
        except MqttError as exc:
            self.counters["ack_publish_errors"] += 1
            log.warning("could not acknowledge batch from %s (stored; it will be resent): %s",
                        for_log(batch.gateway_id), exc)

    def _commit_alone(self, batch: protocol.UplinkBatch) -> IngestResult:
        """Commit one message by itself; an event that cannot be committed even alone is dead-lettered.

        A database that is down is not the message's fault: then it stays unacknowledged (resent).
        """
        try:
            return self.commit_many([batch])[0]
        except Exception as exc:  # any class: poison is whatever fails alone
            if is_transient(exc):
                self.counters["internal_errors"] += 1
                log.error("could not commit batch from %s; it stays unacknowledged: %s", for_log(batch.gateway_id), exc)
                return IngestResult()
            if len(batch.events) > 1:
                log.warning("batch from %s failed (%r); committing its events one by one", for_log(batch.gateway_id),
                            exc)
                parts = [self._commit_alone(replace(batch, events=(ev,))) for ev in batch.events]
                return merged(IngestResult(), parts)
            self.counters["poison"] += 1
            result = IngestResult()
            for ev in batch.events:
                self.dead_letter(protocol.up_topic(batch.gateway_id), batch.gateway_id, ev.seq,
                                 f"cannot be committed: {type(exc).__name__}: {str(exc)[:200]}",
                                 body_text(ev.body).encode())
                result.rejected.append(ev.seq)
            return result

    def _decode(self, topic: str, payload: bytes) -> protocol.UplinkBatch | None:
        if len(payload) > MAX_UPLINK_BYTES:
            self.dead_letter(topic, None, None, f"uplink message of {len(payload)} bytes, over the "
                             f"{MAX_UPLINK_BYTES} allowed", payload[:65536])
            return None
        try:
            gw = protocol.gateway_from_topic(topic)
            batch = protocol.decode_batch(payload)
        except protocol.ProtocolError as exc:
            self.dead_letter(topic, None, None, str(exc), payload)
            return None
        except Exception as exc:  # any class (a number float() cannot hold…): refused, never the drain
            self.dead_letter(topic, None, None, f"undecodable: {type(exc).__name__}: {str(exc)[:200]}", payload)
            return None
        if batch.gateway_id != gw:
            self.dead_letter(topic, gw, None, f"gateway id {batch.gateway_id!r} does not match topic", payload)
            return None
        if len(gw) > 64:
            self.dead_letter(topic, None, None, "gateway id over 64 characters", payload)
            return None
        return batch

    def commit(self, batch: protocol.UplinkBatch) -> IngestResult:
        """Store the new events of one batch; duplicates are only acknowledged."""
        return self.commit_many([batch])[0]

    def commit_many(self, batches: list[protocol.UplinkBatch]) -> list[IngestResult]:
        """Store the new events of several batches in one transaction, with bulk inserts."""
        now = self.clock()
        results = [IngestResult() for _ in batches]
        with self.sessions() as s, s.begin():
            gateways = self._gateways(s, {b.gateway_id for b in batches}, now)
            dead = dead_seqs(s, batches)
            rows, owners = [], []
            for i, batch in enumerate(batches):
                gw = gateways[batch.gateway_id]
                gw.boot_id = batch.boot_id[:64]
                for ev in batch.events:
                    if (gw.id, ev.seq) in dead:  # rejected before and our answer was lost: one letter is enough
                        results[i].duplicates += 1
                        results[i].rejected.append(ev.seq)
                        continue
                    if ev.lane != "reading":  # one NaN must not fail the whole drain (readings: _validate)
                        ev = replace(ev, body=json_safe(ev.body))
                    if ev.lane == "alarm":  # an alarm is kept whatever its text: over-long text is cut
                        ev = replace(ev, body=capped_alarm(ev.body))
                    reason = validate(ev)
                    if reason:
                        self._dead(s, protocol.up_topic(gw.id), gw.id, ev.seq, reason, json.dumps(ev.body))
                        results[i].rejected.append(ev.seq)
                        continue
                    at, corrected = corrected_time(ev.ts, batch, now)
                    rows.append({"gateway_id": gw.id, "seq": ev.seq, "lane": ev.lane, "gateway_ts": at,
                                 "received_at": now, "ts_corrected": corrected,
                                 "body": None if ev.lane == "reading" else ev.body})
                    owners.append((i, ev, at))
            fresh = insert_new_events(s, rows)
            consenting = self._consenting(s, {g.resident_id for g in gateways.values() if g.resident_id})
            readings = []
            newest: dict[str, int] = {}  # per gateway: set on the ORM row once, not once per event
            for i, ev, at in owners:
                gw = gateways[batches[i].gateway_id]
                if (gw.id, ev.seq) not in fresh:
                    results[i].duplicates += 1
                    results[i].acked.append(ev.seq)
                    if ev.lane == "alarm" and ev.body.get("sms"):
                        record_late_sms(s, gw.id, ev, now)
                    continue
                fresh.discard((gw.id, ev.seq))  # a seq twice in this drain: the second is a duplicate
                if ev.lane == "reading" and gw.resident_id is not None and gw.resident_id not in consenting:
                    self.counters["readings_without_consent"] += 1  # acknowledged, never stored (PIPL)
                elif ev.lane == "reading":
                    body = ev.body
                    readings.append({"resident_id": gw.resident_id, "gateway_id": gw.id,
                                     "device": str(body.get("device", ""))[:128].replace("\x00", ""),
                                     "metric": body["metric"],
                                     "ts": measured_time(body, at, now),
                                     "values": body["values"], "flags": reading_flags(body.get("flags"))})
                    results[i].readings.append(readings[-1])
                else:
                    self._apply(s, gw, ev, at, now, results[i])
                results[i].acked.append(ev.seq)
                newest[gw.id] = max(newest.get(gw.id, 0), ev.seq)
            for gw_id, seq in newest.items():
                gateways[gw_id].last_seq = max(gateways[gw_id].last_seq or 0, seq)
            insert_readings(s, readings)
            handled: dict[str, set[int]] = {}
            for i, batch in enumerate(batches):
                handled.setdefault(batch.gateway_id, set()).update(results[i].acked, results[i].rejected)
            uptos = advance_all(s, {gw.id: gw.acked_upto or 0 for gw in gateways.values()}, handled)
            for gw in gateways.values():
                gw.acked_upto = uptos[gw.id]
            for i, batch in enumerate(batches):
                results[i].upto = gateways[batch.gateway_id].acked_upto
        for r in results:
            self.counters["events"] += len(r.acked) - r.duplicates
            self.counters["duplicates"] += r.duplicates
        return results

    @staticmethod
    def _consenting(s: Session, resident_ids: set[int]) -> set[int]:
        """Residents who agreed to their health readings being stored (emergencies need no consent)."""
        if not resident_ids:
            return set()
        return set(s.scalars(select(Resident.id).where(Resident.id.in_(resident_ids), Resident.consent.is_(True))))

    def _gateways(self, s: Session, ids: set[str], now: datetime) -> dict[str, Gateway]:
        found = {g.id: g for g in s.scalars(select(Gateway).where(Gateway.id.in_(ids)))}
        for gw_id in ids - found.keys():
            log.warning("events from unregistered gateway %s: kept, alarms shown to staff", for_log(gw_id))
            found[gw_id] = Gateway(id=gw_id, state="online", state_at=now)
            s.add(found[gw_id])
        for gw in found.values():
            gw.last_seen = now
            if gw.state != "online":  # any batch proves the gateway is connected (the birth may be late)
                gw.state, gw.state_at = "online", now
        s.flush()
        return found

    def _apply(self, s: Session, gw: Gateway, ev: protocol.UplinkEvent, at: datetime, now: datetime,
               result: IngestResult) -> None:
        body = ev.body
        if ev.lane == "alarm":
            change = apply_gateway_alarm(s, gw.id, ev.seq, gw.resident_id, body, at, now)
            if change and change.new:
                log.info("ALARM #%d %s (%s) from %s/%s", change.alarm.id, change.alarm.type, change.alarm.severity,
                         for_log(gw.id), for_log(change.alarm.device))
                result.new_alarms.append(change.alarm.id)
            elif change and body.get("change", "raise") == "raise" and remind_after_repeat(
                    s, change.alarm, str(body.get("severity") or change.alarm.severity), now):
                result.new_alarms.append(change.alarm.id)  # the desk sends the reminders at once
            if change and body.get("sms"):
                record_sms(s, change.alarm, body["sms"], now)
        elif ev.lane == "gap":
            log.warning("gateway %s reports %s sequence numbers it will never send (%s)", for_log(gw.id),
                        for_log(body.get("count")), for_log(body.get("reason")))
        elif ev.lane == "event":
            record_report(s, gw, body) or record_outcome(s, gw, ev.seq, body) or record_service_press(s, gw, body, now)

    def handle_state(self, topic: str, payload: bytes) -> None:
        """A gateway's retained presence message or last will."""
        try:
            gw_id = protocol.gateway_from_topic(topic)
            doc: Any = json.loads(payload)
            state = str(doc["state"]).replace("\x00", "")[:16]
            if len(gw_id) > 64:
                raise ValueError("gateway id over 64 characters")
        except (protocol.ProtocolError, ValueError, KeyError, TypeError) as exc:
            self.dead_letter(topic, None, None, f"bad state message: {exc}", payload)
            return
        now = self.clock()
        with self.sessions() as s, s.begin():
            gw = s.get(Gateway, gw_id) or Gateway(id=gw_id)
            gw.state, gw.state_at = state, now
            if state != "offline":  # a last will is the broker speaking, not the gateway: no heartbeat
                gw.last_seen = now
            s.add(gw)
        log.info("gateway %s is %s", for_log(gw_id), for_log(state))

    def dead_letter(self, topic: str, gw: str | None, seq: int | None, reason: str, payload: bytes) -> None:
        """Keep a message we cannot accept, count it and say so."""
        with self.sessions() as s, s.begin():
            self._dead(s, topic, gw, seq, reason, payload.decode("utf-8", errors="replace"))

    def _dead(self, s: Session, topic: str, gw: str | None, seq: int | None, reason: str, text: str) -> None:
        self.counters["dead_letters"] += 1
        log.warning("dead letter from %s: %s", for_log(topic), for_log(reason, 300))
        # Whatever the bytes were, the record must fit (PostgreSQL text holds no NUL), or it fails the drain.
        s.add(DeadLetter(topic=topic[:256], gateway_id=gw if gw is None else gw[:64], seq=seq,
                         reason=reason.replace("\x00", ""), payload=text[:65536].replace("\x00", "")))

