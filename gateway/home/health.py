"""A home part's health report (the speaker, the Pi's button panel) turned into a technical alarm (pure)."""

from __future__ import annotations

import json
from typing import Any

from gateway.model import Alarm, AlarmChange, Severity

# part -> (device named on the alarm, alarm type, what staff read while it is broken)
PARTS: dict[str, tuple[str, str, str]] = {
    "speaker": (
        "speaker",
        "speaker_fault",
        "The home cannot speak to the resident ({names}): prompts and reminders are not heard",
    ),
    "panel": ("pi-panel", "panel_fault", "The Pi's cancel button and light do not work ({names})"),
}


def health_topic(gateway_id: str, part: str) -> str:
    """Local-bus topic where a home part reports its health (retained)."""
    return f"anxin/home/{gateway_id}/{part}"


def health_doc(problems: dict[str, str]) -> bytes:
    """The retained health message: ok, or each problem (engine_missing, speaker_missing, …) with its detail."""
    return json.dumps(
        {"v": 1, "ok": not problems, "problems": dict(sorted(problems.items()))}, ensure_ascii=False
    ).encode()


def parse_health(payload: bytes) -> dict[str, str]:
    """Problems named in a health message ({} when it is fine); raises ValueError."""
    doc: Any = json.loads(payload)
    if not isinstance(doc, dict) or not isinstance(doc.get("ok"), bool):
        raise ValueError("a speaker health message needs a boolean `ok`")
    problems = doc.get("problems") or {}
    if not isinstance(problems, dict):
        raise ValueError("`problems` must map a problem to its detail")
    out = {str(k): str(v)[:300] for k, v in problems.items()}
    if not doc["ok"] and not out:
        out = {"fault": "the part reports a fault"}
    return out


def part_alarm(part: str, payload: bytes, before: dict[str, str] | None) -> tuple[dict[str, str] | None, Alarm | None]:
    """(problems now, the alarm to raise / update / clear, if the news changed anything)."""
    device, alarm_type, text = PARTS[part]
    try:
        problems = parse_health(payload)
    except ValueError as exc:
        problems = {"fault": f"unreadable health report: {exc}"}
    if problems == (before or {}) and before is not None:
        return problems, None
    if not problems:
        if not before:
            return problems, None  # fine, and it was not known to be broken: nothing to tell
        return problems, Alarm(
            alarm_type, Severity.TECHNICAL, f"The home's {part} works again", device, AlarmChange.CLEAR
        )
    names = ", ".join(sorted(problems))
    change = AlarmChange.UPDATE if before else AlarmChange.RAISE
    return problems, Alarm(
        alarm_type, Severity.TECHNICAL, text.format(names=names), device, change, {"problems": problems}
    )
