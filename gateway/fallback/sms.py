"""SMS to the paired caregivers when the server has not acknowledged an alarm in time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from anxin.loop import Loop
from gateway.config import SmsConfig
from gateway.errors import ModemError, OutboxError
from gateway.fallback.modem import GsmModem
from gateway.outbox import Outbox
from gateway.outbox_db import Entry

log = logging.getLogger(__name__)

ModemFactory = Callable[[], AbstractContextManager[GsmModem]]

TITLES = {
    "zh-CN": {"sos": "紧急求助", "fall": "疑似跌倒", "inactivity": "长时间无活动", "bp_crisis": "血压危急"},
    "en": {"sos": "SOS", "fall": "possible fall", "inactivity": "no activity", "bp_crisis": "blood-pressure crisis"},
}
TEMPLATES = {
    "zh-CN": "【安心】{title}：{who}（设备 {device}，{time}）。平台暂时未能确认收到此警报，请立即联系老人或拨打120。",
    "en": "[Anxin] {title}: {who} (device {device}, {time}). The care centre has not confirmed this alarm; "
    "please contact the resident now or call emergency services.",
}


def sms_text(body: dict[str, Any], ts: float, label: str, language: str, tz: str) -> str:
    """The message a caregiver reads: what, who, where, when, and what to do."""
    lang = language if language in TEMPLATES else "zh-CN"
    type_ = str(body.get("type") or "alarm")
    title = TITLES[lang].get(type_) or str(body.get("message") or type_)
    when = datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")
    who = label or str(body.get("resident") or "")
    return TEMPLATES[lang].format(title=title, who=who, device=body.get("device") or "-", time=when)


@dataclass
class SmsFallback:
    """Watches the outbox; an alarm unacknowledged after `after_s` is texted to every caregiver."""

    config: SmsConfig
    outbox: Outbox
    open_modem: ModemFactory
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] = time.sleep
    attempts_log: list[dict[str, Any]] = field(default_factory=list)
    _first_seen: dict[int, float] = field(default_factory=dict)
    _loop: Loop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = Loop("sms-fallback", self.check, interval_s=1.0)

    def due(self) -> list[Entry]:
        """Alarms waiting longer than allowed that have not been texted yet."""
        now = self.monotonic()
        alarms = self.outbox.alarms()
        live = {a.seq for a in alarms}
        for seq in list(self._first_seen):
            if seq not in live:
                del self._first_seen[seq]  # acknowledged: nothing to do
        out = []
        for a in alarms:
            first = self._first_seen.setdefault(a.seq, now)
            if "sms" in a.body or a.body.get("change", "raise") != "raise":
                continue
            if a.body.get("severity") in self.config.severities and now - first >= self.config.after_s:
                out.append(a)
        return out

    def check(self) -> int:
        """Text every due alarm; returns how many alarms were handled."""
        due = self.due()
        for alarm in due:
            self.send(alarm)
        return len(due)

    def send(self, alarm: Entry) -> dict[str, Any]:
        """Text one alarm to every caregiver, with retries; record the story on the alarm."""
        text = sms_text(alarm.body, alarm.ts, self.config.resident_label, self.language, self.timezone)
        attempts = [self._deliver(number, text, alarm.seq) for number in self.config.caregivers]
        record = {
            "at": self.clock(),
            "text": text,
            "delivered_to": [a["to"] for a in attempts if a["ok"]],
            "attempts": [x for a in attempts for x in a["tries"]],
        }
        try:
            self.outbox.annotate(alarm.seq, "sms", record)
        except OutboxError as exc:
            log.error("SMS for alarm %d sent but not recorded on it: %s", alarm.seq, exc)
        return record

    def _deliver(self, number: str, text: str, seq: int) -> dict[str, Any]:
        tries: list[dict[str, Any]] = []
        for attempt in range(1, self.config.attempts + 1):
            entry: dict[str, Any] = {"to": number, "attempt": attempt, "at": self.clock()}
            try:
                with self.open_modem() as modem:
                    modem.initialise()
                    entry["refs"] = modem.send_sms(number, text, self.config.smsc)
                entry["ok"] = True
            except ModemError as exc:
                entry["ok"], entry["error"] = False, str(exc)
            tries.append(entry)
            self.attempts_log.append({"seq": seq, **entry})
            level = logging.INFO if entry["ok"] else logging.WARNING
            log.log(
                level,
                "SMS fallback for alarm %d to %s, attempt %d/%d: %s",
                seq,
                number,
                attempt,
                self.config.attempts,
                "sent" if entry["ok"] else entry["error"],
            )
            if entry["ok"]:
                break
            if attempt < self.config.attempts:
                self.sleep(self.config.retry_after_s)
        return {"to": number, "ok": bool(tries and tries[-1]["ok"]), "tries": tries}

    def start(self) -> None:
        """Check once a second on a thread of its own (sending may block for a minute)."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the watcher."""
        self._loop.stop()
