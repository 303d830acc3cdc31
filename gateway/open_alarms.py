"""The alarms this gateway raised and still holds open: the only ones "help is coming" may be said for."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KEEP_S = 24 * 3600.0  # an alarm nobody closed is forgotten after a day (the server escalates long before)
MAX_NAME = 32
GENERIC_NAME = {"zh-CN": "工作人员", "en": "Our staff"}


@dataclass
class OpenAlarms:
    """Sequence numbers of raised (or updated) alarms by type, until the gateway cancels or clears that type."""

    by_type: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def record(self, body: dict[str, Any], seq: int, now: float) -> None:
        """An alarm event stored in the outbox as `seq`."""
        kind, change = str(body.get("type")), body.get("change", "raise")
        if change in ("cancel", "clear"):
            self.by_type.pop(kind, None)
        elif change in ("raise", "update"):
            # An update is a repeat of a type this gateway believes open; when the server had closed that
            # alarm meanwhile (staff resolved it), it opens a new one from the update's seq and acks that.
            kept = [(s, at) for s, at in self.by_type.get(kind, []) if now - at < KEEP_S]  # bounded: a day
            self.by_type[kind] = [*kept, (seq, now)]

    def holds(self, seq: object, kind: object, now: float) -> bool:
        """Whether the server's `alarm_acknowledged` names an alarm raised here and still open."""
        if not isinstance(seq, int) or isinstance(seq, bool):
            return False
        raised = self.by_type.get(str(kind), [])
        return any(s == seq and now - at < KEEP_S for s, at in raised)

    def dump(self) -> str:
        """For the outbox's meta table: the open alarms survive a restart."""
        return json.dumps(self.by_type)

    def load(self, raw: str | None, now: float) -> None:
        """Restore what `dump` wrote, dropping what is too old or unreadable."""
        try:
            doc = json.loads(raw) if raw else {}
            self.by_type = {
                str(k): [(int(s), float(at)) for s, at in v if now - float(at) < KEEP_S] for k, v in doc.items()
            }
        except (ValueError, TypeError, AttributeError):
            self.by_type = {}


def spoken_name(by: object, roster: list[str], language: str) -> str:
    """Who the home hears acknowledged: a name on the roster the server provisioned, else "our staff".

    The name travels in a command; whatever it says, only a name the installer put on this home's
    roster is spoken (never free text from the network).
    """
    name = by if isinstance(by, str) else ""
    if name and name in roster and len(name) <= MAX_NAME and name.isprintable():
        return name
    return GENERIC_NAME.get(language, GENERIC_NAME["en"])
