"""SOS: a press raises an emergency alarm at once; a cancel inside the window retracts it (recorded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, LedState, Severity
from gateway.rules.common import CANCEL_KINDS, late_cancel
from gateway.rules.engine import Input


@dataclass(frozen=True, slots=True)
class SosRule:
    """Raise on SOS; retract on a cancel within `cancel_window_s`; later cancels are only recorded."""

    name: str = "sos"
    # What it reads (the engine shows it nothing else): presses and cancels.
    inputs: ClassVar[frozenset[str]] = frozenset({"event"})
    cancel_window_s: float = 60.0
    # An SOS is long handled after this: a cancel then is about something else (a fall prompt), not it.
    late_cancel_s: float = 3600.0

    def initial(self) -> Any:
        """Time of the last SOS press, if an SOS is open (epoch seconds)."""
        return None

    def evaluate(self, state: Any, item: Input, now: datetime) -> tuple[Any, list[Alarm], list[Action]]:
        """SOS press -> emergency alarm + spoken/LED confirmation; cancel -> retract or record."""
        if not isinstance(item, DeviceEvent):
            return state, [], []
        if item.kind == EventKind.SOS:
            alarm = Alarm("sos", Severity.EMERGENCY, "SOS button pressed", item.device, detail=dict(item.detail))
            actions = [Action("say", "sos_raised", item.device), Action("led", LedState.ALARM_SENT, item.device)]
            # Pressed again while the SOS is open: the same episode, and its cancel window still runs from
            # the first press (the alarm went out then; a later cancel must not retract it).
            open_since = state is not None and now.timestamp() - float(state) <= self.late_cancel_s
            return (float(state) if open_since else now.timestamp()), [alarm], actions
        if item.kind in CANCEL_KINDS and state is not None:
            if now.timestamp() - float(state) > self.late_cancel_s:
                return None, [], []  # the SOS is history: forget it
            if now.timestamp() - float(state) <= self.cancel_window_s:
                alarm = Alarm(
                    "sos", Severity.EMERGENCY, "SOS cancelled by the resident", item.device, AlarmChange.CANCEL
                )
                return (
                    None,
                    [alarm],
                    [Action("say", "sos_cancelled", item.device), Action("led", LedState.OFF, item.device)],
                )
            return (state, *late_cancel("sos", "Resident pressed cancel after the cancel window", item.device))
        return state, [], []

    def dump(self, state: Any) -> Any:
        """An open SOS survives a restart, so a late cancel is still recognised as late."""
        return state

    def load(self, data: Any) -> Any:
        """Back from dump()."""
        return None if data is None else float(data)
