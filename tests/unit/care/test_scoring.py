"""GB/T 42195-2022 scoring: item ranges, totals, the five bands and the grade changes."""

from __future__ import annotations

import pytest

from server.care.errors import InvalidRecord
from server.care.scoring import Adjustments, band, score
from server.care.standard import DOMAINS, ITEMS, MAX_TOTAL
from tests.unit.care.example import EXAMPLE


def best() -> dict[str, int]:
    return {code: item.max_score for code, item in ITEMS.items()}


def test_the_standard_has_26_items_in_four_domains_worth_90() -> None:
    assert [len(d.items) for d in DOMAINS] == [8, 4, 9, 5]
    assert [d.max_score for d in DOMAINS] == [32, 15, 28, 15]
    assert MAX_TOTAL == 90


def test_hand_computed_example_is_a_moderate_disability() -> None:
    result = score(EXAMPLE)
    assert result.domain_totals == {"B1": 18, "B2": 8, "B3": 20, "B4": 8}
    assert result.total == 54
    assert result.preliminary == result.grade == "moderate"


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (90, "intact"),
        (89, "mild"),
        (66, "mild"),
        (65, "moderate"),
        (46, "moderate"),
        (45, "severe"),
        (30, "severe"),
        (29, "complete"),
        (0, "complete"),
    ],
)
def test_band_edges(total: int, grade: str) -> None:
    assert band(total) == grade


def test_full_marks_are_intact_and_coma_is_complete_loss_whatever_the_total() -> None:
    assert score(best()).grade == "intact"
    assert score(best(), Adjustments(coma=True)).grade == "complete"


def test_dementia_or_two_risk_events_make_the_grade_one_worse_and_not_two() -> None:
    assert score(best(), Adjustments(dementia_or_mental_disorder=True)).grade == "mild"
    assert score(best(), Adjustments(risk_events_30d=1)).grade == "intact"
    assert score(best(), Adjustments(risk_events_30d=2)).grade == "mild"
    assert score(best(), Adjustments(dementia_or_mental_disorder=True, risk_events_30d=3)).grade == "mild"
    zero = dict.fromkeys(ITEMS, 0)
    assert score(zero, Adjustments(risk_events_30d=5)).grade == "complete"


def test_missing_unknown_or_out_of_range_answers_are_refused_by_name() -> None:
    partial = dict(EXAMPLE)
    del partial["B2.4"]
    with pytest.raises(InvalidRecord, match=r"B2\.4"):
        score(partial)
    with pytest.raises(InvalidRecord, match=r"B2\.4 takes one of"):
        score({**EXAMPLE, "B2.4": 4})  # stairs go up to 3
    with pytest.raises(InvalidRecord, match=r"B9\.9"):
        score({**EXAMPLE, "B9.9": 1})
