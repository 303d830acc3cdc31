"""Scoring an ability assessment: totals per domain, the preliminary grade and the final grade (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.care.errors import InvalidRecord
from server.care.standard import DOMAINS, GRADE_ORDER, GRADES, ITEMS


@dataclass(frozen=True, slots=True)
class Adjustments:
    """What can move the grade beyond the total (the standard's 能力等级变更依据)."""

    coma: bool = False
    dementia_or_mental_disorder: bool = False  # diagnosed F00–F03, or F04–F99 by a psychiatrist
    risk_events_30d: int = 0  # falls, choking, self-harm, wandering … in the past 30 days


@dataclass(frozen=True, slots=True)
class Result:
    """The scored assessment."""

    domain_totals: dict[str, int]
    total: int
    preliminary: str
    grade: str
    changes: list[str] = field(default_factory=list)


def check_answers(answers: dict[str, int]) -> None:
    """Every item answered with one of its scores; raises InvalidRecord naming what is wrong."""
    missing = [code for code in ITEMS if code not in answers]
    unknown = [code for code in answers if code not in ITEMS]
    if unknown:
        raise InvalidRecord(f"unknown item(s): {', '.join(sorted(unknown))}")
    if missing:
        raise InvalidRecord(f"unanswered item(s): {', '.join(missing)}")
    for code, score in answers.items():
        allowed = [s for s, _, _ in ITEMS[code].levels]
        if score not in allowed:
            raise InvalidRecord(f"item {code} takes one of {allowed}, not {score!r}")


def band(total: int) -> str:
    """The grade whose band holds this total."""
    for code, lowest, _, _ in GRADES:
        if total >= lowest:
            return code
    raise InvalidRecord(f"a total cannot be negative: {total}")


def _worse(grade: str, steps: int) -> str:
    return GRADE_ORDER[min(GRADE_ORDER.index(grade) + steps, len(GRADE_ORDER) - 1)]


def score(answers: dict[str, int], adjust: Adjustments | None = None) -> Result:
    """Totals and grades; coma means complete loss, and each other change makes the grade one worse."""
    check_answers(answers)
    adjust = adjust or Adjustments()
    if adjust.risk_events_30d < 0:
        raise InvalidRecord("risk events cannot be negative")
    totals = {d.code: sum(answers[i.code] for i in d.items) for d in DOMAINS}
    total = sum(totals.values())
    preliminary = band(total)
    changes: list[str] = []
    if adjust.coma:
        return Result(totals, total, preliminary, "complete", ["coma"])
    # The standard raises the grade by one for either reason; they are not added up.
    if adjust.dementia_or_mental_disorder:
        changes.append("dementia_or_mental_disorder")
    if adjust.risk_events_30d >= 2:
        changes.append("risk_events")
    grade = _worse(preliminary, 1) if changes else preliminary
    return Result(totals, total, preliminary, grade, changes)
