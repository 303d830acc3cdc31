"""What an uplink event carries, by lane — alarm, reading, event, gap — with one encode and one decode each.

A body travels inside a batch and is versioned with it (`"v": 1`, docs/protocol.md): a new optional key
keeps version 1, so decoding ignores keys it does not know. Decoding refuses only what the server has
always refused — an alarm without a type, a reading without a metric or with values that are not finite
numbers, a gap whose ranges are not pairs of sequence numbers — and reads any other field of the wrong
JSON type as text, because an alarm must never be lost for its text. The checks that need the server's
knowledge (column sizes, PostgreSQL's JSON) stay in `server/ingest_checks.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from anxin.protocol.envelope import ProtocolError

_EMPTY: Mapping[str, Any] = {}


def _words(raw: object) -> str | None:
    """A free-text field (severity, message): a string as it is, null or another falsy value as None, else its text."""
    if isinstance(raw, str):
        return raw
    return str(raw) if raw else None


def _name(raw: object) -> str | None:
    """A name field (device, resident): null as None, a string as it is, anything else as its text."""
    return raw if raw is None or isinstance(raw, str) else str(raw)


def _detail(raw: object) -> Mapping[str, Any]:
    """A `detail` object; null is empty, anything else that is not an object is kept under "value"."""
    if raw is None:
        return _EMPTY
    return raw if isinstance(raw, dict) else {"value": raw}


@dataclass(frozen=True, slots=True)
class AlarmBody:
    """An alarm raised, repeated, cancelled or cleared at home; `sms` when the gateway already texted caregivers."""

    lane: ClassVar[str] = "alarm"
    type: str
    severity: str | None = None  # emergency, urgent, warning, technical, info
    change: str = "raise"  # raise, update, cancel, clear (anything else is read as a raise, never refused)
    device: str | None = None
    message: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    resident: str | None = None
    sms: Mapping[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The body as the gateway sends it."""
        out: dict[str, Any] = {
            "type": self.type,
            "severity": self.severity,
            "change": self.change,
            "device": self.device,
            "message": self.message,
            "detail": dict(self.detail),
            "resident": self.resident,
        }
        if self.sms is not None:
            out["sms"] = dict(self.sms)
        return out

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> AlarmBody:
        """Read an alarm body; refused (ProtocolError) only without a type."""
        type_ = raw.get("type")
        if not isinstance(type_, str):
            raise ProtocolError("alarm without a type")
        change = raw.get("change", "raise")
        sms = raw.get("sms")
        return cls(
            type_,
            _words(raw.get("severity")),
            change if isinstance(change, str) else str(change),
            _name(raw.get("device")),
            _words(raw.get("message")),
            _detail(raw.get("detail")),
            _name(raw.get("resident")),
            sms if isinstance(sms, dict) and sms else None,
        )


@dataclass(slots=True)  # not frozen: that costs 0.5 µs more per reading at ~20k/s (docs/decisions.md); never changed
class ReadingBody:
    """A measurement: numeric `values` of one `metric`; `measured_at` (ISO 8601) when the device kept the time."""

    lane: ClassVar[str] = "reading"
    device: str
    metric: str
    values: Mapping[str, float]
    flags: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)
    measured_at: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The body as the gateway sends it."""
        return {
            "device": self.device,
            "metric": self.metric,
            "values": dict(self.values),
            "flags": list(self.flags),
            "detail": dict(self.detail),
            "measured_at": self.measured_at,
        }

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> ReadingBody:
        """Read a reading body; refused without a metric, or with values that are not finite numbers."""
        metric, values = raw.get("metric"), raw.get("values")
        if not isinstance(metric, str) or not isinstance(values, dict):
            raise ProtocolError("reading without metric or values")
        for v in values.values():  # the hot path (~20k readings/s): a plain loop, no generator
            if v.__class__ is bool or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ProtocolError("reading with non-numeric values")
        device, flags, measured = raw.get("device", ""), raw.get("flags"), raw.get("measured_at")
        if flags:  # a flag that is not a string (NaN included) is kept as its text
            flags = tuple(f if isinstance(f, str) else str(f) for f in (flags if isinstance(flags, list) else [flags]))
        detail = raw.get("detail")
        return cls(
            device if isinstance(device, str) else str(device),
            metric,
            values,
            flags or (),
            detail if isinstance(detail, dict) else _EMPTY,
            measured if isinstance(measured, str) else None,
        )


@dataclass(frozen=True, slots=True)
class EventBody:
    """A device or gateway event (`kind`: motion, config_applied, unknown_keys, service_press …)."""

    lane: ClassVar[str] = "event"
    device: str | None
    kind: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The body as the gateway sends it."""
        return {"device": self.device, "kind": self.kind, "detail": dict(self.detail)}

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> EventBody:
        """Read an event body (never refused: an event the server does not know is stored and ignored)."""
        kind = raw.get("kind")
        return cls(
            _name(raw.get("device")),
            kind if kind is None or isinstance(kind, str) else str(kind),
            _detail(raw.get("detail")),
        )


@dataclass(frozen=True, slots=True)
class GapBody:
    """Sequence numbers the gateway will never send (`disk_cap` thinning, `unclean_restart`, `store_failed`), inclusive ranges."""

    lane: ClassVar[str] = "gap"
    reason: str | None
    ranges: tuple[tuple[int, int], ...]
    count: int | None = None
    first_ts: float | None = None  # disk_cap: the period of the readings thinned
    last_ts: float | None = None
    note: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The body as the gateway sends it (optional keys only when set)."""
        out: dict[str, Any] = {"reason": self.reason, "ranges": [[a, b] for a, b in self.ranges], "count": self.count}
        for key, value in (("first_ts", self.first_ts), ("last_ts", self.last_ts), ("note", self.note)):
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> GapBody:
        """Read a gap record; refused when its ranges are not pairs of sequence numbers."""
        ranges = raw.get("ranges", [])
        if not isinstance(ranges, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in r)
            for r in ranges
        ):
            raise ProtocolError("gap record whose ranges are not pairs of sequence numbers")
        count, first, last = raw.get("count"), raw.get("first_ts"), raw.get("last_ts")
        return cls(
            _words(raw.get("reason")),
            tuple((r[0], r[1]) for r in ranges),
            count if isinstance(count, int) and not isinstance(count, bool) else None,
            _number(first),
            _number(last),
            _words(raw.get("note")),
        )


def _number(raw: object) -> float | None:
    return float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None


Body = AlarmBody | ReadingBody | EventBody | GapBody

_DECODERS: dict[str, Callable[[Mapping[str, Any]], Body]] = {
    "alarm": AlarmBody.from_wire,
    "reading": ReadingBody.from_wire,
    "event": EventBody.from_wire,
    "gap": GapBody.from_wire,
}


def decode_body(lane: str, raw: Mapping[str, Any]) -> Body:
    """The typed body of an event of `lane`; ProtocolError with the reason the server dead-letters it under."""
    decode = _DECODERS.get(lane)
    if decode is None:
        raise ProtocolError(f"bad lane {lane!r}")
    return decode(raw)
