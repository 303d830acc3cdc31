"""Daily check-in (平安键): no press and no activity by the deadline -> the caregiver is told."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from anxin.rules_document import CheckinConfig
from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, LedState, Severity
from gateway.rules.common import at, is_activity, local, returns_home
from gateway.rules.engine import Input, ModeChange, Tick


@dataclass(frozen=True, slots=True)
class CheckinState:
    """Local dates (ISO) of the last check-in and the last alert; when the rule started watching."""

    done: str | None = None
    alerted: str | None = None
    since: float | None = None
    away: bool = False
    away_since: float | None = None  # when away was set (None in states saved before it was kept)
    asked: str | None = None  # local date the home last asked aloud


@dataclass(frozen=True, slots=True)
class CheckinRule:
    """A press (or, if allowed, any activity) between `start` and `deadline` counts for the day."""

    cfg: CheckinConfig
    tz: ZoneInfo
    name: str = "checkin"
    # What it reads (the engine shows it nothing else): presses, activity (events, blood pressure), away, time.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "mode", "event", "reading:blood_pressure"})

    def initial(self) -> CheckinState:
        """Nothing seen yet."""
        return CheckinState()

    def evaluate(
        self, state: CheckinState, item: Input, now: datetime
    ) -> tuple[CheckinState, list[Alarm], list[Action]]:
        """Record check-ins; on time passing, alert once a day when none came."""
        lt = local(now, self.tz)
        today, t = lt.date().isoformat(), now.timestamp()
        since = t if state.since is None else state.since
        state = replace(state, since=since) if state.since is None else state
        if isinstance(item, ModeChange):
            return replace(state, away=item.away, away_since=t if item.away else None), [], []
        if isinstance(item, Tick):
            deadline = at(lt.date(), self.cfg.deadline, self.tz)
            ask = at(lt.date(), self.cfg.ask_time(), self.tz)
            if (
                self.cfg.ask_aloud
                and ask <= t < deadline
                and since <= ask
                and not state.away
                and state.done != today
                and state.asked != today
            ):
                return replace(state, asked=today), [], [Action("say", "checkin_ask"), Action("led", LedState.ASKING)]
            due = t >= deadline and since <= deadline and not state.away
            if due and state.done != today and state.alerted != today:
                alarm = Alarm(
                    "checkin_missed",
                    Severity.WARNING,
                    f"No check-in and no activity by {self.cfg.deadline:%H:%M}",
                    None,
                    detail={"day": today, "deadline": self.cfg.deadline.isoformat("minutes")},
                )
                return replace(state, alerted=today), [alarm], []
            return state, [], []
        if state.away and returns_home(item, state.away_since or 0.0, t):
            state = replace(state, away=False, away_since=None)  # home again, as the inactivity rule decides
        pressed = isinstance(item, DeviceEvent) and item.kind in (EventKind.CHECKIN, EventKind.FINE)
        counts = pressed or (self.cfg.count_activity and is_activity(item))
        if not counts or lt.time() < self.cfg.start:
            return state, [], []
        if state.done == today and not pressed:
            return state, [], []  # already counted: keep the same object, nothing to persist
        # The Pi's "I'm fine" button also cancels falls and stops reminders: it says thank you for the
        # check-in only when the home had asked (or already told the caregiver); otherwise it counts quietly.
        asked = (state.asked == today or state.alerted == today) and state.done != today
        thank = pressed and (asked or getattr(item, "kind", None) == EventKind.CHECKIN)
        actions = [Action("say", "checkin_thanks", item.device)] if thank else []
        if state.asked == today and state.done != today:
            actions.append(Action("led", LedState.OFF, getattr(item, "device", None)))  # the question is answered
        alarms: list[Alarm] = []
        if state.alerted == today and state.done != today:
            alarms.append(
                Alarm(
                    "checkin_missed",
                    Severity.WARNING,
                    "Checked in late",
                    getattr(item, "device", None),
                    AlarmChange.CLEAR,
                )
            )
        away = state.away and not pressed
        return replace(state, done=today, away=away, away_since=state.away_since if away else None), alarms, actions

    def dump(self, state: CheckinState) -> Any:
        """Today's check-in and alert survive a restart: no second alert, no forgotten one."""
        return asdict(state)

    def load(self, data: Any) -> CheckinState:
        """Back from dump(); raises ValueError/TypeError when the data does not fit."""
        if not isinstance(data, dict):
            raise ValueError(f"check-in state must be an object, got {data!r}")
        done, alerted, since, away_since, asked = (
            data.get(k) for k in ("done", "alerted", "since", "away_since", "asked")
        )
        return CheckinState(
            None if done is None else str(done),
            None if alerted is None else str(alerted),
            None if since is None else float(since),
            bool(data.get("away", False)),
            None if away_since is None else float(away_since),
            None if asked is None else str(asked),
        )
