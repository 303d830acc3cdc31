"""Inactivity: no movement for longer than this home's learned normal for that time of day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from anxin.rules_document import InactivityConfig
from gateway.model import Action, Alarm, AlarmChange, Severity
from gateway.rules.common import in_window, is_activity, local, returns_home
from gateway.rules.engine import Input, ModeChange, Tick


@dataclass(frozen=True, slots=True)
class InactivityState:
    """Last activity, the learned history and the alarm status; history: slot -> {day: longest gap, min}."""

    last_activity: float | None = None
    first_day: str | None = None
    history: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    prewarned: bool = False
    alarmed: bool = False
    away_since: float | None = None
    slot_minutes: int | None = None  # the slot size `history` is bucketed by (None: from before it was kept)


@dataclass(frozen=True, slots=True)
class InactivityRule:
    """Per-slot threshold = longest normal gap (slot and neighbours) x (1 + ratio) + margin, clamped."""

    cfg: InactivityConfig
    tz: ZoneInfo
    name: str = "inactivity"
    # What it reads (the engine shows it nothing else): activity (events, blood pressure), away mode, time.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "mode", "event", "reading:blood_pressure"})

    def initial(self) -> InactivityState:
        """Nothing seen, nothing learned."""
        return InactivityState()

    def slot(self, t: float) -> int:
        """Time-of-day slot of an instant, in the home's time zone."""
        lt = datetime.fromtimestamp(t, self.tz)
        return (lt.hour * 60 + lt.minute) // self.cfg.slot_minutes

    def threshold_min(self, state: InactivityState, start: float, now: float) -> tuple[float, bool]:
        """Minutes of stillness allowed for a gap that started at `start`; and whether it is learned."""
        cfg, state = self.cfg, self.rebucket(state)
        today = datetime.fromtimestamp(now, self.tz).date()
        known = (today - date.fromisoformat(state.first_day)).days if state.first_day else 0
        slots = 24 * 60 // cfg.slot_minutes
        s = self.slot(start)
        gaps = [g for n in (s - 1, s, s + 1) for g in state.history.get(n % slots, {}).values()]
        if known >= cfg.learn_days and gaps:
            learned = max(gaps) * (1 + cfg.margin_ratio) + cfg.margin_min
            return min(max(learned, cfg.min_threshold_min), cfg.max_threshold_min), True
        night = in_window(datetime.fromtimestamp(start, self.tz).time(), cfg.night_start, cfg.night_end)
        return (cfg.default_night_min if night else cfg.default_day_min), False

    def rebucket(self, state: InactivityState) -> InactivityState:
        """History learned with another slot size (a pushed `slot_minutes`) moved to this one's slots.

        Each old slot's gaps go to every new slot it overlaps (per day the longest), so nothing learned
        is lost and no gap is filed under a time of day it did not start in."""
        old, new = state.slot_minutes, self.cfg.slot_minutes
        if old is None or old == new:
            return state if old == new else replace(state, slot_minutes=new)
        history: dict[int, dict[str, float]] = {}
        for slot, days in state.history.items():
            for target in range(slot * old // new, ((slot + 1) * old - 1) // new + 1):
                merged = history.setdefault(target, {})
                for day, gap in days.items():
                    merged[day] = max(gap, merged.get(day, 0.0))
        return replace(state, history=history, slot_minutes=new)

    def evaluate(
        self, state: InactivityState, item: Input, now: datetime
    ) -> tuple[InactivityState, list[Alarm], list[Action]]:
        """Learn from activity, warn then raise on long stillness, clear when the resident moves."""
        t = now.timestamp()
        state = self.rebucket(state)
        if isinstance(item, ModeChange):
            # Away or back, the stillness before no longer counts: an open alarm is cleared, so it can fire again.
            cleared = (
                [
                    Alarm(
                        "inactivity", Severity.URGENT, "Away mode changed", None, AlarmChange.CLEAR, {"away": item.away}
                    )
                ]
                if state.alarmed
                else []
            )
            if item.away:
                return replace(state, away_since=t, last_activity=None, prewarned=False, alarmed=False), cleared, []
            return replace(state, away_since=None, last_activity=t, prewarned=False, alarmed=False), cleared, []
        if isinstance(item, Tick):
            return self._tick(state, t)
        if not is_activity(item):
            return state, [], []
        if state.away_since is not None:
            if not returns_home(item, state.away_since, t):
                return state, [], []
            state = replace(state, away_since=None)
        return self._activity(state, t, now)

    def _activity(
        self, state: InactivityState, t: float, now: datetime
    ) -> tuple[InactivityState, list[Alarm], list[Action]]:
        day = local(now, self.tz).date()
        history = state.history
        if state.last_activity is not None and not state.alarmed and t > state.last_activity:
            # Only normal gaps teach the rule: one that ended in an alarm would raise the bar for the next.
            start = state.last_activity
            slot, start_day = self.slot(start), datetime.fromtimestamp(start, self.tz).date().isoformat()
            gap = (t - start) / 60
            cutoff = (day - timedelta(days=self.cfg.keep_days)).isoformat()
            days = {d: g for d, g in history.get(slot, {}).items() if d >= cutoff}
            if gap > days.get(start_day, 0.0):
                days[start_day] = round(gap, 2)
                history = {**history, slot: days}
        new = InactivityState(t, state.first_day or day.isoformat(), history, False, False, None, self.cfg.slot_minutes)
        if state.alarmed:
            return new, [Alarm("inactivity", Severity.URGENT, "Activity resumed", None, AlarmChange.CLEAR)], []
        return new, [], []

    def _tick(self, state: InactivityState, t: float) -> tuple[InactivityState, list[Alarm], list[Action]]:
        if state.last_activity is None or state.away_since is not None or state.alarmed:
            return state, [], []
        elapsed = (t - state.last_activity) / 60
        floor = min(self.cfg.min_threshold_min, self.cfg.default_day_min, self.cfg.default_night_min)
        if elapsed < floor - self.cfg.prewarn_min:
            return state, [], []  # no threshold can be this short: skip the per-slot lookup
        limit, learned = self.threshold_min(state, state.last_activity, t)
        if elapsed >= limit:
            alarm = Alarm(
                "inactivity",
                Severity.URGENT,
                f"No activity for {elapsed:.0f} min",
                None,
                detail={"minutes": round(elapsed), "threshold_min": round(limit), "learned": learned},
            )
            return replace(state, alarmed=True), [alarm], []
        if not state.prewarned and self.cfg.prewarn_min > 0 and elapsed >= limit - self.cfg.prewarn_min:
            return replace(state, prewarned=True), [], [Action("say", "inactivity_prewarn")]
        return state, [], []

    def dump(self, state: InactivityState) -> Any:
        """JSON-compatible form, kept by the worker across restarts."""
        return {
            "last_activity": state.last_activity,
            "first_day": state.first_day,
            "history": {str(k): dict(v) for k, v in state.history.items()},
            "prewarned": state.prewarned,
            "alarmed": state.alarmed,
            "away_since": state.away_since,
            "slot_minutes": state.slot_minutes,
        }

    def load(self, data: Any) -> InactivityState:
        """Back from dump(); raises ValueError/TypeError/KeyError when the data does not fit."""
        if not isinstance(data, dict):
            raise ValueError("inactivity state must be an object")
        history = {int(k): {str(d): float(g) for d, g in v.items()} for k, v in data["history"].items()}
        last, away, slot = data.get("last_activity"), data.get("away_since"), data.get("slot_minutes")
        return InactivityState(
            float(last) if last is not None else None,
            data.get("first_day"),
            history,
            bool(data.get("prewarned")),
            bool(data.get("alarmed")),
            float(away) if away is not None else None,
            int(slot) if slot is not None else None,
        )
