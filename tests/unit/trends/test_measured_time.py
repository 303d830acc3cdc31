"""Readings are filed under the time the monitor measured them, when that time can be trusted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.ingest_checks import measured_time

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # when the gateway sent the event
NOW = AT + timedelta(seconds=2)


def test_a_synced_memory_keeps_its_measurement_time() -> None:
    body = {"measured_at": "2026-03-01T07:30:00+08:00"}
    assert measured_time(body, AT, NOW) == datetime(2026, 2, 28, 23, 30, tzinfo=UTC)


def test_untrustworthy_measurement_times_fall_back_to_the_event_time() -> None:
    for raw in (None, 17, "yesterday", "2026-03-01T07:30:00", (NOW + timedelta(hours=1)).isoformat()):
        assert measured_time({"measured_at": raw}, AT, NOW) == AT
    assert measured_time({}, AT, NOW) == AT
