"""Device supervision, pure: (state, message | bridge change | tick, now) -> (state, technical events).

Tracks last-seen, battery and link quality per device. A device silent past its expected interval,
or with a low battery, yields one event; recovery yields the clearing event. Every such event carries
`detail.devices`, everything now in that trouble: supervision is the one owner of that state (the
supervision rule only turns it into alarms), and the gateway persists it across restarts. When a bridge a device
depends on (the local broker, zigbee2mqtt, a serial port) is down, one BRIDGE_OFFLINE stands for all
of them: their silence is explained and not reported device by device.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.config import DeviceConfig, GatewaySettings, SerialPortConfig
from gateway.model import DeviceEvent, DeviceMessage, EventKind, Reading

LOCAL_BROKER = "local-broker"
ZIGBEE2MQTT = "zigbee2mqtt-bridge"  # the device name zigbee2mqtt's bridge/state events carry
HOUR = 3600.0

# Expected reporting interval by (family, role); None: the device cannot be supervised (it only
# transmits when used). zigbee2mqtt's own rule for battery devices is 25 h.
DEFAULT_INTERVALS: dict[tuple[str, str | None], float | None] = {
    ("zigbee2mqtt", None): 25 * HOUR,
    ("zigbee2mqtt", "fall_radar"): 1 * HOUR,
    ("native", None): 300.0,  # native devices send a heartbeat a minute; five missed is silence
    ("rflink", None): None,  # 433 MHz pendants and contacts are one-way: no check-in to expect
    ("ble-bpm", None): None,  # a monitor only talks when someone measures
    ("ble-gatt", None): None,  # meters, oximeters, scales, thermometers: likewise
    **{("native", role): None for role in ("glucose_meter", "pulse_oximeter", "scale", "thermometer")},
}
# Events that describe device health: supervision owns them and re-emits transitions only.
ABSORBED = frozenset(
    {
        EventKind.BATTERY_LOW,
        EventKind.DEVICE_ONLINE,
        EventKind.DEVICE_OFFLINE,
        EventKind.BRIDGE_ONLINE,
        EventKind.BRIDGE_OFFLINE,
        EventKind.HEARTBEAT,
        EventKind.UNKNOWN_DEVICE,
        EventKind.UNKNOWN_KEYS,
    }
)


def serial_bridge(port: str) -> str:
    """The bridge name of a serial port."""
    return f"serial:{port}"


@dataclass(frozen=True, slots=True)
class Watch:
    """What supervision knows about one configured device."""

    name: str
    bridges: tuple[str, ...]
    interval_s: float | None


@dataclass(frozen=True, slots=True)
class SupervisionState:
    """Everything supervision remembers; replaced, never mutated."""

    last_seen: Mapping[str, float] = field(default_factory=dict)
    offline: frozenset[str] = frozenset()
    battery_low: frozenset[str] = frozenset()
    status: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    bridges_down: frozenset[str] = frozenset()
    bridges_pending: Mapping[str, float] = field(default_factory=dict)  # not yet up since start, since when
    unknown_reported: Mapping[str, float] = field(default_factory=dict)

    def seen(self, last_seen: Mapping[str, float], status: Mapping[str, Mapping[str, float]]) -> SupervisionState:
        """This state with new last-seen times and device status (what every report changes): built
        directly, as dataclasses.replace() costs several times more."""
        return SupervisionState(
            last_seen,
            self.offline,
            self.battery_low,
            status,
            self.bridges_down,
            self.bridges_pending,
            self.unknown_reported,
        )


Result = tuple[SupervisionState, list[DeviceEvent]]
PERSISTED = ("offline", "battery_low", "bridges_down")


def interval_for(device: DeviceConfig) -> float | None:
    """The configured interval (0 disables), else the family/role default."""
    if device.report_interval_s is not None:
        return device.report_interval_s or None
    key = (device.family, device.role)
    return DEFAULT_INTERVALS[key] if key in DEFAULT_INTERVALS else DEFAULT_INTERVALS.get((device.family, None))


def _bridges(device: DeviceConfig, ports: Iterable[SerialPortConfig]) -> tuple[str, ...]:
    if device.family == "zigbee2mqtt":
        return (LOCAL_BROKER, ZIGBEE2MQTT)
    if device.family == "native":
        return (LOCAL_BROKER,)
    own = [p for p in ports if p.device == device.name or (p.family == device.family == "rflink" and not p.device)]
    return tuple(serial_bridge(p.port) for p in own)


class Supervisor:
    """The supervision rules for one home; holds configuration only, never state or a clock."""

    def __init__(
        self,
        devices: Iterable[DeviceConfig],
        ports: Iterable[SerialPortConfig] = (),
        battery_low_pct: float = 20.0,
        battery_ok_pct: float = 30.0,
        unknown_every_s: float = HOUR,
        bridge_grace_s: float = 60.0,
    ) -> None:
        ports = list(ports)
        self.watches = {d.name: Watch(d.name, _bridges(d, ports), interval_for(d)) for d in devices}
        # Bridges the gateway itself connects to: one that never comes up after start is down too.
        self.own_bridges = (LOCAL_BROKER, *(serial_bridge(p.port) for p in ports if p.family != "gsm"))
        self.bridge_grace_s = bridge_grace_s
        self.battery_low_pct = battery_low_pct
        self.battery_ok_pct = battery_ok_pct  # hysteresis: a battery hovering at the limit is one event
        self.unknown_every_s = unknown_every_s

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Supervisor:
        """Supervision for the devices and serial ports a gateway is configured with."""
        return cls(settings.devices, settings.serial)

    def absorbs(self, msg: DeviceMessage) -> bool:
        """True for health messages supervision turns into transitions (not forwarded as they come)."""
        return isinstance(msg, DeviceEvent) and msg.kind in ABSORBED

    def initial(self, now: float) -> SupervisionState:
        """At start every device gets a full interval to report, every bridge a grace period to come up."""
        return SupervisionState(
            last_seen=dict.fromkeys(self.watches, now), bridges_pending=dict.fromkeys(self.own_bridges, now)
        )

    def dump(self, state: SupervisionState) -> dict[str, list[str]]:
        """What must survive a restart: who is in trouble, so a recovery after it still clears the alarm."""
        return {key: sorted(getattr(state, key)) for key in PERSISTED}

    def restore(self, state: SupervisionState, data: Any) -> Result:
        """`state` with dump()'s output laid over it; devices and bridges no longer configured recover.

        Raises ValueError when the data does not fit."""
        if not isinstance(data, Mapping) or not all(
            isinstance(data.get(k, []), list) and all(isinstance(n, str) for n in data.get(k, [])) for k in PERSISTED
        ):
            raise ValueError(f"supervision state must map {PERSISTED} to lists of names, got {data!r}")
        known_bridges = {*self.own_bridges, ZIGBEE2MQTT}
        offline, battery, bridges = (frozenset(data.get(k, [])) for k in PERSISTED)
        state = replace(
            state,
            offline=offline & self.watches.keys(),
            battery_low=battery & self.watches.keys(),
            bridges_down=bridges & known_bridges,
        )
        events: list[DeviceEvent] = []
        for before, after, kind in (
            (offline, state.offline, EventKind.DEVICE_ONLINE),
            (battery, state.battery_low, EventKind.BATTERY_OK),
            (bridges, state.bridges_down, EventKind.BRIDGE_ONLINE),
        ):
            left = set(before)
            for name in sorted(before - after):  # one recovery each, as if they had reported
                left.discard(name)
                events.append(
                    DeviceEvent(name, kind, detail={"reason": "no longer configured", "devices": sorted(left)})
                )
        return state, events

    def observe(self, state: SupervisionState, msg: DeviceMessage, now: float) -> Result:
        """A message arrived from a device."""
        if isinstance(msg, DeviceEvent):
            if msg.kind in (EventKind.BRIDGE_ONLINE, EventKind.BRIDGE_OFFLINE):
                return self.bridge(state, ZIGBEE2MQTT, msg.kind == EventKind.BRIDGE_ONLINE, now)
            if msg.kind == EventKind.UNKNOWN_DEVICE:
                return self._unknown(state, msg, now)
        name = msg.device
        if name not in self.watches:
            return state, []
        events: list[DeviceEvent] = []
        if isinstance(msg, DeviceEvent) and msg.kind == EventKind.DEVICE_OFFLINE:
            if self._explained(state, name):
                # The bridge's outage explains it and was reported once; marking the device offline
                # here would make its next report announce a recovery nobody was told needed one.
                return state, events
            if name not in state.offline:
                events.append(
                    DeviceEvent(
                        name,
                        EventKind.DEVICE_OFFLINE,
                        detail={"reason": "availability", "devices": sorted(state.offline | {name})},
                    )
                )
            return replace(state, offline=state.offline | {name}), events
        # One new state for what every report changes (a hot path: thousands of reports a second in a burst).
        status = state.status
        if isinstance(msg, Reading) and msg.metric == "device_status":
            status = {**status, name: {**status.get(name, {}), **msg.values}}
        state = state.seen({**state.last_seen, name: now}, status)
        if name in state.offline:
            state = replace(state, offline=state.offline - {name})
            events.append(
                DeviceEvent(
                    name, EventKind.DEVICE_ONLINE, detail={"reason": "reported again", "devices": sorted(state.offline)}
                )
            )
        if isinstance(msg, DeviceEvent) and msg.kind == EventKind.BATTERY_LOW:
            state, more = self._battery(state, name, True, {})
            events += more
        if isinstance(msg, Reading) and msg.metric == "device_status":
            battery, flag = msg.values.get("battery"), msg.values.get("battery_low")
            reported = flag is not None or battery is not None
            if flag == 1.0 or (battery is not None and battery < self.battery_low_pct):
                state, more = self._battery(state, name, True, msg.values)
                events += more
            elif reported and flag != 1.0 and (battery is None or battery >= self.battery_ok_pct):
                state, more = self._battery(state, name, False, msg.values)
                events += more
        return state, events

    def bridge(self, state: SupervisionState, bridge: str, up: bool, now: float) -> Result:
        """A bridge (local broker, zigbee2mqtt, serial port) went down or came back."""
        if bridge in state.bridges_pending:
            state = replace(state, bridges_pending={b: t for b, t in state.bridges_pending.items() if b != bridge})
        if not up:
            if bridge in state.bridges_down:
                return state, []
            down = state.bridges_down | {bridge}
            return (
                replace(state, bridges_down=down),
                [DeviceEvent(bridge, EventKind.BRIDGE_OFFLINE, detail={"devices": sorted(down)})],
            )
        if bridge not in state.bridges_down:
            return state, []
        # Devices behind the bridge get a fresh interval: their silence was the bridge's.
        behind = {n: now for n, w in self.watches.items() if bridge in w.bridges}
        down = state.bridges_down - {bridge}
        return (
            replace(state, bridges_down=down, last_seen={**state.last_seen, **behind}),
            [DeviceEvent(bridge, EventKind.BRIDGE_ONLINE, detail={"devices": sorted(down)})],
        )

    def tick(self, state: SupervisionState, now: float) -> Result:
        """Time passed: devices silent past their interval go offline (unless a bridge explains it)."""
        events: list[DeviceEvent] = []
        for bridge, since in state.bridges_pending.items():
            if now - since > self.bridge_grace_s:  # never came up since start: as good as down
                state, more = self.bridge(state, bridge, False, now)
                events += more
        newly: set[str] = set()
        for name, w in self.watches.items():
            if w.interval_s is None or name in state.offline or self._explained(state, name):
                continue
            silent = now - state.last_seen.get(name, now)
            if silent > w.interval_s:
                newly.add(name)
                events.append(
                    DeviceEvent(
                        name,
                        EventKind.DEVICE_OFFLINE,
                        detail={
                            "reason": "silent",
                            "silent_s": round(silent),
                            "interval_s": w.interval_s,
                            "devices": sorted(state.offline | newly),
                        },
                    )
                )
        return (replace(state, offline=state.offline | newly) if newly else state), events

    def _explained(self, state: SupervisionState, name: str) -> bool:
        return any(b in state.bridges_down for b in self.watches[name].bridges)

    def _battery(self, state: SupervisionState, name: str, low: bool, values: Mapping[str, float]) -> Result:
        if low == (name in state.battery_low):
            return state, []
        detail: dict[str, object] = {"battery": values["battery"]} if "battery" in values else {}
        after = state.battery_low | {name} if low else state.battery_low - {name}
        kind = EventKind.BATTERY_LOW if low else EventKind.BATTERY_OK
        return replace(state, battery_low=after), [DeviceEvent(name, kind, detail={**detail, "devices": sorted(after)})]

    def _unknown(self, state: SupervisionState, msg: DeviceEvent, now: float) -> Result:
        if msg.device in self.watches:
            return state, []  # e.g. zigbee2mqtt announcing a re-join of a device we know
        last = state.unknown_reported.get(msg.device)
        if last is not None and now - last < self.unknown_every_s:
            return state, []
        reported = {k: t for k, t in state.unknown_reported.items() if now - t < self.unknown_every_s}
        return replace(state, unknown_reported={**reported, msg.device: now}), [msg]
