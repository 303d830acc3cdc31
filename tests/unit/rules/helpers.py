"""Drive one rule or the engine through a timeline with an injected clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.model import Action, Alarm, DeviceEvent, EventKind, Reading
from gateway.rules.engine import Input, Rule, Tick

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)  # a Monday morning in Beijing


def ev(kind: EventKind, device: str = "dev", **detail: Any) -> DeviceEvent:
    """A device event."""
    return DeviceEvent(device, kind, detail=detail)


def bp(systolic: float, diastolic: float, pulse: float = 70, flags: Iterable[str] = (), **detail: Any) -> Reading:
    """A blood-pressure reading."""
    return Reading(
        "bpm",
        "blood_pressure",
        {"systolic": systolic, "diastolic": diastolic, "pulse": pulse},
        flags=frozenset(flags),
        detail=detail,
    )


def climate(temp: float, device: str = "thermo") -> Reading:
    """A temperature reading."""
    return Reading(device, "climate", {"temperature": temp, "humidity": 50})


@dataclass
class Run:
    """One rule and its state, stepped by seconds since T0."""

    rule: Rule
    start: datetime = T0

    def __post_init__(self) -> None:
        self.state = self.rule.initial()
        self.alarms: list[tuple[float, Alarm]] = []
        self.actions: list[tuple[float, Action]] = []

    def at(self, seconds: float, item: Input) -> list[Alarm]:
        """Feed one input at T0 + seconds; returns the alarms it produced."""
        self.state, alarms, actions = self.rule.evaluate(self.state, item, self.start + timedelta(seconds=seconds))
        self.alarms += [(seconds, a) for a in alarms]
        self.actions += [(seconds, a) for a in actions]
        return alarms

    def ticks(self, start: float, stop: float, step: float = 1.0) -> list[Alarm]:
        """Ticks every `step` seconds in [start, stop]."""
        out: list[Alarm] = []
        t = start
        while t <= stop:
            out += self.at(t, Tick())
            t += step
        return out

    def said(self) -> list[str]:
        """Message keys spoken so far."""
        return [a.message_key for _t, a in self.actions if a.kind == "say"]
