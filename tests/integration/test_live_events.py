"""The console's event stream over real HTTP: pushed changes from this process, polled ones from others."""

from __future__ import annotations

import json
import queue
import threading
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from server import alarms as desk
from server.db.models import Staff
from server.db.session import make_engine, session_factory
from tests.integration.harness import provision, start_server

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path, central_broker):
    runtime = start_server(tmp_path, central_broker.address)
    provision(runtime, 1, [])
    yield runtime
    runtime.stop()


def listen(url: str, cookie: str, events: queue.Queue, stop: threading.Event) -> None:
    """Read server-sent events into a queue until told to stop."""
    with (
        httpx.Client(timeout=httpx.Timeout(5, read=30)) as client,
        client.stream("GET", url, cookies={"anxin_session": cookie}) as response,
    ):
        events.put(("status", response.status_code))
        name = None
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.put((name, json.loads(line[6:])))


def next_event(events: queue.Queue, name: str, timeout: float = 20.0):
    while True:
        got_name, data = events.get(timeout=timeout)
        if got_name == name:
            return data


def test_pushed_from_this_process_and_polled_from_another(server, tmp_path):
    with server.services.sessions() as s:
        duty = s.scalars(select(Staff).where(Staff.username == "duty")).one()
    cookie = server.services.tokens.issue(duty)
    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    threading.Thread(
        target=listen, args=(f"{server.settings.base_url}/console/events", cookie, events, stop), daemon=True
    ).start()
    assert events.get(timeout=20) == ("status", 200)
    next_event(events, "hello")

    now = datetime.now(UTC)
    with server.services.sessions() as s, s.begin():
        alarm = desk.apply_gateway_alarm(s, "gw-r001", 1, None, {"type": "sos", "severity": "emergency"}, now, now)
    pushed = next_event(events, "changed")
    assert pushed["source"] == "push" and pushed["ids"] == [alarm.alarm.id]

    # Another server process shares only the database: its commits are not in this process's hub.
    other_engine = make_engine(server.settings.database_url)
    try:
        with session_factory(other_engine)() as s, s.begin():
            desk.acknowledge(s, alarm.alarm.id, "值班员 赵敏", "console", datetime.now(UTC))
        polled = next_event(events, "changed")
        assert polled["source"] == "poll"
    finally:
        other_engine.dispose()
        stop.set()


def test_stream_refuses_strangers(server):
    r = httpx.get(f"{server.settings.base_url}/console/events", follow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
