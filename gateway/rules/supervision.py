"""Device supervision: offline devices, low batteries and a dead zigbee bridge become technical alarms."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, Severity
from gateway.rules.engine import Input

# (alarm type, event that adds a device, event that removes it)
TRACKED = (
    ("device_offline", EventKind.DEVICE_OFFLINE, EventKind.DEVICE_ONLINE),
    ("battery_low", EventKind.BATTERY_LOW, EventKind.BATTERY_OK),
    ("bridge_offline", EventKind.BRIDGE_OFFLINE, EventKind.BRIDGE_ONLINE),
)
TAMPER_REPEAT_S = 6 * 3600  # zigbee2mqtt repeats `tamper: true` in every report; say it again only after this


@dataclass(frozen=True, slots=True)
class SupervisionState:
    """Devices currently in trouble, per alarm type."""

    offline: frozenset[str] = frozenset()
    battery_low: frozenset[str] = frozenset()
    bridge_offline: frozenset[str] = frozenset()
    tampered: Mapping[str, float] = field(default_factory=dict)  # device -> when last reported to staff


_FIELD = {"device_offline": "offline", "battery_low": "battery_low", "bridge_offline": "bridge_offline"}


@dataclass(frozen=True, slots=True)
class SupervisionRule:
    """One alarm per type lists every affected device; it clears when the last one recovers."""

    name: str = "supervision"

    def initial(self) -> SupervisionState:
        """All devices fine."""
        return SupervisionState()

    def evaluate(self, state: SupervisionState, item: Input,
                 now: datetime) -> tuple[SupervisionState, list[Alarm], list[Action]]:
        """Turn supervision events into raise / update / clear of technical alarms."""
        if not isinstance(item, DeviceEvent):
            return state, [], []
        if item.kind == EventKind.TAMPER:
            t = now.timestamp()
            if t - state.tampered.get(item.device, -TAMPER_REPEAT_S) < TAMPER_REPEAT_S:
                return state, [], []
            state = replace(state, tampered={**state.tampered, item.device: t})
            return state, [Alarm("tamper", Severity.TECHNICAL, f"{item.device} was opened or moved",
                                 item.device)], []
        for type_, bad, good in TRACKED:
            if item.kind not in (bad, good):
                continue
            before: frozenset[str] = getattr(state, _FIELD[type_])
            after = before | {item.device} if item.kind == bad else before - {item.device}
            if after == before:
                return state, [], []
            state = replace(state, **{_FIELD[type_]: after})
            detail = {"devices": sorted(after), "changed": item.device}
            if not after:
                return state, [Alarm(type_, Severity.TECHNICAL, f"{item.device} recovered", item.device,
                                     AlarmChange.CLEAR, detail)], []
            change = AlarmChange.RAISE if not before else AlarmChange.UPDATE
            return state, [Alarm(type_, Severity.TECHNICAL, f"{type_.replace('_', ' ')}: {', '.join(sorted(after))}",
                                 item.device, change, detail)], []
        return state, [], []

    def dump(self, state: SupervisionState) -> Any:
        """Devices in trouble survive a restart, so their recovery still clears the alarm."""
        return {**{name: sorted(getattr(state, name)) for name in _FIELD.values()}, "tampered": dict(state.tampered)}

    def load(self, data: Any) -> SupervisionState:
        """Back from dump()."""
        sets = {name: frozenset(map(str, data[name])) for name in _FIELD.values()}
        return SupervisionState(**sets, tampered={str(d): float(t) for d, t in data.get("tampered", {}).items()})
