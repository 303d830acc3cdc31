"""Contact plans: default recurrences by tier, what is due next, categories, follow-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.care import categories
from server.care.errors import InvalidRecord
from server.care.plans import (
    check_rule,
    default_rule,
    follow_ups,
    next_due,
    occurrences,
)


def test_default_rules_are_weekly_monthly_quarterly_and_keep_month_ends() -> None:
    assert default_rule("high", date(2027, 1, 4)) == "FREQ=WEEKLY;BYDAY=MO"
    assert default_rule("priority", date(2027, 1, 15)) == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15"
    assert default_rule("other", date(2027, 1, 31)) == "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1"
    rule = default_rule("priority", date(2027, 1, 31))
    assert occurrences(rule, date(2027, 1, 31), date(2027, 1, 1), date(2027, 4, 30)) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_a_contact_covers_the_next_planned_date_on_or_after_it() -> None:
    rule, start = "FREQ=WEEKLY;BYDAY=MO", date(2027, 1, 4)
    assert next_due(rule, start, None) == date(2027, 1, 4)
    assert next_due(rule, start, date(2027, 1, 4)) == date(2027, 1, 11)
    assert next_due(rule, start, date(2027, 1, 10)) == date(2027, 1, 18)  # a Sunday visit covers Monday
    assert next_due(rule, start, date(2027, 1, 25)) == date(2027, 2, 1)
    assert next_due(rule, start, date(2026, 12, 1)) == date(2027, 1, 4)  # before the plan began: covers nothing


def test_bad_rules_are_refused() -> None:
    with pytest.raises(InvalidRecord):
        check_rule("FREQ=SOMETIMES", date(2027, 1, 1))
    with pytest.raises(InvalidRecord):
        check_rule("DTSTART:20270101\nRRULE:FREQ=DAILY", date(2027, 1, 1))
    with pytest.raises(InvalidRecord, match="DAILY, WEEKLY"):
        check_rule("FREQ=SECONDLY", date(2027, 1, 1))
    assert check_rule("RRULE:FREQ=DAILY", date(2027, 1, 1)) == "FREQ=DAILY"


def test_categories_derive_from_age_living_and_grade_and_staff_need_a_reason() -> None:
    today = date(2027, 6, 1)
    assert categories.derive(date(1947, 6, 1), "alone", "moderate", {}, today, 80) == ["高龄", "空巢", "失能"]
    assert categories.derive(date(1947, 6, 2), "children", "intact", {}, today, 80) == []
    assert categories.derive(None, None, None, {"重病": "晚期肺癌"}, today, 80) == ["重病"]
    with pytest.raises(InvalidRecord, match="reason"):
        categories.derive(None, None, None, {"特殊困难": " "}, today, 80)
    with pytest.raises(InvalidRecord):
        categories.derive(None, None, None, {"高龄": "looks old"}, today, 80)
    assert categories.tier(["高龄", "失能"], "moderate") == "high"
    assert categories.tier(["高龄", "失能"], "mild") == "priority"
    assert categories.tier([], None) == "other"


def test_an_emergency_is_followed_until_a_home_visit_after_it() -> None:
    raised = datetime(2027, 3, 1, 22, 0, tzinfo=UTC)
    owed = follow_ups([(7, raised)], None, 24)
    assert [(f.alarm_id, f.due_at) for f in owed] == [(7, datetime(2027, 3, 2, 22, 0, tzinfo=UTC))]
    assert follow_ups([(7, raised)], datetime(2027, 3, 2, 9, 0, tzinfo=UTC), 24) == []
    assert len(follow_ups([(7, raised)], datetime(2027, 2, 27, tzinfo=UTC), 24)) == 1
