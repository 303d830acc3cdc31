"""The uplink envelope, version 1: topics, the batch that carries events, the ack, the command (docs/protocol.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import orjson

VERSION = 1
PREFIX = "anxin/v1/gw"
MAX_BATCH_ID = 32
MAX_SEQ = 2**63 - 1  # a signed 64-bit column holds it; a gateway's SQLite sequence never gets near
MAX_DEPTH = 64  # JSON nesting the json fallback accepts (orjson refuses beyond 1024 itself)
MAX_UPLINK_BYTES = 1024 * 1024  # the server dead-letters a larger uplink message (a 500-event batch is ~100 KB)

Lane = Literal["alarm", "event", "reading", "gap"]
LANES: tuple[str, ...] = ("alarm", "event", "reading", "gap")


class ProtocolError(ValueError):
    """An uplink or downlink message that does not follow the documented format."""


def up_topic(gateway_id: str) -> str:
    """Gateway -> server: batches of events."""
    return f"{PREFIX}/{gateway_id}/up"


def alarm_topic(gateway_id: str) -> str:
    """Gateway -> server: a batch that carries an alarm (same format and ack as `up_topic`), read ahead of readings."""
    return f"{PREFIX}/{gateway_id}/alarm"


def ack_topic(gateway_id: str) -> str:
    """Server -> gateway: which sequence numbers are durably stored."""
    return f"{PREFIX}/{gateway_id}/ack"


def cmd_topic(gateway_id: str) -> str:
    """Server -> gateway: commands (alarm acknowledged, config push, test alarm)."""
    return f"{PREFIX}/{gateway_id}/cmd"


def state_topic(gateway_id: str) -> str:
    """Gateway presence, retained; the last will sets it offline."""
    return f"{PREFIX}/{gateway_id}/state"


def server_state_topic() -> str:
    """Server presence, retained: gateways resend at once when it comes back rather than after backoff."""
    return "anxin/v1/server/state"


def gateway_from_topic(topic: str) -> str:
    """The gateway id in an `anxin/v1/gw/<id>/...` topic."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != PREFIX or not parts[3]:
        raise ProtocolError(f"not an uplink topic: {topic!r}")
    return parts[3]


@dataclass(frozen=True, slots=True)
class UplinkEvent:
    """One outbox entry as it travels: (gateway, seq) identifies it for ever."""

    seq: int
    lane: str
    ts: float
    body: dict[str, Any]
    mono: float | None = None


@dataclass(frozen=True, slots=True)
class UplinkBatch:
    """What a gateway publishes on its up topic."""

    gateway_id: str
    boot_id: str
    events: tuple[UplinkEvent, ...]
    sent_at: float = 0.0
    clock_synced: bool = True
    batch_id: str = ""  # a fresh random id per publish; the server's ack names it back (docs/protocol.md)


@dataclass(frozen=True, slots=True)
class Ack:
    """What the server publishes once the listed sequence numbers are committed."""

    seqs: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    upto: int = 0  # cumulative: every sequence number <= upto is stored (or accounted for); 0 = none
    batch_id: str = ""  # the batch this answers: a gateway ignores an ack for a batch it did not send


@dataclass(frozen=True, slots=True)
class Command:
    """A server -> gateway command."""

    cmd: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlarmAcknowledged:
    """The `alarm_acknowledged` command: someone took the alarm on; the home may say that help is coming."""

    NAME: ClassVar[str] = "alarm_acknowledged"
    alarm_id: int
    gateway_seq: int | None
    type: str
    device: str | None
    by: str
    via: str

    def to_command(self) -> Command:
        """The command as the server sends it."""
        return Command(
            self.NAME,
            {
                "alarm_id": self.alarm_id,
                "gateway_seq": self.gateway_seq,
                "type": self.type,
                "device": self.device,
                "by": self.by,
                "via": self.via,
            },
        )


def encode_batch(batch: UplinkBatch) -> bytes:
    """Serialise a batch for the up topic."""
    doc: dict[str, Any] = {
        "v": VERSION,
        "gw": batch.gateway_id,
        "boot": batch.boot_id,
        "sent": batch.sent_at,
        "synced": batch.clock_synced,
        "events": [{"seq": e.seq, "lane": e.lane, "ts": e.ts, "mono": e.mono, "body": e.body} for e in batch.events],
    }
    if batch.batch_id:
        doc["id"] = batch.batch_id
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _load(payload: bytes) -> dict[str, Any]:
    # orjson parses the common case about three times faster than json (measured in docs/performance.md);
    # what it refuses (NaN, Infinity, 1e999, which a Python gateway's json.dumps can write) gets json's verdict.
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        if nesting(payload) > MAX_DEPTH:
            raise ProtocolError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
        try:
            doc = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ProtocolError("not a JSON object")
    if doc.get("v") != VERSION:
        raise ProtocolError(f"unsupported version {doc.get('v')!r}")
    return doc


def nesting(payload: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count)."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return 0  # cannot nest deeper than it has brackets: the common case costs two counts
    depth = deepest = 0
    in_string = escaped = False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _event(raw: Any) -> UplinkEvent:
    if not isinstance(raw, dict):
        raise ProtocolError("event is not an object")
    seq, lane, ts, body = raw.get("seq"), raw.get("lane"), raw.get("ts"), raw.get("body")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise ProtocolError(f"bad seq {seq!r}")
    if lane not in LANES:
        raise ProtocolError(f"bad lane {lane!r}")
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        raise ProtocolError(f"bad ts {ts!r}")
    if not isinstance(body, dict):
        raise ProtocolError("body is not an object")
    mono = raw.get("mono")
    return UplinkEvent(seq, lane, float(ts), body, float(mono) if isinstance(mono, (int, float)) else None)


ALARM_MARK = b'"lane":"alarm"'


def carries_alarm(payload: bytes) -> bool:
    """Whether an encoded batch holds an alarm, without parsing it (so queues can let alarms overtake)."""
    # encode_batch writes compact separators, so an alarm event always contains this exact text;
    # a reading whose body happens to contain it only gets handled early, which is harmless.
    return ALARM_MARK in payload


def decode_batch(payload: bytes) -> UplinkBatch:
    """Parse an up-topic payload; raises ProtocolError with the reason."""
    doc = _load(payload)
    gw, boot, events = doc.get("gw"), doc.get("boot"), doc.get("events")
    if not isinstance(gw, str) or not gw:
        raise ProtocolError("missing gateway id")
    if not isinstance(boot, str):
        raise ProtocolError("missing boot id")
    if not isinstance(events, list):
        raise ProtocolError("events is not a list")
    sent, batch_id = doc.get("sent", 0.0), doc.get("id", "")
    if not isinstance(batch_id, str) or len(batch_id) > MAX_BATCH_ID:
        raise ProtocolError("bad batch id")
    return UplinkBatch(
        gw,
        boot,
        tuple(_event(e) for e in events),
        float(sent) if isinstance(sent, (int, float)) else 0.0,
        bool(doc.get("synced", True)),
        batch_id,
    )


def decode_event_list(payload: bytes) -> list[dict[str, Any]]:
    """The raw event objects of a batch, for dead-lettering the ones that fail individually."""
    doc = _load(payload)
    events = doc.get("events")
    return events if isinstance(events, list) else []


def encode_ack(ack: Ack) -> bytes:
    """Serialise an acknowledgement."""
    doc: dict[str, Any] = {"v": VERSION, "seqs": list(ack.seqs), "rejected": list(ack.rejected)}
    if ack.upto:
        doc["upto"] = ack.upto
    if ack.batch_id:
        doc["re"] = ack.batch_id
    return json.dumps(doc).encode()


def decode_ack(payload: bytes) -> Ack:
    """Parse an ack-topic payload."""
    doc = _load(payload)
    seqs, rejected = doc.get("seqs", []), doc.get("rejected", [])
    if not isinstance(seqs, list) or not all(isinstance(s, int) for s in seqs):
        raise ProtocolError("bad seqs")
    if not isinstance(rejected, list) or not all(isinstance(s, int) for s in rejected):
        raise ProtocolError("bad rejected")
    upto = doc.get("upto", 0)
    if not isinstance(upto, int) or isinstance(upto, bool) or upto < 0:
        raise ProtocolError("bad upto")
    batch_id = doc.get("re", "")
    if not isinstance(batch_id, str):
        raise ProtocolError("bad batch id")
    return Ack(tuple(seqs), tuple(rejected), upto, batch_id)


def encode_command(cmd: Command) -> bytes:
    """Serialise a downlink command."""
    return json.dumps({"v": VERSION, "cmd": cmd.cmd, **cmd.args}, ensure_ascii=False).encode()


def decode_command(payload: bytes) -> Command:
    """Parse a cmd-topic payload."""
    doc = _load(payload)
    name = doc.pop("cmd", None)
    doc.pop("v", None)
    if not isinstance(name, str) or not name:
        raise ProtocolError("missing cmd")
    return Command(name, doc)
