"""The first call: a new alarm is sent from ingest's commit by its own thread, and the durable job stays the
fallback — the caregiver hears once when the first call and the desk worker race, a failed send is retried
by the desk, and a process that dies mid-send leaves a lease the desk takes over. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine, select, update

from anxin import protocol
from firmware_sim.receiver import NotificationReceiver
from server.db.models import Alarm, NotificationAttempt, NotificationJob
from server.ingest import Ingest
from tests.integration.desk.conftest import T0, Desk, make_desk, paths, provision, raise_sos, world

pytestmark = pytest.mark.integration


class ProcessDied(BaseException):
    """The server process killed mid-send: nothing after the send runs (not an Exception the code catches)."""


def attempts(desk: Desk, alarm_id: int) -> list[tuple[str, int, bool]]:
    with desk.sessions() as s:
        rows = s.scalars(
            select(NotificationAttempt).where(NotificationAttempt.alarm_id == alarm_id).order_by(NotificationAttempt.id)
        )
        return [(r.recipient, r.attempt, r.ok) for r in rows]


def close(desk: Desk, alarm_id: int) -> None:
    """Staff resolve the alarm, so that the next press raises a fresh one."""
    with desk.sessions() as s, s.begin():
        s.execute(update(Alarm).where(Alarm.id == alarm_id).values(status="resolved", next_escalation_at=None))


def test_a_press_reaches_the_caregiver_from_ingest_without_a_round_of_the_desk(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    provision(engine, world(receiver))
    desk = make_desk(engine)
    ingest = Ingest(desk.sessions, lambda *_a: None, desk.worker.wake, clock=desk.clock)
    desk.worker.notifier.start()
    assert desk.worker.first_call is not None
    desk.worker.first_call.start()  # the desk's own loop is not running: only the first call can send
    try:
        ts = desk.clock.now.timestamp()
        body = {"type": "sos", "severity": "emergency", "device": "sos-button"}
        batch = protocol.UplinkBatch("gw-1", "boot-1", (protocol.UplinkEvent(1, "alarm", ts, body),), ts, True)
        ingest.handle(protocol.up_topic("gw-1"), protocol.encode_batch(batch))
        assert len(receiver.wait_for(1, timeout=15)) == 1
    finally:
        desk.worker.first_call.stop()
        desk.worker.notifier.stop()
    assert paths(receiver) == ["/C1"]
    assert desk.settle() == 0, "the desk finds nothing left to do: the step was fired and the job sent"
    assert paths(receiver) == ["/C1"]
    with desk.sessions() as s:
        alarm = s.scalars(select(Alarm)).one()
        assert (alarm.status, alarm.escalation_step) == ("notified", 1)
        assert [(j.status, j.attempts) for j in s.scalars(select(NotificationJob))] == [("sent", 1)]


def test_the_first_call_and_the_desk_racing_tell_the_caregiver_once(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    provision(engine, world(receiver))
    desk = make_desk(engine)
    call = desk.worker.first_call
    assert call is not None
    desk.worker.notifier.start()
    try:
        # The desk's round first: the first call finds the step fired and sends nothing.
        first = raise_sos(engine)
        desk.worker.run_once(desk.clock.now)
        assert call.call(first) == 0
        close(desk, first)
        # The first call first: the desk's round finds the job leased and sends nothing.
        second = raise_sos(engine)
        assert call.call(second) == 1
        assert desk.worker.run_once(desk.clock.now) == 0
        close(desk, second)
        # Both at once, again and again.
        raced = []
        for _ in range(8):
            alarm_id = raise_sos(engine)
            start = threading.Barrier(2)

            def first_call(alarm_id: int = alarm_id, start: threading.Barrier = start) -> None:
                start.wait()
                call.call(alarm_id)

            def desk_round(start: threading.Barrier = start) -> None:
                start.wait()
                desk.worker.run_once(desk.clock.now)

            threads = [threading.Thread(target=first_call), threading.Thread(target=desk_round)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            desk.settle()
            raced.append(alarm_id)
            close(desk, alarm_id)
    finally:
        desk.worker.notifier.stop()
    assert paths(receiver) == ["/C1"] * 10, "one message per press, whoever sent it"
    for alarm_id in (first, second, *raced):
        assert attempts(desk, alarm_id) == [("李伟", 1, True)]


class FlakyPhone:
    """A caregiver's phone service that answers 503 until told to work, then 200 (a real HTTP endpoint)."""

    def __init__(self) -> None:
        phone = self
        self.working = False
        self.delivered: list[str] = []
        self.refused = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if phone.working:
                    phone.delivered.append(self.path)
                else:
                    phone.refused += 1
                self.send_response(200 if phone.working else 503)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}{path}"


def test_a_failed_first_send_is_retried_by_the_desk_from_the_durable_job(engine: Engine) -> None:
    phone = FlakyPhone()
    try:
        provision(engine, world(phone))  # type: ignore[arg-type]  # world() only asks the phone for its URLs
        desk = make_desk(engine, backoff_s=(5.0, 30.0))
        assert desk.worker.first_call is not None
        alarm_id = raise_sos(engine)
        assert desk.worker.first_call.call(alarm_id) == 1
        assert (phone.refused, attempts(desk, alarm_id)) == (1, [("李伟", 1, False)])
        phone.working = True
        desk.at(4)
        assert phone.delivered == [], "retried after the back-off, not at once"
        desk.at(5)
        assert phone.delivered == ["/C1"]
        desk.at(59)  # and never again (caregiver 2's turn would come at 60 s)
    finally:
        phone.server.shutdown()
        phone.server.server_close()
    assert phone.delivered == ["/C1"]
    assert attempts(desk, alarm_id) == [("李伟", 1, False), ("李伟", 2, True)]
    with desk.sessions() as s:
        assert s.get(Alarm, alarm_id).status == "notified"


def test_a_process_that_dies_mid_send_leaves_the_job_to_the_desk_after_the_lease(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    provision(engine, world(receiver))

    def die(_url: str, _title: str, _body: str) -> tuple[bool, None]:
        raise ProcessDied

    dying = make_desk(engine, send=die, lease_s=20)
    assert dying.worker.first_call is not None
    alarm_id = raise_sos(engine)
    with pytest.raises(ProcessDied):
        dying.worker.first_call.call(alarm_id)
    restarted = make_desk(engine, dying.clock, lease_s=20)  # a new process on the same database
    restarted.at(19)
    assert paths(receiver) == [], "the lease still holds the job"
    restarted.at(21)
    assert paths(receiver) == ["/C1"], "at-least-once: the desk sends what the dead process had leased"
    assert attempts(restarted, alarm_id) == [("李伟", 1, True)]


def test_the_first_call_thread_notifies_each_alarm_handed_to_it_once(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    doc = {
        "caregivers": [{"code": f"C{i}", "name": f"cg{i}", "notify": [receiver.url(f"/C{i}")]} for i in range(5)],
        "residents": [{"code": f"R{i}", "name": f"r{i}", "caregivers": [f"C{i}"]} for i in range(5)],
        "gateways": [{"id": f"gw-{i}", "resident": f"R{i}"} for i in range(5)],
    }
    provision(engine, doc)
    desk = make_desk(engine)
    ingest = Ingest(desk.sessions, lambda *_a: None, desk.worker.wake, clock=desk.clock)
    desk.worker.start()  # the desk's loop polls as well: whoever fires a step sends it
    try:
        ts = T0.timestamp()
        for i in range(5):
            body = {"type": "sos", "severity": "emergency", "device": "sos-button"}
            batch = protocol.UplinkBatch(f"gw-{i}", "b", (protocol.UplinkEvent(1, "alarm", ts, body),), ts, True)
            ingest.on_message(protocol.up_topic(f"gw-{i}"), protocol.encode_batch(batch))
        ingest.start()
        assert len(receiver.wait_for(5, timeout=15)) == 5
    finally:
        ingest.stop()
        desk.worker.stop()
    desk.settle()  # whatever a job left unsent or unrecorded would be sent now
    assert sorted(paths(receiver)) == [f"/C{i}" for i in range(5)]
    with desk.sessions() as s:
        assert [j.status for j in s.scalars(select(NotificationJob))] == ["sent"] * 5
