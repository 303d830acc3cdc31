"""One drain of uplink messages, top to bottom: screen → commit (insert, per-kind handling) → acks → desk.

1. Screen: state messages apart; a message that is too big, not the uplink format or from a gateway
   other than its topic's is dead-lettered (server/ingest_letters.py).
2. A batch with no events (a quiet home's heartbeat) has nothing to store: its presence goes to the
   presence book (server/presence_book.py, written in bulk every few seconds) and its ack out at once.
3. Commit every other batch in one transaction (server/ingest_store.py), isolating poison (server/ingest_poison.py).
4. Acknowledge each batch — only now that it is committed — and hand its new alarms to the desk.
5. Note the senders' presence; mirror the committed readings; note state messages that came after a batch.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from anxin import protocol
from anxin.mqtt import MqttError
from server.home_text import for_log
from server.ingest_checks import MAX_UPLINK_BYTES
from server.ingest_letters import DeadLetters
from server.ingest_poison import PoisonIsolation
from server.ingest_store import IngestResult
from server.presence_book import PresenceBook

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int], object]


class IngestPipeline:
    """Handles drains of (topic, payload) messages; its parts are passed in, no I/O in the constructor."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        commit: PoisonIsolation,
        letters: DeadLetters,
        publish: Publish,
        on_new_alarm: Callable[[int], None],
        on_readings: Callable[[list[dict[str, Any]]], None],
        clock: Callable[[], datetime],
        counters: Counter[str],
        presence: PresenceBook | None = None,
    ) -> None:
        self.sessions = sessions
        self.commit = commit
        self.letters = letters
        self.publish = publish
        self.on_new_alarm = on_new_alarm  # the desk's wake: it notifies at once
        self.on_readings = on_readings  # after the commit: the InfluxDB mirror, when configured
        self.clock = clock
        self.counters = counters
        # Presence (last seen, state, boot id) is noted here and written in bulk; see server/presence_book.py.
        self.presence = presence or PresenceBook(sessions, counters)

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
            batch = self._screen(topic, payload)
            if batch is None:
                continue
            if batch.events:
                batches.append(batch)
            else:  # a heartbeat: nothing to store, so no transaction and no waiting for one
                self.presence.heard(batch.gateway_id, self.clock(), batch.boot_id)
                self.counters["heartbeats"] += 1
                self._acknowledge(batch, IngestResult(), qos=0)  # a lost one costs nothing: nothing waits on it
        if not batches:
            return []
        try:
            results = self.commit.commit(batches)
        except Exception:
            # The batches stay unacknowledged and are resent; a last will is the broker's only word about
            # its home, and noting it needs no database: it must not be lost with the commit.
            for topic, payload in later_states:
                self.handle_state(topic, payload)
            raise
        now = self.clock()
        for batch, result in zip(batches, results, strict=True):
            if result.acked or result.rejected:
                self._acknowledge(batch, result)
                self.presence.heard(batch.gateway_id, now, batch.boot_id)
            for alarm_id in result.new_alarms:
                self.on_new_alarm(alarm_id)
        for topic, payload in later_states:  # before the mirror: a failing mirror must not drop them either
            self.handle_state(topic, payload)
        committed = [r for result in results for r in result.readings]
        if committed:
            self.on_readings(committed)
        return results

    def _screen(self, topic: str, payload: bytes) -> protocol.UplinkBatch | None:
        """The batch in an up-topic message, or None when it is dead-lettered."""
        if len(payload) > MAX_UPLINK_BYTES:
            self.letters.keep(
                topic,
                None,
                None,
                f"uplink message of {len(payload)} bytes, over the {MAX_UPLINK_BYTES} allowed",
                payload[:65536],
            )
            return None
        try:
            gw = protocol.gateway_from_topic(topic)
            batch = protocol.decode_batch(payload)
        except protocol.ProtocolError as exc:
            self.letters.keep(topic, None, None, str(exc), payload)
            return None
        except Exception as exc:  # any class (a number float() cannot hold…): refused, never the drain
            self.letters.keep(topic, None, None, f"undecodable: {type(exc).__name__}: {str(exc)[:200]}", payload)
            return None
        if batch.gateway_id != gw:
            self.letters.keep(topic, gw, None, f"gateway id {batch.gateway_id!r} does not match topic", payload)
            return None
        if len(gw) > 64:
            self.letters.keep(topic, None, None, "gateway id over 64 characters", payload)
            return None
        return batch

    def _acknowledge(self, batch: protocol.UplinkBatch, result: IngestResult, qos: int = 1) -> None:
        # Committed already: a link that is down now (a broker blip, the intake probe reconnecting) costs
        # only this ack (the gateway resends, the duplicate is acked then), never the rest of the drain.
        ack = protocol.Ack(tuple(result.acked), tuple(result.rejected), result.upto, batch.batch_id)
        try:
            self.publish(protocol.ack_topic(batch.gateway_id), protocol.encode_ack(ack), qos)
        except MqttError as exc:
            self.counters["ack_publish_errors"] += 1
            log.warning(
                "could not acknowledge batch from %s (stored; it will be resent): %s", for_log(batch.gateway_id), exc
            )

    def handle_state(self, topic: str, payload: bytes) -> None:
        """A gateway's retained presence message or last will."""
        try:
            gw_id = protocol.gateway_from_topic(topic)
            doc: Any = json.loads(payload)
            state = str(doc["state"]).replace("\x00", "")[:16]
            if len(gw_id) > 64:
                raise ValueError("gateway id over 64 characters")
        except (protocol.ProtocolError, ValueError, KeyError, TypeError) as exc:
            self.letters.keep(topic, None, None, f"bad state message: {exc}", payload)
            return
        boot = doc.get("boot")
        self.presence.state(gw_id, state, self.clock(), boot.replace("\x00", "") if isinstance(boot, str) else None)
        if state != "online":  # the routine heartbeat is not worth a line; a last will is
            log.info("gateway %s is %s", for_log(gw_id), for_log(state))
