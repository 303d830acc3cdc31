"""Falls: a spoken pre-alarm, an emergency unless cancelled in time, watches, and the long lie."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, Literal, get_args

from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, LedState, Severity
from gateway.rules.common import CANCEL_KINDS, late_cancel
from gateway.rules.engine import Input, Tick

Phase = Literal["idle", "pre", "watch", "alarmed"]
PHASES: tuple[Phase, ...] = get_args(Phase)
WATCH_KINDS = (EventKind.MAYBE_FALL, EventKind.LOW_POSTURE)


@dataclass(frozen=True, slots=True)
class FallState:
    """Where the current fall episode is; times are epoch seconds."""

    phase: Phase = "idle"
    since: float = 0.0
    device: str | None = None
    source: str | None = None
    moved: bool = False
    repeated_at: float = 0.0  # last "fell again" update while alarmed, to say it once per window


@dataclass(frozen=True, slots=True)
class FallRule:
    """Fall -> prompt -> emergency after `cancel_window_s`; maybe-fall -> watch -> urgent if no movement."""

    name: str = "fall"
    # What it reads (the engine shows it nothing else): falls, motion, presses, and time passing.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "event"})
    cancel_window_s: float = 30.0
    watch_window_s: float = 120.0
    long_lie_s: float = 1200.0

    def initial(self) -> FallState:
        """No episode."""
        return FallState()

    def evaluate(self, state: FallState, item: Input, now: datetime) -> tuple[FallState, list[Alarm], list[Action]]:
        """Advance the episode on a device event or on time passing."""
        t = now.timestamp()
        if isinstance(item, Tick):
            return self._timers(state, t)
        if not isinstance(item, DeviceEvent):
            return state, [], []
        kind = item.kind
        if kind == EventKind.FALL and state.phase == "alarmed" and not state.moved:
            return self._fell_again(state, item, t)
        # Alarmed and moved: the resident got up and fell again, a new episode with its own prompt.
        if kind == EventKind.FALL and state.phase in ("idle", "watch", "alarmed"):
            source = str(item.detail.get("source") or "device")
            prompt = [Action("say", "fall_prompt", item.device), Action("led", LedState.ASKING, item.device)]
            return FallState("pre", t, item.device, source), [], prompt
        if kind in WATCH_KINDS and state.phase == "idle":
            return FallState("watch", t, item.device, kind.value), [], []
        if state.phase == "pre" and kind in CANCEL_KINDS:
            return (
                FallState(),
                [],
                [Action("say", "fall_cancelled", item.device), Action("led", LedState.OFF, item.device)],
            )
        if state.phase == "pre" and kind == EventKind.SOS:
            return self._raise(state, Severity.EMERGENCY, "Fall confirmed by an SOS press", "sos_press")
        if state.phase == "alarmed" and kind in CANCEL_KINDS:
            return (state, *late_cancel("fall", "Resident pressed cancel after the fall alarm", item.device))
        if kind == EventKind.MOTION:
            if state.phase == "watch":
                return FallState(), [], []  # movement followed: the watch ends quietly
            if state.phase == "alarmed":
                return replace(state, moved=True), [], []
        return state, [], []

    def retire(self, state: FallState, now: datetime) -> list[Alarm]:
        """Switched off by a push: a fall still in its window (or watch) is raised now, not forgotten."""
        if state.phase not in ("pre", "watch"):
            return []
        severity = Severity.EMERGENCY if state.phase == "pre" else Severity.URGENT
        _state, alarms, _actions = self._raise(
            state, severity, "Fall pending when fall detection was switched off", "rule_disabled"
        )
        return alarms

    def dump(self, state: FallState) -> Any:
        """A fall episode survives a restart: a window that ran out while down raises at the first tick."""
        return asdict(state)

    def load(self, data: Any) -> FallState:
        """Back from dump(); raises TypeError/ValueError when it does not fit."""
        if not isinstance(data, dict):
            raise ValueError(f"fall state must be an object, got {data!r}")
        device, source, phase = data.get("device"), data.get("source"), str(data["phase"])
        if phase not in PHASES:
            raise ValueError(f"unknown fall phase {phase!r}")
        return FallState(
            phase,
            float(data["since"]),
            None if device is None else str(device),
            None if source is None else str(source),
            bool(data.get("moved", False)),
            float(data.get("repeated_at", 0.0)),
        )

    def _fell_again(self, state: FallState, item: DeviceEvent, t: float) -> tuple[FallState, list[Alarm], list[Action]]:
        # Still down (no movement seen): the same episode, but staff hear of it, once per cancel window.
        if 0 <= t - state.repeated_at < self.cancel_window_s:
            return state, [], []
        alarm = Alarm(
            "fall",
            Severity.EMERGENCY,
            "Fall detected again while the resident is down",
            item.device,
            AlarmChange.UPDATE,
            {"repeat": True, "source": str(item.detail.get("source") or "device")},
        )
        return replace(state, repeated_at=t), [alarm], [Action("say", "fall_alarm", item.device)]

    def _timers(self, state: FallState, t: float) -> tuple[FallState, list[Alarm], list[Action]]:
        # A clock set back past the episode's start by more than the window (a power cut, no NTP yet)
        # cannot tell how long the window ran: raise rather than wait for it to catch up. A small step
        # back only lengthens the window by that step.
        if state.phase == "pre" and abs(t - state.since) >= self.cancel_window_s:
            return self._raise(state, Severity.EMERGENCY, "Fall detected and not cancelled", "no_cancel")
        if state.phase == "watch" and abs(t - state.since) >= self.watch_window_s:
            return self._raise(state, Severity.URGENT, "Possible fall: no movement afterwards", "no_movement")
        if state.phase == "alarmed" and t - state.since >= self.long_lie_s:
            if state.moved:
                return FallState(), [], []
            minutes = round((t - state.since) / 60)
            alarm = Alarm(
                "fall",
                Severity.EMERGENCY,
                f"Long lie: no movement for {minutes} min after the fall",
                state.device,
                detail={"long_lie": True, "minutes": minutes, "source": state.source},
            )
            return FallState(), [alarm], []
        return state, [], []

    def _raise(
        self, state: FallState, severity: Severity, message: str, reason: str
    ) -> tuple[FallState, list[Alarm], list[Action]]:
        alarm = Alarm(
            "fall",
            severity,
            message,
            state.device,
            detail={"source": state.source, "reason": reason, "fell_at": state.since},
        )
        actions = [Action("say", "fall_alarm", state.device), Action("led", LedState.ALARM_SENT, state.device)]
        return FallState("alarmed", state.since, state.device, state.source), [alarm], actions
