"""Device supervision: offline devices, low batteries and a dead zigbee bridge become technical alarms.

Which devices are in trouble is owned by `gateway.supervision.Supervisor` (persisted by the gateway):
each of its events carries `detail.devices`, everything now in that trouble. This rule only turns
those transitions into raise / update / clear, so the two can never disagree after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

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
class TamperMemory:
    """When each device's tamper was last reported to staff (the rest of supervision is not this rule's)."""

    tampered: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SupervisionRule:
    """One alarm per type lists every affected device; it clears when the last one recovers."""

    name: str = "supervision"
    # What it reads (the engine shows it nothing else): supervision's events.
    inputs: ClassVar[frozenset[str]] = frozenset({"event"})

    def initial(self) -> TamperMemory:
        """No tamper reported yet."""
        return TamperMemory()

    def evaluate(
        self, state: TamperMemory, item: Input, now: datetime
    ) -> tuple[TamperMemory, list[Alarm], list[Action]]:
        """Turn supervision events into raise / update / clear of technical alarms."""
        if not isinstance(item, DeviceEvent):
            return state, [], []
        if item.kind == EventKind.TAMPER:
            t = now.timestamp()
            if t - state.tampered.get(item.device, -TAMPER_REPEAT_S) < TAMPER_REPEAT_S:
                return state, [], []
            state = replace(state, tampered={**state.tampered, item.device: t})
            return (
                state,
                [
                    Alarm(
                        "tamper",
                        Severity.TECHNICAL,
                        f"{item.device} was opened or moved",
                        item.device,
                        detail={"devices": [item.device]},
                    )
                ],
                [],
            )
        for type_, bad, good in TRACKED:
            if item.kind not in (bad, good):
                continue
            # Supervision says who is in trouble now; an event without the list speaks for its device only.
            listed = item.detail.get("devices")
            after = (
                frozenset(map(str, listed))
                if isinstance(listed, (list, tuple))
                else (frozenset({item.device}) if item.kind == bad else frozenset())
            )
            after = after | {item.device} if item.kind == bad else after - {item.device}
            before = after - {item.device} if item.kind == bad else after | {item.device}
            detail = {"devices": sorted(after), "changed": item.device}
            if not after:
                return (
                    state,
                    [
                        Alarm(
                            type_,
                            Severity.TECHNICAL,
                            f"{item.device} recovered",
                            item.device,
                            AlarmChange.CLEAR,
                            detail,
                        )
                    ],
                    [],
                )
            change = AlarmChange.RAISE if not before else AlarmChange.UPDATE
            return (
                state,
                [
                    Alarm(
                        type_,
                        Severity.TECHNICAL,
                        f"{type_.replace('_', ' ')}: {', '.join(sorted(after))}",
                        item.device,
                        change,
                        detail,
                    )
                ],
                [],
            )
        return state, [], []

    def dump(self, state: TamperMemory) -> Any:
        """A tamper reported survives a restart, so a stuck flag is not reported again at once."""
        return {"tampered": dict(state.tampered)}

    def load(self, data: Any) -> TamperMemory:
        """Back from dump() (older snapshots also listed devices in trouble: supervision owns those now)."""
        tampered = data.get("tampered", {}) if isinstance(data, dict) else None
        if not isinstance(tampered, dict):
            raise ValueError(f"supervision rule state must hold a tampered map, got {data!r}")
        return TamperMemory({str(d): float(t) for d, t in tampered.items()})
