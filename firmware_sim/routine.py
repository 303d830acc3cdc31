"""One resident's simulated week, as timed device messages: for rule tests and benchmarks."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.model import DeviceEvent, DeviceMessage, EventKind, Reading
from gateway.rules.engine import Engine, Input, Tick

TZ = ZoneInfo("Asia/Shanghai")
WEEK_START = datetime(2026, 3, 2, 0, 0, tzinfo=TZ)  # a Monday


def _ev(kind: EventKind, device: str) -> DeviceEvent:
    return DeviceEvent(device, kind)


def _bp(systolic: float, diastolic: float, pulse: float = 72) -> Reading:
    return Reading("bpm", "blood_pressure", {"systolic": systolic, "diastolic": diastolic, "pulse": pulse})


def _at(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine((WEEK_START + timedelta(days=day)).date(), time(hh, mm, ss), TZ)


def _motion(
    day: int, start: tuple[int, int], end: tuple[int, int], every_min: int = 15
) -> list[tuple[datetime, DeviceMessage]]:
    t, stop = _at(day, *start), _at(day, *end)
    out: list[tuple[datetime, DeviceMessage]] = []
    while t <= stop:
        out.append((t, _ev(EventKind.MOTION, "radar")))
        t += timedelta(minutes=every_min)
    return out


def ordinary_day(
    day: int,
    wake: tuple[int, int] = (6, 30),
    checkin: bool = True,
    bathroom: bool = True,
    nap_until: tuple[int, int] = (14, 30),
) -> list[tuple[datetime, DeviceMessage]]:
    """Up at 06:30, check-in at 08:00, out 09:30-11:00 (if up by then), nap 13:00-14:30, bed at 22:00."""
    out: list[tuple[datetime, DeviceMessage]] = []
    if bathroom:
        out += [(_at(day, 2, 30), _ev(EventKind.MOTION, "radar"))]
    out += _motion(day, wake, (9, 30))
    if checkin:
        out.append((_at(day, 8, 0), _ev(EventKind.CHECKIN, "button")))
    if wake < (7, 30):
        out.append((_at(day, 7, 30), _bp(128, 82)))
    out.append((_at(day, 19, 30), _bp(126, 80)))
    if wake < (9, 30):
        out += [
            (_at(day, 9, 31), _ev(EventKind.DOOR_OPEN, "front")),
            (_at(day, 9, 32), _ev(EventKind.DOOR_CLOSED, "front")),
            (_at(day, 11, 0), _ev(EventKind.DOOR_OPEN, "front")),
            (_at(day, 11, 1), _ev(EventKind.DOOR_CLOSED, "front")),
        ]
    else:
        out += _motion(day, wake, (11, 0))
    out += _motion(day, (11, 2), (13, 0)) + _motion(day, nap_until, (22, 0))
    out += [
        (_at(day, hh, mm), Reading("thermo", "climate", {"temperature": 21.5, "humidity": 45}))
        for hh in range(24)
        for mm in (0, 30)
    ]
    return out


def week() -> list[tuple[datetime, DeviceMessage]]:
    """Seven days with one notable thing on each day after Monday (see docs/rules.md, 'a simulated week')."""
    msgs: list[tuple[datetime, DeviceMessage]] = []
    msgs += ordinary_day(0)
    # Tuesday: a very high morning reading, repeated six minutes later and still very high.
    msgs += [m for m in ordinary_day(1) if not (isinstance(m[1], Reading) and m[0] == _at(1, 7, 30))]
    msgs += [(_at(1, 7, 30), _bp(186, 104)), (_at(1, 7, 36), _bp(184, 108))]
    # Wednesday: sleeps in until 10:30, no check-in press.
    msgs += ordinary_day(2, wake=(10, 30), checkin=False)
    # Thursday: the radar reports a fall at 15:00; she presses cancel after 12 s.
    msgs += [
        *ordinary_day(3),
        (_at(3, 15, 0), _ev(EventKind.FALL, "radar")),
        (_at(3, 15, 0, 12), _ev(EventKind.SOS_CANCEL, "button")),
    ]
    # Friday: a fall at 16:00 that nobody cancels; she moves on the floor at 16:05.
    msgs += [
        *ordinary_day(4),
        (_at(4, 16, 0), _ev(EventKind.FALL, "radar")),
        (_at(4, 16, 5), _ev(EventKind.MOTION, "radar")),
    ]
    # Saturday: out of the front door at 02:00, back at 02:40; then no movement 13:00-17:30.
    msgs += list(ordinary_day(5, bathroom=False, nap_until=(17, 30)))
    msgs += [
        (_at(5, 2, 0), _ev(EventKind.DOOR_OPEN, "front")),
        (_at(5, 2, 1), _ev(EventKind.DOOR_CLOSED, "front")),
        (_at(5, 2, 40), _ev(EventKind.DOOR_OPEN, "front")),
        (_at(5, 2, 41), _ev(EventKind.DOOR_CLOSED, "front")),
    ]
    # Sunday: the button's battery runs low at 09:00; the heating fails from 12:00 to 13:30.
    sunday = [m for m in ordinary_day(6) if not (m[1].device == "thermo" and _at(6, 12, 0) <= m[0] < _at(6, 13, 30))]
    msgs += [
        *sunday,
        (_at(6, 9, 0), _ev(EventKind.BATTERY_LOW, "button")),
        (_at(6, 12, 0), Reading("thermo", "climate", {"temperature": 9.0, "humidity": 50})),
        (_at(6, 12, 30), Reading("thermo", "climate", {"temperature": 8.5, "humidity": 50})),
        (_at(6, 13, 0), Reading("thermo", "climate", {"temperature": 9.5, "humidity": 50})),
    ]
    return sorted(msgs, key=lambda m: m[0])


def timeline(
    msgs: list[tuple[datetime, DeviceMessage]], tick_s: float = 10.0, days: int = 7
) -> Iterator[tuple[datetime, Input]]:
    """Messages interleaved with ticks every `tick_s`, as the worker would see them."""
    # In UTC, as the worker passes it; the rules convert to the home's time zone themselves.
    start = WEEK_START.astimezone(UTC)
    ticks = (start + timedelta(seconds=i * tick_s) for i in range(int(days * 86400 / tick_s)))
    keyed_msgs = ((t.astimezone(UTC), 0, i, m) for i, (t, m) in enumerate(msgs))
    keyed_ticks = ((t, 1, 0, Tick()) for t in ticks)
    for t, _order, _i, item in heapq.merge(keyed_msgs, keyed_ticks, key=lambda x: (x[0], x[1], x[2])):
        yield t, item


@dataclass
class WeekResult:
    """What the rules decided over the week."""

    alarms: list[tuple[datetime, str, str, str]]  # (when, type, change, severity)
    said: list[tuple[datetime, str]]
    evaluations: int


def run_week(engine: Engine, tick_s: float = 10.0) -> WeekResult:
    """Run the engine over the simulated week with the injected clock."""
    state, alarms, said, n = engine.initial(), [], [], 0
    for now, item in timeline(week(), tick_s):
        d = engine.evaluate(state, item, now)
        state, n = d.state, n + 1
        now = now.astimezone(TZ)
        alarms += [(now, a.type, a.change.value, a.severity.value) for a in d.alarms]
        said += [(now, a.message_key) for a in d.actions if a.kind == "say"]
    return WeekResult(alarms, said, n)
