"""Review of issue 24's outbox (branch t24-outbox): defects shown as failing tests.

Each test states what should hold for the resident; they fail on t24-outbox at 22295a7.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from anxin.mqtt import Delivery
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.router import Router
from gateway.errors import OutboxError
from gateway.items import Tick
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


class FlakyConn:
    """The outbox's connection, whose DELETEs fail when told (an SD card's I/O error on one statement)."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real
        self.fail_deletes = False
        self.on_alarm_insert: Any = None  # called once, when an alarm's row is inserted

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    fail_reservation = False  # the next durable sequence reservation fails (once)

    def execute(self, sql: str, params: Any = ()) -> Any:
        if self.fail_reservation and sql.startswith("INSERT OR REPLACE INTO meta") and params[0] == "seq_reserved":
            self.fail_reservation = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        if self.fail_deletes and sql.startswith("DELETE"):
            raise sqlite3.OperationalError("disk I/O error")
        rows = list(rows)
        if sql.startswith("INSERT") and self.on_alarm_insert and any(r[2] == "alarm" for r in rows):
            hook, self.on_alarm_insert = self.on_alarm_insert, None
            hook()
        return self.real.executemany(sql, rows)


def settings(path: Path) -> GatewaySettings:
    return GatewaySettings(
        gateway_id="gw-t",
        resident="R001",
        data_dir=path,
        devices=[
            DeviceConfig(name="thermo", family="zigbee2mqtt", role="climate", model="WSDCGQ11LM"),
            DeviceConfig(name="button", family="zigbee2mqtt", role="sos_button", model="TS0215A_sos"),
        ],
    )


def gateway(s: GatewaySettings, outbox: Outbox, clock: Clock, sleeps: list[float]) -> Gateway:
    return Gateway(
        s,
        Router(s),
        build_engine(),
        outbox,
        publish_local=lambda t, p: None,
        wake_uplink=lambda: None,
        clock=clock,
        monotonic=clock,
        sleep=sleeps.append,
    )


def on_disk(path: Path, sql: str) -> list[tuple]:
    other = sqlite3.connect(path)
    try:
        return other.execute(sql).fetchall()
    finally:
        other.close()


def fill(conn: Any, outbox: Outbox) -> None:
    """Cap the database at its current size and fill it until nothing more fits (tests/unit/gateway/test_full_disk.py)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    failures = 0
    while failures < 3:
        try:
            outbox.put("event", {"filler": "x"}, 0.0, 0.0)
            failures = 0
        except OutboxError:
            failures += 1


def free(conn: Any) -> None:
    conn.execute("PRAGMA max_page_count=1000000")


def send(gw: Gateway, acked: list[int], mid: int, topic: str, doc: dict) -> None:
    gw.on_local_message(topic, json.dumps(doc).encode(), Delivery(mid, False, lambda: acked.append(mid)))


def reading(gw: Gateway, acked: list[int], mid: int) -> None:
    send(gw, acked, mid, "zigbee2mqtt/thermo", {"temperature": 20 + mid / 100, "humidity": 40})


def sos(gw: Gateway, acked: list[int], mid: int) -> None:
    send(gw, acked, mid, "zigbee2mqtt/button", {"action": "emergency"})


def test_an_alarm_is_stored_once_when_the_disk_cap_check_fails(tmp_path: Path) -> None:
    """Once `_enforce_cap` ran after the alarm's COMMIT and an OutboxError from it (a failed delete) made
    put_alarm report a stored alarm as failed: parked and stored again under a new number, so the staff's
    acknowledgement (naming the first) was refused. Now the cap is checked in the worker's tick only: the
    alarm's commit never thins, and a failed check is an outbox error the health report shows."""
    s = settings(tmp_path)
    conn = FlakyConn(connect(s.outbox_path))
    clock, sleeps, acked = Clock(), [], []
    box = Outbox(conn)  # type: ignore[arg-type]
    box.recover(clock.now, clock.now)
    gw = gateway(s, box, clock, sleeps)
    seqs = box.put_many([("reading", clock.now, clock.now, {"metric": "m", "values": {"v": i}}) for i in range(1000)])
    box.ack(seqs[:100])  # acknowledged by the server, deleted with the next batch (fewer than ACK_FLUSH_N yet)
    box.cap.max_bytes = box.used_bytes() - 1  # the outbox has reached its disk cap (server away for days)
    conn.fail_deletes = True  # the SD card fails the batched delete
    gw._next_tick = clock.now + 60  # no timer work in this step
    sos(gw, acked, 1)
    assert gw.loop.run_once()
    stored = [r[0] for r in on_disk(s.outbox_path, "SELECT seq FROM outbox WHERE lane_name = 'alarm' ORDER BY seq")]
    assert len(stored) == 1, f"one press, {len(stored)} alarms stored (seqs {stored}) after {len(sleeps)} retries"
    assert gw.counters["alarms_parked"] == 0 and gw.outlet.parked == [], "a stored alarm is not parked"
    assert box.cap.thinned == 0, "the alarm's commit did not thin"
    errors = gw.counters["outbox_errors"]
    gw.process(Tick())  # the tick checks the cap: the delete fails
    assert box.cap.errors == 1 and gw.counters["outbox_errors"] == errors + 1, "the failed check is seen"
    assert gw.outlet.open_alarms.holds(stored[0], "sos", clock.now), "staff's ack of it would say help is coming"
    conn.fail_deletes = False
    gw.process(Tick())  # the next tick thins
    assert box.cap.thinned > 0 and box.alarms()[0].seq == stored[0]
    box.close()


def test_readings_the_alarm_path_drops_with_a_failed_group_are_counted(tmp_path: Path) -> None:
    """outbox.py _insert -> _flush_buffer(strict=False): when the disk refuses, an alarm's insert drops the
    readings of every message held in the group, counts them only in Outbox.group.lost (read by nothing) and
    raises nothing; commit_held then finds the buffer empty, counts nothing and PUBACKs every message. On
    main each reading that could not be stored was counted in outbox_errors (outlet.forward)."""
    s = settings(tmp_path)
    conn = connect(s.outbox_path)
    clock, sleeps, acked = Clock(), [], []
    box = Outbox(conn)
    box.recover(clock.now, clock.now)
    gw = gateway(s, box, clock, sleeps)
    gw._next_tick = clock.now + 60  # no timer work in these steps
    fill(conn, box)  # the disk is full
    for mid in range(1, 6):
        reading(gw, acked, mid)
    sos(gw, acked, 6)
    for _ in range(6):
        assert gw.loop.run_once()
    free(conn)
    clock.now += 1
    assert gw.loop.run_once()  # queue empty: commit_held
    clock.now += 60
    assert gw.loop.run_once()  # the tick stores the parked alarm, then acknowledges the SOS message
    assert on_disk(
        s.outbox_path, "SELECT COUNT(*) FROM outbox WHERE lane_name = 'alarm' AND body LIKE '%\"sos\"%'"
    ) == [(1,)]
    assert on_disk(s.outbox_path, "SELECT COUNT(*) FROM outbox WHERE lane_name = 'reading'") == [(0,)]
    assert acked == [1, 2, 3, 4, 5, 6], "the readings' messages acknowledged, the SOS once its alarm is on disk"
    counted = gw.counters["outbox_errors"] - ALARM_ATTEMPTS  # the alarm's own failed attempts
    assert counted >= 5, (
        f"5 readings lost, {counted} counted (Outbox.group.lost={box.group.lost}, which nothing reports)"
    )
    box.close()


def test_a_failed_group_commit_counts_every_reading_it_drops(tmp_path: Path) -> None:
    """service.py commit_held: a group that cannot be committed counts one outbox_error for all its messages."""
    s = settings(tmp_path)
    conn = connect(s.outbox_path)
    clock, sleeps, acked = Clock(), [], []
    box = Outbox(conn)
    box.recover(clock.now, clock.now)
    gw = gateway(s, box, clock, sleeps)
    gw._next_tick = clock.now + 60  # no timer work in these steps
    fill(conn, box)
    for mid in range(1, 11):
        reading(gw, acked, mid)
    for _ in range(11):
        assert gw.loop.run_once()
    assert acked == list(range(1, 11)) and box.group.lost >= 10
    assert gw.counters["outbox_errors"] >= 10, f"10 readings lost, {gw.counters['outbox_errors']} counted"
    box.close()


def test_an_sos_whose_alarm_is_parked_is_not_acknowledged_to_the_home_broker(tmp_path: Path) -> None:
    """Pre-existing on main, kept by the group commit: the SOS message is PUBACKed although its alarm exists
    only in memory (outlet.parked); a kill -9 or a restart before the disk takes it loses the press for good
    (the home broker will not redeliver it, the SMS fallback reads alarms from the table)."""
    s = settings(tmp_path)
    conn = connect(s.outbox_path)
    clock, sleeps, acked = Clock(), [], []
    box = Outbox(conn)
    box.recover(clock.now, clock.now)
    gw = gateway(s, box, clock, sleeps)
    gw._next_tick = clock.now + 60  # no timer work in these steps
    fill(conn, box)
    reading(gw, acked, 1)
    sos(gw, acked, 2)
    for _ in range(3):
        assert gw.loop.run_once()
    assert gw.outlet.parked, "the disk refused the alarm: parked in memory"
    assert 2 not in acked, "the SOS message was acknowledged while its alarm is only in memory"
    box.close()


def test_readings_committed_by_a_write_outside_the_group_wake_the_uplink(tmp_path: Path) -> None:
    """service.py commit_held wakes the uplink only when its own flush() committed something; a meta write
    outside the group (the tick saving the open alarms, a rules push, supervision) commits the group's
    readings first and wakes nobody, so they wait for the uplink's next poll (1 s idle, up to 5 s with
    entries in flight)."""
    s = settings(tmp_path)
    conn = connect(s.outbox_path)
    clock, sleeps, acked = Clock(), [], []
    box = Outbox(conn)
    box.recover(clock.now, clock.now)
    wakes: list[float] = []
    gw = Gateway(
        s,
        Router(s),
        build_engine(),
        box,
        publish_local=lambda t, p: None,
        wake_uplink=lambda: wakes.append(clock.now),
        clock=clock,
        monotonic=clock,
        sleep=sleeps.append,
    )
    gw._next_tick = clock.now + 1.0
    sos(gw, acked, 1)
    assert gw.loop.run_once()  # the alarm is stored and sent; its open-alarms record is saved on the next tick
    reading(gw, acked, 2)
    assert gw.loop.run_once()  # the reading waits in the group
    woken = len(wakes)
    clock.now += 1.5  # the tick is due when the next message is taken
    send(gw, acked, 3, "anxin/home/gw-t/action", {"v": 1, "action": "led"})  # our own action, echoed back
    assert gw.loop.run_once()
    assert gw.loop.run_once()  # queue empty: commit_held
    assert acked == [1, 2, 3]
    assert on_disk(s.outbox_path, "SELECT COUNT(*) FROM outbox WHERE lane_name = 'reading'")[0][0] >= 1
    assert len(wakes) > woken, "the reading is on disk and sendable, but the uplink was not woken"
    box.close()


def test_a_reservation_the_disk_refused_is_not_taken_for_granted(tmp_path: Path) -> None:
    """Pre-existing (sequence.py allocate, which the branch touched): `_reserved` is raised in memory before
    the reservation's fsync'd COMMIT; when that COMMIT fails, later numbers are handed out beyond the block
    on disk without a new reservation. After a power cut that erases the newest NORMAL-synced rows,
    recovery resumes right after the rows that survived and hands out numbers the server has already
    seen: it takes the new events (an SOS among them) for duplicates and drops them."""
    path = tmp_path / "o.sqlite"
    conn = FlakyConn(connect(path))
    box = Outbox(conn)  # type: ignore[arg-type]
    box.recover(1.7e9)
    box._seq._block = 10  # a reservation every ten numbers instead of every 10,000
    sent = [box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9) for i in range(11)]  # 1..11
    conn.fail_reservation = True  # the card refuses the write that reserves 12..22
    with contextlib.suppress(OutboxError):
        box.put("reading", {"metric": "m", "values": {"v": 11}}, 1.7e9)
    sent += [box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9) for i in range(12, 21)]
    assert sent[-1] > 11, "numbers past the block on disk were handed out (and sent to the server)"
    # A power cut erases the newest NORMAL-synced rows (as in test_lost_rows_after_power_cut_cannot_cause_duplicates).
    conn.real.execute("DELETE FROM outbox WHERE seq > 15")
    conn.real.close()
    box = Outbox(connect(path))
    box.recover(1.7e9)
    nxt = box.put("reading", {"metric": "m", "values": {"v": 0}}, 1.7e9)
    assert nxt > max(sent), f"number {nxt} handed out again: the server already has it (sent up to {max(sent)})"
    box.close()


def test_what_a_failed_group_commit_lost_reaches_the_server_as_a_store_failed_gap(tmp_path: Path) -> None:
    """The numbers a refused group held will never be sent: once the disk takes writes again, the next tick
    stores a `store_failed` gap record naming exactly them, so the server's log says which and from when."""
    s = settings(tmp_path)
    conn = connect(s.outbox_path)
    clock, sleeps, acked = Clock(), [], []
    box = Outbox(conn)
    box.recover(clock.now, clock.now)
    gw = gateway(s, box, clock, sleeps)
    gw._next_tick = clock.now + 60  # no timer work in these steps
    fill(conn, box)
    before = {r[0] for r in on_disk(s.outbox_path, "SELECT seq FROM outbox")}
    for mid in range(1, 11):
        reading(gw, acked, mid)
    for _ in range(11):
        assert gw.loop.run_once()
    assert acked == list(range(1, 11)) and box.group.lost >= 10
    gw.process(Tick())  # the disk is still full: nothing stored, nothing forgotten
    assert on_disk(s.outbox_path, "SELECT COUNT(*) FROM outbox WHERE lane_name = 'gap'") == [(0,)]
    free(conn)
    gw.process(Tick())
    gaps = [json.loads(b) for (b,) in on_disk(s.outbox_path, "SELECT body FROM outbox WHERE lane_name = 'gap'")]
    assert len(gaps) == 1 and gaps[0]["reason"] == "store_failed"
    named = {n for a, b in gaps[0]["ranges"] for n in range(a, b + 1)}
    stored = {r[0] for r in on_disk(s.outbox_path, "SELECT seq FROM outbox")}
    # The group's readings, and also the single writes refused meanwhile (the filler's, the gap record's own).
    assert gaps[0]["count"] == len(named) >= box.group.lost and not named & stored and not named & before
    gw.process(Tick())
    assert on_disk(s.outbox_path, "SELECT COUNT(*) FROM outbox WHERE lane_name = 'gap'") == [(1,)], "reported once"
    box.close()


def test_the_numbers_of_a_single_write_the_disk_refused_reach_the_server_as_a_store_failed_gap(tmp_path: Path) -> None:
    """Review of issue 24: the `store_failed` gap record named only a refused group commit's numbers. A write
    outside a group (an event, an alarm — parked and stored again under a new number) that the disk refused
    had its numbers handed out all the same, and no record named them: the server's reliability page showed
    them as missing without explanation, as if the gateway had lost data it never will send."""
    s = settings(tmp_path)
    conn = connect(s.outbox_path)
    clock = Clock()
    box = Outbox(conn)
    box.recover(clock.now, clock.now)
    fill(conn, box)  # ends with single puts the disk refused
    free(conn)
    last = box.put("event", {"after": "the disk is free again"}, clock.now)
    box.report_refused(clock.now, clock.now)  # the next tick's call
    stored = {r[0] for r in on_disk(s.outbox_path, "SELECT seq FROM outbox")}
    gaps = [json.loads(b) for (b,) in on_disk(s.outbox_path, "SELECT body FROM outbox WHERE lane_name = 'gap'")]
    named = {n for g in gaps if g["reason"] == "store_failed" for a, b in g["ranges"] for n in range(a, b + 1)}
    unexplained = set(range(min(stored), last + 1)) - stored - named
    assert not unexplained, f"numbers neither stored nor named in a gap record: {sorted(unexplained)[:10]}"
    assert not named & stored
    box.close()
