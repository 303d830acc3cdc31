"""Night wandering: the front door opened at night and nobody back inside within N minutes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from anxin.rules_document import NightConfig
from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, Severity
from gateway.rules.common import in_window, local
from gateway.rules.engine import Input, Tick


@dataclass(frozen=True, slots=True)
class NightState:
    """An open night-door episode: when the door opened, last door movement, whether alarmed."""

    opened_at: float | None = None
    last_door: float = 0.0
    closed: bool = False
    door: str | None = None
    alarmed: bool = False


@dataclass(frozen=True, slots=True)
class NightRule:
    """Back inside = the door opens again after closing, or indoor motion `motion_grace_s` after it moved."""

    cfg: NightConfig
    tz: ZoneInfo
    name: str = "night"
    # What it reads (the engine shows it nothing else): doors and motion, and time passing.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "event"})

    def initial(self) -> NightState:
        """No episode."""
        return NightState()

    def _front(self, device: str) -> bool:
        return not self.cfg.doors or device in self.cfg.doors

    def evaluate(self, state: NightState, item: Input, now: datetime) -> tuple[NightState, list[Alarm], list[Action]]:
        """Follow the door at night; raise when nobody came back; clear on return."""
        t = now.timestamp()
        if isinstance(item, Tick):
            if state.opened_at is not None and not state.alarmed and t - state.opened_at >= self.cfg.return_min * 60:
                minutes = round((t - state.opened_at) / 60)
                alarm = Alarm(
                    "night_wandering",
                    Severity.URGENT,
                    f"Front door opened at night, nobody back after {minutes} min",
                    state.door,
                    detail={"opened_at": state.opened_at, "minutes": minutes},
                )
                return replace(state, alarmed=True), [alarm], []
            return state, [], []
        if not isinstance(item, DeviceEvent):
            return state, [], []
        door = item.kind in (EventKind.DOOR_OPEN, EventKind.DOOR_CLOSED) and self._front(item.device)
        if state.opened_at is None:
            night = in_window(local(now, self.tz).time(), self.cfg.start, self.cfg.end)
            if door and item.kind == EventKind.DOOR_OPEN and night:
                return NightState(t, t, False, item.device), [], []
            return state, [], []
        returned = (door and item.kind == EventKind.DOOR_OPEN and state.closed) or (
            item.kind == EventKind.MOTION and t - state.last_door >= self.cfg.motion_grace_s
        )
        if returned:
            if state.alarmed:
                return (
                    NightState(),
                    [Alarm("night_wandering", Severity.URGENT, "Back home", state.door, AlarmChange.CLEAR)],
                    [],
                )
            return NightState(), [], []
        if door:
            return replace(state, last_door=t, closed=item.kind == EventKind.DOOR_CLOSED), [], []
        return state, [], []

    def dump(self, state: NightState) -> Any:
        """An open night-door episode survives a restart."""
        return asdict(state)

    def load(self, data: Any) -> NightState:
        """Back from dump()."""
        return NightState(**data)
