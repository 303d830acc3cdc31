"""Storm damping: one open alarm per type; repeats become updates, merged when they come too fast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from gateway.model import Alarm, AlarmChange, Severity


@dataclass(frozen=True, slots=True)
class OpenAlarm:
    """What the gateway last sent for an alarm type it believes open."""

    severity: Severity
    last_sent: float
    merged: int = 0
    devices: tuple[str, ...] | None = None  # detail.devices last sent: a change is news, never merged


@dataclass(frozen=True, slots=True)
class StormDamper:
    """Never holds back an emergency, a rise in severity, a cancel, a clear, or a change of the devices affected."""

    min_interval_s: float = 60.0
    reopen_after_s: float = 3600.0

    def initial(self) -> Mapping[str, OpenAlarm]:
        """Nothing open."""
        return {}

    def filter(
        self, state: Mapping[str, OpenAlarm], alarms: Sequence[Alarm], now: datetime
    ) -> tuple[Mapping[str, OpenAlarm], list[Alarm]]:
        """The alarms to send now and the new open-alarm table."""
        table, out, t = dict(state), [], now.timestamp()
        for alarm in alarms:
            current = table.get(alarm.type)
            if alarm.change in (AlarmChange.CANCEL, AlarmChange.CLEAR):
                table.pop(alarm.type, None)
                out.append(alarm)
                continue
            devices = _devices(alarm)
            if current is None or t - current.last_sent >= self.reopen_after_s:
                table[alarm.type] = OpenAlarm(alarm.severity, t, devices=devices)
                out.append(alarm)
                continue
            repeat = replace(alarm, change=AlarmChange.UPDATE)
            rises = alarm.severity.rank < current.severity.rank
            news = devices is not None and devices != current.devices  # staff must know which devices
            if alarm.severity == Severity.EMERGENCY or rises or news or t - current.last_sent >= self.min_interval_s:
                if current.merged:
                    # Say how many repeats were folded into this one, so nothing is silently lost.
                    repeat = replace(repeat, detail={**dict(repeat.detail), "merged_repeats": current.merged})
                severity = alarm.severity if rises else current.severity
                table[alarm.type] = OpenAlarm(severity, t, devices=devices)
                out.append(repeat)
            else:
                table[alarm.type] = replace(current, merged=current.merged + 1)
        return table, out


def _devices(alarm: Alarm) -> tuple[str, ...] | None:
    listed = alarm.detail.get("devices")
    return tuple(map(str, listed)) if isinstance(listed, (list, tuple)) else None
