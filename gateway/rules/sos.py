"""SOS: a press raises an emergency alarm at once and tells the resident help is being called."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, Severity
from gateway.rules.engine import Input


@dataclass(frozen=True, slots=True)
class SosRule:
    """Raise on SOS; retract (recorded, never erased) on a cancel action."""

    name: str = "sos"

    def initial(self) -> Any:
        """Time of the open SOS, if any (epoch seconds)."""
        return None

    def evaluate(self, state: Any, item: Input, now: datetime) -> tuple[Any, list[Alarm], list[Action]]:
        """SOS press -> emergency alarm + spoken/LED confirmation."""
        if not isinstance(item, DeviceEvent):
            return state, [], []
        if item.kind == EventKind.SOS:
            alarm = Alarm("sos", Severity.EMERGENCY, "SOS button pressed", item.device, detail=dict(item.detail))
            actions = [Action("say", "sos_raised", item.device), Action("led", "sos_raised", item.device)]
            return now.timestamp(), [alarm], actions
        if item.kind == EventKind.SOS_CANCEL and state is not None:
            alarm = Alarm("sos", Severity.EMERGENCY, "SOS cancelled by the resident", item.device, AlarmChange.CANCEL)
            return None, [alarm], [Action("say", "sos_cancelled", item.device)]
        return state, [], []
