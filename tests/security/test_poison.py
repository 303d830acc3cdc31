"""Poison from one gateway is dead-lettered on its own; another home's alarm in the same moment is notified."""

from __future__ import annotations

import json
import threading

import pytest

from anxin import protocol
from server.db.models import Alarm, DeadLetter
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration

ROGUE = "gw-rogue"


def alarm_batch(seq: int, body: dict[str, object], gw: str = ROGUE) -> bytes:
    """A batch carrying one alarm event, raw, so it can hold what a real gateway never writes."""
    doc = {
        "v": 1,
        "gw": gw,
        "boot": "b",
        "sent": 0,
        "events": [{"seq": seq, "lane": "alarm", "ts": 1.7e9, "body": body}],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def poisons() -> list[bytes]:
    sos = {"type": "sos", "severity": "emergency", "change": "raise", "device": "x", "message": "m"}
    deep = alarm_batch(3, {"type": "sos", "detail": "DEEP"}).replace(b'"DEEP"', b"[" * 1000 + b"]" * 1000)
    return [
        alarm_batch(2**64 - 1, sos),  # an integer column cannot hold it
        b'{"v":1,"lane":"alarm","x":' + b"[" * 100_000,  # the json fallback recursed until it failed
        deep,  # orjson takes 1000 levels; the Python code after it does not
        alarm_batch(4, sos).replace(b'"ts":1700000000.0', b'"ts":1' + b"0" * 400),  # float() cannot hold it
    ]


def test_poison_is_dead_lettered_alone_while_another_homes_alarm_is_notified(
    installation, central_broker, receiver, attacker
):
    server, home = installation
    rogue = attacker(central_broker.address, client_id=ROGUE)
    up = protocol.up_topic(ROGUE)
    rogue.publish(up, alarm_batch(5, {"type": "sos", "message": "x" * 8_000_000}))  # 8 MB
    stop = threading.Event()

    def keep_poisoning() -> None:  # a broken gateway repeats itself: every drain should meet the poison
        while not stop.is_set():
            for payload in poisons():
                rogue.publish(up, payload)
            stop.wait(0.05)

    flood = threading.Thread(target=keep_poisoning, daemon=True)
    flood.start()
    try:
        home.button.press()
        got = receiver.wait_for(1, 60)
    finally:
        stop.set()
        flood.join(10)
    assert got and got[0].path == "/caregiver/R001", "another home's poison held back the resident's SOS"

    def reasons() -> str:
        with server.services.sessions() as s:
            return "\n".join(d.reason for d in s.query(DeadLetter).all())

    assert wait_until(
        lambda: all(r in reasons() for r in ("bad seq", "nested deeper", "cannot be committed", "bytes, over")), 30
    ), reasons()
    assert server.ingest.counters["internal_errors"] == 0, "a drain failed: every message in it was held back"
    with server.services.sessions() as s:
        assert [a.gateway_id for a in s.query(Alarm).all()] == ["gw-r001"], "no poison became an alarm"
