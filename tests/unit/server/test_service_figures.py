"""Service figures: share acknowledged within 60 s / 180 s, per local day and per person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.web.figures import AckSample, compute

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def acked(after_s: float, by: str = "赵", at: datetime = T0) -> AckSample:
    return AckSample(at, at + timedelta(seconds=after_s), by)


def test_shares_and_targets():
    samples = [acked(10), acked(60), acked(61), acked(180), acked(181, by="孙")]
    f = compute(samples, now=T0 + timedelta(hours=1), tz=SHANGHAI)
    assert (f.total.alarms, f.total.within_fast, f.total.within_slow) == (5, 2, 4)
    assert f.total.share_fast == pytest.approx(0.4) and f.total.share_slow == pytest.approx(0.8)
    assert f.total.meets_targets is False
    assert [(p.key, p.alarms, p.within_fast) for p in f.by_person] == [("赵", 4, 2), ("孙", 1, 0)]


def test_forty_fast_answers_meet_the_targets_and_one_slow_one_breaks_them():
    fast = [acked(30) for _ in range(40)]
    assert compute(fast, T0 + timedelta(hours=1), SHANGHAI).total.meets_targets is True
    # 1 late of 41 is 97.56 % within 180 s: below the 99 % target.
    assert compute([*fast, acked(200)], T0 + timedelta(hours=1), SHANGHAI).total.meets_targets is False


def test_unanswered_alarm_is_pending_until_180_s_then_counts_as_late():
    waiting = AckSample(T0, None, None)
    young = compute([waiting], now=T0 + timedelta(seconds=100), tz=SHANGHAI)
    assert (young.total.alarms, young.pending) == (0, 1)
    assert young.total.share_fast is None and young.total.meets_targets is None
    old = compute([waiting], now=T0 + timedelta(seconds=181), tz=SHANGHAI)
    assert (old.total.alarms, old.total.unanswered, old.total.within_slow, old.pending) == (1, 1, 0, 0)
    assert old.by_person == [], "nobody acknowledged it, so no person is charged with it"


def test_days_are_local_days_newest_first():
    late_evening_utc = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2 March in Beijing
    samples = [acked(5, at=late_evening_utc), acked(5, at=T0 - timedelta(days=2))]
    f = compute(samples, now=T0 + timedelta(hours=1), tz=SHANGHAI)
    assert [d.key for d in f.by_day] == ["2026-03-02", "2026-02-28"]


def test_an_acknowledgement_stamped_before_the_raise_counts_as_instant():
    # A gateway clock ahead of the server's can put the raise after the acknowledgement.
    f = compute([acked(-3)], now=T0 + timedelta(hours=1), tz=SHANGHAI)
    assert f.total.within_fast == 1
