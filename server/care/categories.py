"""Care categories (高龄 空巢 失能 重病 特殊困难): derived from the record or set by staff, each with a default plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from server.care.errors import InvalidRecord

ADVANCED_AGE = "高龄"
EMPTY_NEST = "空巢"
DISABLED = "失能"
SERIOUS_ILLNESS = "重病"
HARDSHIP = "特殊困难"
CATEGORIES = (ADVANCED_AGE, EMPTY_NEST, DISABLED, SERIOUS_ILLNESS, HARDSHIP)
STAFF_SET = (SERIOUS_ILLNESS, HARDSHIP)  # only staff can say so, and they give a reason
CATEGORY_EN = {
    ADVANCED_AGE: "Advanced age",
    EMPTY_NEST: "Empty nest",
    DISABLED: "Disabled",
    SERIOUS_ILLNESS: "Serious illness",
    HARDSHIP: "Special hardship",
}

# 空巢: nobody of a younger generation at home (alone, or only with a spouse).
EMPTY_NEST_ARRANGEMENTS = ("alone", "spouse")
# Grades that mean a moderate or worse disability put the resident in the high-risk tier.
HIGH_RISK_GRADES = ("moderate", "severe", "complete")

TIERS = ("high", "priority", "other")  # most contact first


@dataclass(frozen=True, slots=True)
class CategoryPlan:
    """What a category asks of the service by default."""

    tier: str
    devices: tuple[str, ...]  # device roles the home should have (the coverage model counts these)
    services: tuple[str, ...]


PLANS: dict[str, CategoryPlan] = {
    ADVANCED_AGE: CategoryPlan("priority", ("sos_button", "fall_radar"), ("健康咨询 health advice", "助餐 meal help")),
    EMPTY_NEST: CategoryPlan("priority", ("sos_button", "door"), ("精神慰藉 companionship", "上门探访 home visits")),
    DISABLED: CategoryPlan(
        "priority", ("sos_button", "fall_radar", "presence"), ("生活照料 daily care", "康复护理 rehabilitation")
    ),
    SERIOUS_ILLNESS: CategoryPlan(
        "high", ("sos_button", "bp_monitor"), ("家庭医生随访 GP follow-up", "用药提醒 medication")
    ),
    HARDSHIP: CategoryPlan("high", ("sos_button", "smoke"), ("救助申请 assistance claims", "上门探访 home visits")),
}


def age_on(birth: date, today: date) -> int:
    """Completed years of age."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def derive(
    birth: date | None, living: str | None, grade: str | None, staff_set: dict[str, str], today: date, advanced_age: int
) -> list[str]:
    """The resident's categories, in the fixed order: derived ones first, then those staff confirmed."""
    for name, reason in staff_set.items():
        if name not in STAFF_SET:
            raise InvalidRecord(f"{name!r} is derived from the record; staff set only {', '.join(STAFF_SET)}")
        if not (reason or "").strip():
            raise InvalidRecord(f"{name} needs a reason")
    found = set(staff_set)
    if birth is not None and age_on(birth, today) >= advanced_age:
        found.add(ADVANCED_AGE)
    if living in EMPTY_NEST_ARRANGEMENTS:
        found.add(EMPTY_NEST)
    if grade is not None and grade != "intact":
        found.add(DISABLED)
    return [c for c in CATEGORIES if c in found]


def tier(categories: list[str], grade: str | None) -> str:
    """The contact tier: high for serious illness, hardship or moderate-or-worse disability."""
    tiers = [PLANS[c].tier for c in categories]
    if DISABLED in categories and grade in HIGH_RISK_GRADES:
        tiers.append("high")
    return min(tiers, key=TIERS.index) if tiers else "other"


def devices_needed(categories: list[str]) -> list[str]:
    """Device roles the categories ask for, without repeats."""
    out: list[str] = []
    for c in categories:
        out += [d for d in PLANS[c].devices if d not in out]
    return out


def services_offered(categories: list[str]) -> list[str]:
    """Services to offer, without repeats."""
    out: list[str] = []
    for c in categories:
        out += [s for s in PLANS[c].services if s not in out]
    return out
