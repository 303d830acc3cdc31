"""A full disk (a real SQLite 'database or disk is full') must not silence the home or lose an alarm."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.router import Router
from gateway.errors import OutboxError
from gateway.items import DeviceMessages, Tick
from gateway.model import DeviceEvent, EventKind
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.outlet import ALARM_ATTEMPTS
from gateway.rules.defaults import build_engine
from gateway.service import Gateway


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_316_800.0

    def __call__(self) -> float:
        return self.now


def fill(conn: sqlite3.Connection, outbox: Outbox) -> None:
    """Cap the database at its current size and fill it until nothing more fits."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    failures = 0
    while failures < 3:
        try:
            outbox.put("event", {"filler": "x"}, 0.0, 0.0)
            failures = 0
        except OutboxError:
            failures += 1


def free(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA max_page_count=1000000")


@pytest.fixture
def home(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = GatewaySettings(
        gateway_id="gw-t",
        resident="R001",
        data_dir=tmp_path,
        devices=[DeviceConfig(name="button", family="zigbee2mqtt", role="sos_button", model="TS0215A_sos")],
    )
    conn = connect(settings.outbox_path)
    outbox = Outbox(conn)
    clock = Clock()
    published: list[dict] = []
    sleeps: list[float] = []
    gw = Gateway(
        settings,
        Router(settings),
        build_engine(),
        outbox,
        publish_local=lambda t, p: published.append(json.loads(p)),
        wake_uplink=lambda: None,
        clock=clock,
        monotonic=clock,
        sleep=sleeps.append,
    )
    yield gw, conn, outbox, clock, published, sleeps
    outbox.close()


def alarms(outbox: Outbox) -> list[dict]:
    return [e.body for e in outbox.pending(100000) if e.lane == "alarm"]


def test_sos_on_a_full_disk_still_speaks_and_is_stored_when_space_returns(home) -> None:  # type: ignore[no-untyped-def]
    gw, conn, outbox, clock, published, sleeps = home
    fill(conn, outbox)
    pressed_at = clock.now
    gw.process(DeviceMessages([DeviceEvent("button", EventKind.SOS)]))
    # The resident hears and sees that the press was registered, although nothing could be stored.
    assert [(a["action"], a.get("key") or a.get("state")) for a in published] == [
        ("say", "sos_raised"),
        ("led", "alarm_sent"),
    ]
    assert alarms(outbox) == []
    assert len(sleeps) == ALARM_ATTEMPTS - 1 and gw.counters["alarms_parked"] == 1
    clock.now += 5
    gw.process(Tick())  # still full: kept, not dropped
    assert alarms(outbox) == [] and len(gw.outlet.parked) == 1
    free(conn)
    clock.now += 5
    gw.process(Tick())
    stored = [e for e in outbox.pending(100000) if e.lane == "alarm"]
    assert [(e.body["type"], e.body["change"]) for e in stored] == [("sos", "raise")]
    assert stored[0].ts == pressed_at  # the time of the press, not of the retry
    assert gw.outlet.parked == []


def test_a_cancel_never_overtakes_the_parked_alarm_it_retracts(home) -> None:  # type: ignore[no-untyped-def]
    gw, conn, outbox, clock, published, sleeps = home
    fill(conn, outbox)
    gw.process(DeviceMessages([DeviceEvent("button", EventKind.SOS)]))
    clock.now += 10
    gw.process(DeviceMessages([DeviceEvent("button", EventKind.SOS_CANCEL)]))
    # While alarms are parked a new one is tried once, never retried with waits: the worker keeps going.
    assert len(sleeps) == ALARM_ATTEMPTS - 1
    assert ("say", "sos_cancelled") in [(a["action"], a.get("key")) for a in published]
    free(conn)
    gw.process(Tick())
    assert [(a["type"], a["change"]) for a in alarms(outbox)] == [("sos", "raise"), ("sos", "cancel")]


def test_stopping_ends_the_retries_and_keeps_the_alarm_parked(home) -> None:  # type: ignore[no-untyped-def]
    gw, conn, outbox, _clock, published, sleeps = home
    gw.outlet.sleep = lambda s: (sleeps.append(s), gw.stop())
    fill(conn, outbox)
    gw.process(DeviceMessages([DeviceEvent("button", EventKind.SOS)]))
    assert len(sleeps) == 1
    assert [b["type"] for b, _, _ in gw.outlet.parked] == ["sos"]
    assert ("say", "sos_raised") in [(a["action"], a.get("key")) for a in published]
