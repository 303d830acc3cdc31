"""What can be asked for, how urgent, the steps a request goes through, and how long each category may take."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from server.assist.errors import BadStep

# code -> (zh-CN, English)
CATEGORIES: dict[str, tuple[str, str]] = {
    "meals": ("助餐", "Meals"),
    "cleaning": ("助洁", "Cleaning"),
    "medical": ("助医 / 陪诊", "Doctor visit / escort"),
    "repair": ("维修", "Repairs"),
    "adaptation": ("适老化改造", "Home adaptation"),
    "counselling": ("心理疏导", "Someone to talk to"),
    "digital": ("数字技能", "Smartphone skills"),
    "other": ("其他", "Other"),
}
URGENCIES = ("normal", "urgent")
CHANNELS = ("staff", "family", "helper", "home")
STATUSES = ("new", "accepted", "assigned", "on_the_way", "done", "cancelled")
OPEN = ("new", "accepted", "assigned", "on_the_way")
# Which status each step leaves from. Cancelling is possible from every open status.
STEPS: dict[str, tuple[str, ...]] = {
    "accepted": ("new",),
    "assigned": ("accepted", "assigned"),  # re-assigning to another provider is allowed
    "on_the_way": ("assigned",),
    "done": ("assigned", "on_the_way"),
    "cancelled": OPEN,
}
# Hours from the request to done, per category (ANXIN_SERVICE_SLA_HOURS overrides any of them).
DEFAULT_SLA_HOURS: dict[str, int] = {
    "meals": 24,
    "cleaning": 72,
    "medical": 72,
    "repair": 48,
    "adaptation": 720,
    "counselling": 72,
    "digital": 168,
    "other": 72,
}
URGENT_SLA_HOURS = 24  # an urgent request is due within a day whatever its category allows
# Words in a helper's "needs raised" that name a category (the first match wins; else "other").
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meals", ("助餐", "送餐", "吃饭", "meal")),
    ("cleaning", ("助洁", "打扫", "保洁", "clean")),
    ("medical", ("陪诊", "看病", "医院", "助医", "doctor", "hospital")),
    ("repair", ("维修", "修", "漏", "repair", "broken")),
    ("adaptation", ("扶手", "改造", "防滑", "rail")),
    ("counselling", ("心理", "孤独", "聊天", "lonely")),
    ("digital", ("手机", "智能", "微信", "phone")),
)


def check_step(status: str, step: str) -> None:
    """Raise BadStep unless a request in this status may take this step."""
    if step not in STEPS:
        raise BadStep(f"unknown step {step!r}; one of {', '.join(STEPS)}")
    if status not in STEPS[step]:
        raise BadStep(f"a request that is {status} cannot become {step}")


def sla_hours(category: str, urgency: str, overrides: Mapping[str, int]) -> int:
    """The hours a request of this category and urgency may take from intake to done."""
    hours = int(overrides.get(category, DEFAULT_SLA_HOURS.get(category, DEFAULT_SLA_HOURS["other"])))
    return min(hours, URGENT_SLA_HOURS) if urgency == "urgent" else hours


def due_at(created_at: datetime, category: str, urgency: str, overrides: Mapping[str, int]) -> datetime:
    """When the request must be done by."""
    return created_at + timedelta(hours=sla_hours(category, urgency, overrides))


def overdue(
    status: str, created_at: datetime, category: str, urgency: str, now: datetime, overrides: Mapping[str, int]
) -> bool:
    """An open request past its category's SLA."""
    return status in OPEN and now > due_at(created_at, category, urgency, overrides)


def guess_category(text: str) -> str:
    """The category a free-text need most likely names ("other" when none fits)."""
    lowered = text.lower()
    return next((code for code, words in KEYWORDS if any(w in lowered for w in words)), "other")
