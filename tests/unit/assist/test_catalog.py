"""The steps a request may take, its SLA, and what a helper's free text asks for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.assist.catalog import check_step, due_at, guess_category, overdue, sla_hours
from server.assist.errors import BadStep

T = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("new", "accepted"),
        ("accepted", "assigned"),
        ("assigned", "assigned"),
        ("assigned", "on_the_way"),
        ("on_the_way", "done"),
        ("new", "cancelled"),
        ("on_the_way", "cancelled"),
    ],
)
def test_allowed_steps(status: str, step: str) -> None:
    check_step(status, step)


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("new", "done"),
        ("done", "done"),
        ("done", "cancelled"),
        ("cancelled", "assigned"),
        ("accepted", "on_the_way"),
        ("new", "fly"),
    ],
)
def test_refused_steps(status: str, step: str) -> None:
    with pytest.raises(BadStep):
        check_step(status, step)


def test_sla_per_category_with_overrides_and_urgency() -> None:
    assert sla_hours("meals", "normal", {}) == 24 and sla_hours("adaptation", "normal", {}) == 720
    assert sla_hours("meals", "normal", {"meals": 12}) == 12
    assert sla_hours("adaptation", "urgent", {}) == 24 and sla_hours("meals", "urgent", {"meals": 6}) == 6
    assert due_at(T, "repair", "normal", {}) == datetime(2027, 3, 3, 1, 0, tzinfo=UTC)


def test_overdue_only_while_open_and_past_due() -> None:
    later = datetime(2027, 3, 3, 1, 1, tzinfo=UTC)
    assert overdue("assigned", T, "repair", "normal", later, {})
    assert not overdue("done", T, "repair", "normal", later, {})
    assert not overdue("assigned", T, "repair", "normal", datetime(2027, 3, 3, 1, 0, tzinfo=UTC), {})


def test_free_text_needs_are_sorted_into_categories() -> None:
    assert guess_category("想请人每周打扫一次") == "cleaning"
    assert guess_category("下周三去医院复查，需要陪诊") == "medical"
    assert guess_category("不会用微信视频") == "digital"
    assert guess_category("想找人下棋") == "other"
