"""A first call or a desk round that fails is on /metrics, not only in the log (nothing fails silently)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from server.db.session import make_engine, session_factory
from server.escalation import Escalator
from server.links import LinkSigner
from server.notify import Notifier
from server.presence import PresencePolicy
from server.services import Services
from server.worker import DeskWorker

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def test_a_first_call_that_cannot_reach_the_database_is_counted_on_metrics(
    services: Services, client: TestClient, tmp_path: Path
) -> None:
    broken = make_engine(f"sqlite:///{tmp_path}/missing/none.db")  # a database that cannot be opened
    sessions = session_factory(broken)
    notifier = Notifier(sessions, LinkSigner("test-secret-of-16-chars", 60), "http://desk.example")
    desk = DeskWorker(sessions, Escalator(), notifier, PresencePolicy(), lambda: NOW)
    assert desk.first_call is not None
    assert desk.first_call.call(1) == 0, "nothing sent: the desk's rounds take the alarm over"
    assert not desk.loop.run_once(), "the desk's round fails the same way"
    client.app.state.desk = desk  # type: ignore[attr-defined]
    text = client.get("/metrics").text
    assert 'anxin_desk_errors_total{part="first_call"} 1.0' in text, "a failing first call is only in the log"
    assert 'anxin_desk_errors_total{part="rounds"} 1.0' in text, "a failing desk round is only in the log"
    broken.dispose()
