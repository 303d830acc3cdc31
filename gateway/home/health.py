"""The speaker's health report turned into a technical alarm for staff (pure)."""

from __future__ import annotations

import json
from typing import Any

from gateway.model import Alarm, AlarmChange, Severity

SPEAKER_DEVICE = "speaker"
ALARM_TYPE = "speaker_fault"


def parse_health(payload: bytes) -> dict[str, str]:
    """Problems named in a speaker health message ({} when it is fine); raises ValueError."""
    doc: Any = json.loads(payload)
    if not isinstance(doc, dict) or not isinstance(doc.get("ok"), bool):
        raise ValueError("a speaker health message needs a boolean `ok`")
    problems = doc.get("problems") or {}
    if not isinstance(problems, dict):
        raise ValueError("`problems` must map a problem to its detail")
    out = {str(k): str(v)[:300] for k, v in problems.items()}
    if not doc["ok"] and not out:
        out = {"speaker_fault": "the speaker reports a fault"}
    return out


def speaker_alarm(payload: bytes, before: dict[str, str] | None) -> tuple[dict[str, str] | None, Alarm | None]:
    """(problems now, the alarm to raise / update / clear, if the news changed anything)."""
    try:
        problems = parse_health(payload)
    except ValueError as exc:
        problems = {"speaker_fault": f"unreadable health report: {exc}"}
    if problems == (before or {}) and before is not None:
        return problems, None
    if not problems:
        if not before:
            return problems, None  # fine, and it was not known to be broken: nothing to tell
        return problems, Alarm(ALARM_TYPE, Severity.TECHNICAL, "The home's speaker works again", SPEAKER_DEVICE,
                               AlarmChange.CLEAR)
    names = ", ".join(sorted(problems))
    change = AlarmChange.UPDATE if before else AlarmChange.RAISE
    return problems, Alarm(ALARM_TYPE, Severity.TECHNICAL,
                           f"The home cannot speak to the resident ({names}): prompts and reminders are not heard",
                           SPEAKER_DEVICE, change, {"problems": problems})
