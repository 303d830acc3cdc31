"""The outbox on a real SQLite file: lanes, sequence across restarts and crashes, the disk cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.outbox import Outbox
from gateway.outbox_acks import KEEP_RECENT
from gateway.outbox_db import connect, ranges
from gateway.sequence import SEQ_BLOCK


def reading(i: int) -> dict:
    return {
        "device": "bpm",
        "metric": "blood_pressure",
        "values": {"systolic": 120 + i % 40, "diastolic": 80},
        "pad": "x" * 200,
    }


def put_ticking(box: Outbox, body: dict, ts: float) -> int:
    """Store a reading, then run the worker tick's disk-cap check (it thins only when due)."""
    seq = box.put("reading", body, ts)
    box.enforce_cap(ts)
    return seq


def open_box(path: Path, **kw) -> Outbox:
    box = Outbox(connect(path), **kw)
    box.recover(1.7e9, 1.0)
    return box


def test_wal_mode_and_alarm_fsync(tmp_path):
    box = open_box(tmp_path / "o.sqlite")
    assert box._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    box.put_alarm({"type": "sos"}, 1.7e9)
    # An alarm's transaction leaves synchronous at FULL (2): it was fsync'd on commit.
    assert box._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    box.put("reading", reading(0), 1.7e9)
    assert box._conn.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_alarms_come_before_readings_whatever_the_order_stored(tmp_path):
    box = open_box(tmp_path / "o.sqlite")
    for i in range(50):
        box.put("reading", reading(i), 1.7e9 + i)
    a1 = box.put_alarm({"type": "sos"}, 1.7e9 + 60)
    box.put("event", {"device": "door", "kind": "door_open"}, 1.7e9 + 61)
    a2 = box.put_alarm({"type": "fall"}, 1.7e9 + 62)
    first = box.pending(3)
    assert [e.seq for e in first[:2]] == [a1, a2]
    assert first[2].lane == "event"
    assert all(e.lane == "reading" for e in box.pending(100)[3:])


def test_sequence_continues_after_clean_restart(tmp_path):
    path = tmp_path / "o.sqlite"
    box = open_box(path)
    seqs = [box.put("reading", reading(i), 1.7e9) for i in range(5)]
    box.ack(seqs)  # everything acknowledged: the table is empty
    box.close()
    box = open_box(path)
    assert box.put("reading", reading(9), 1.7e9) == seqs[-1] + 1
    assert box.count("gap") == 0


def test_unclean_stop_never_reuses_a_number_and_reports_the_skip(tmp_path):
    path = tmp_path / "o.sqlite"
    box = open_box(path)
    used = [box.put("reading", reading(i), 1.7e9) for i in range(5)]
    box.ack(used)
    box._conn.close()  # no close(): as after kill -9 or a power cut
    box = open_box(path)
    gap = box.pending(10)[0]
    assert gap.lane == "gap" and gap.body["reason"] == "unclean_restart"
    assert gap.body["ranges"] == [[used[-1] + 1, used[0] + SEQ_BLOCK]]  # the whole reserved block
    nxt = box.put("reading", reading(0), 1.7e9)
    assert nxt > gap.seq > used[-1]
    assert nxt == gap.body["ranges"][0][1] + 2  # the gap record itself took the first fresh number


def test_lost_rows_after_power_cut_cannot_cause_duplicates(tmp_path):
    """Simulate a power cut that erased the last NORMAL-synced rows and their seq_high update."""
    path = tmp_path / "o.sqlite"
    box = open_box(path)
    for i in range(10):
        box.put("reading", reading(i), 1.7e9)
    box._conn.execute("DELETE FROM outbox WHERE seq > 4")
    box._conn.execute("UPDATE meta SET value = '4' WHERE key = 'seq_high'")
    box._conn.close()
    box = open_box(path)
    assert box.put("reading", reading(0), 1.7e9) > 10, "a number the server may have seen was handed out again"


def test_disk_cap_thins_oldest_readings_keeps_alarms_and_records_gap(tmp_path):
    box = open_box(tmp_path / "o.sqlite", max_bytes=300_000, check_every=50)
    alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    seqs = [put_ticking(box, reading(i), 1.7e9 + i) for i in range(3000)]
    assert box.used_bytes() <= 300_000 + 50 * 400
    assert box.cap.thinned > 0
    left = {e.seq for e in box.pending(10_000) if e.lane == "reading"}
    gaps = [e.body for e in box.pending(10_000) if e.lane == "gap"]
    assert alarm in {e.seq for e in box.alarms()}
    thinned = {s for g in gaps for a, b in g["ranges"] for s in range(a, b + 1)}
    assert sum(g["count"] for g in gaps) == len(thinned) == box.cap.thinned
    # Every reading is either still queued or accounted for by a gap record; the oldest went first.
    assert left | thinned == set(seqs) and not left & thinned
    assert max(thinned) < min(left)


def test_the_disk_cap_thins_waiting_readings_before_those_the_uplink_has_in_flight(tmp_path):
    """A reading in flight may already be committed at the server: thinning it would send a gap record for a
    reading the doctors have (found by tests/faults' disk-cap test: the link came back, the cap check that
    was due ran, and thinned the batch on its way). What waits goes first; in flight only as a last resort."""
    box = open_box(tmp_path / "o.sqlite", max_bytes=300_000, check_every=50)
    seqs = [box.put("reading", reading(i), 1.7e9 + i) for i in range(3000)]
    flying = frozenset(seqs[:500])
    box.in_flight = lambda: flying
    assert box.enforce_cap(1.7e9 + 3000)
    gaps = [e.body for e in box.pending(10_000) if e.lane == "gap"]
    thinned = {s for g in gaps for a, b in g["ranges"] for s in range(a, b + 1)}
    assert thinned and not thinned & flying, "nothing in flight is thinned while waiting readings remain"
    assert min(thinned) == seqs[500], "the oldest waiting reading goes first"
    assert box.used_bytes() <= 300_000

    last = open_box(tmp_path / "last.sqlite", max_bytes=300_000, check_every=50)
    every = [last.put("reading", reading(i), 1.7e9 + i) for i in range(3000)]
    last.in_flight = lambda: frozenset(every)  # a stuck link: everything is in flight
    assert last.enforce_cap(1.7e9 + 3000)
    assert last.cap.thinned > 0 and last.used_bytes() <= 300_000, "the cap holds: the card must not fill"


def test_annotate_and_ack(tmp_path):
    box = open_box(tmp_path / "o.sqlite")
    a = box.put_alarm({"type": "sos"}, 1.7e9)
    assert box.annotate(a, "sms", {"delivered_to": ["+86138"]})
    assert box.alarms()[0].body["sms"] == {"delivered_to": ["+86138"]}
    assert box.ack([a, 999]) == 1
    assert not box.annotate(a, "sms", {})


def test_ranges():
    assert ranges([5, 1, 2, 3, 7, 8]) == [[1, 3], [5, 5], [7, 8]]
    assert ranges([]) == []


def test_broken_database_is_an_outbox_error(tmp_path):
    from gateway.errors import OutboxError

    path = tmp_path / "o.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(OutboxError):
        connect(path)


def test_acks_are_deleted_in_batches_and_a_crash_only_means_resending(tmp_path):
    path = tmp_path / "o.sqlite"
    box = open_box(path)
    seqs = [box.put("reading", reading(i), 1.7e9) for i in range(10)]
    assert box.ack(seqs[:4]) == 4 and box.ack(seqs[:4]) == 0
    assert [e.seq for e in box.pending(100)] == seqs[4:], "acknowledged entries are never sent again"
    on_disk = box._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert on_disk == 10, "deletes wait for a batch"
    box._conn.close()  # power cut before the batch was written
    box = open_box(path)
    assert [e.seq for e in box.pending(100) if e.lane == "reading"] == seqs, "resent; the server dedupes"
    box.ack(seqs)
    assert box.count("reading") == 0
    more = [box.put("reading", reading(i), 1.7e9) for i in range(KEEP_RECENT + 50)]
    box.ack(more)
    box.flush_acks(force=True)
    left = {r[0] for r in box._conn.execute("SELECT seq FROM outbox WHERE lane_name = 'reading'")}
    assert left == set(more[-KEEP_RECENT:]), "only the newest acknowledged rows are kept (redelivery checks)"
    assert box.count("reading") == 0


def test_redelivered_message_stores_only_what_the_first_delivery_did_not(tmp_path):
    box = open_box(tmp_path / "o.sqlite")
    with box.source("7:abc"):
        r = box.put("reading", reading(1), 1.7e9)
        e = box.put("event", {"device": "b", "kind": "sos"}, 1.7e9)
    box.ack([r, e])  # delivered, but the home broker never got our PUBACK: it redelivers
    with box.source("7:abc", replay=True):
        assert box.put("reading", reading(1), 1.7e9) == 0
        assert box.put("event", {"device": "b", "kind": "sos"}, 1.7e9) == 0
        a = box.put_alarm({"type": "sos"}, 1.7e9)  # the first delivery died before storing this
    assert [x.seq for x in box.pending(10)] == [a]
    assert box.sources.skipped == 2
    with box.source("8:def", replay=True):  # a redelivery of something never stored: all of it
        assert box.put("reading", reading(2), 1.7e9) > a


def table_view(box: Outbox) -> dict[str, list[int]]:
    """Lane -> unacknowledged sequence numbers, read from the table itself."""
    acked = box.table.acked
    view: dict[str, list[int]] = {}
    for seq, lane in box._conn.execute("SELECT seq, lane_name FROM outbox ORDER BY seq"):
        if seq not in acked:
            view.setdefault(lane, []).append(seq)
    return view


def test_the_in_memory_index_matches_the_table_also_after_a_restart(tmp_path):
    path = tmp_path / "o.sqlite"
    box = open_box(path, max_bytes=200_000, check_every=50)
    alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    seqs = [put_ticking(box, reading(i), 1.7e9 + i) for i in range(1500)]  # past the cap: thinned
    box.put("event", {"device": "door", "kind": "door_open"}, 1.7e9)
    box.ack([alarm, *seqs[-700:-600], seqs[-3]])
    assert box.cap.thinned > 0
    assert box.index_snapshot() == table_view(box)
    assert box.count() == sum(len(v) for v in table_view(box).values())
    box._conn.close()  # kill -9: the index is rebuilt from the table (acked-but-not-deleted rows come back)
    box = open_box(path)
    assert box.index_snapshot() == table_view(box)
    order = {"alarm": 0, "event": 1, "gap": 1, "reading": 2}
    table_order = sorted((order[lane], s) for lane, ss in table_view(box).items() for s in ss)
    assert [e.seq for e in box.pending(10_000)] == [s for _, s in table_order]
    box.close()
    box = open_box(path)
    assert box.index_snapshot() == table_view(box)


def test_sending_order_comes_from_the_index_without_rereading_what_is_in_flight(tmp_path):
    box = open_box(tmp_path / "o.sqlite")
    readings = [box.put("reading", reading(i), 1.7e9) for i in range(20)]
    event = box.put("event", {"device": "door", "kind": "door_open"}, 1.7e9)
    alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    assert [s for _, s in box.waiting(3, {})] == [alarm, event, readings[0]]
    # Above a cursor per lane order, alarms excluded: what the uplink has not sent on its link.
    assert box.waiting(3, {0: 2**62, 1: event, 2: readings[9]}) == [(2, s) for s in readings[10:13]]
    box.ack(readings[10:12])
    assert [s for _, s in box.waiting(2, {0: 2**62, 1: event, 2: readings[9]})] == readings[12:14]
    assert [e.seq for e in box.entries([readings[13], readings[10], 10**6])] == [readings[13]], "acked or absent"


def test_pragma_synchronous_is_switched_only_when_the_level_changes(tmp_path):
    box = open_box(tmp_path / "o.sqlite")
    statements: list[str] = []
    box._conn.set_trace_callback(statements.append)
    for i in range(10):
        box.put("reading", reading(i), 1.7e9)
    box.put_alarm({"type": "sos"}, 1.7e9)
    box.put("reading", reading(0), 1.7e9)
    assert [s for s in statements if s.startswith("PRAGMA synchronous")] == [
        "PRAGMA synchronous=NORMAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA synchronous=NORMAL",
    ]
    assert not [s for s in statements if "COUNT(" in s.upper()]


def test_a_redelivery_after_a_restart_is_recognised_from_the_table_without_counting_rows(tmp_path):
    path = tmp_path / "o.sqlite"
    box = open_box(path)
    with box.source("7:abc"):
        box.put("reading", reading(1), 1.7e9)
        box.put("event", {"device": "b", "kind": "sos"}, 1.7e9)
    box._conn.close()  # killed before the PUBACK: the home broker redelivers with the DUP flag
    box = open_box(path)
    statements: list[str] = []
    box._conn.set_trace_callback(statements.append)
    with box.source("7:abc", replay=True):
        assert box.put("reading", reading(1), 1.7e9) == 0
        assert box.put("event", {"device": "b", "kind": "sos"}, 1.7e9) == 0
        a = box.put_alarm({"type": "sos"}, 1.7e9)
    assert box.sources.skipped == 2 and a in {e.seq for e in box.alarms()}
    assert not [s for s in statements if "COUNT(" in s.upper()], "no COUNT(*) per local message"


def test_a_first_send_comes_from_memory_and_a_resend_from_the_table(tmp_path):
    box = open_box(tmp_path / "o.sqlite", max_bytes=150_000, check_every=50)
    first = box.put("reading", reading(1), 1.7e9)
    statements: list[str] = []
    box._conn.set_trace_callback(statements.append)
    sent = box.entries([first])
    assert sent[0].body == reading(1) and not [s for s in statements if s.startswith("SELECT")]
    again = box.entries([first])
    assert again == sent and [s for s in statements if s.startswith("SELECT")], "a resend reads the table"
    alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    box.annotate(alarm, "sms", {"delivered_to": ["+86138"]})
    assert box.entries([alarm])[0].body["sms"] == {"delivered_to": ["+86138"]}, "alarms always from the table"
    more = [put_ticking(box, reading(i), 1.7e9) for i in range(1000)]  # past the cap: the oldest are thinned
    assert box.cap.thinned > 0
    waiting = set(box.index_snapshot()["reading"])
    assert {e.seq for e in box.entries(more)} == waiting & set(more), "thinned ones are not served from memory"


def test_an_alarms_commit_never_thins_the_tick_does_and_never_thins_alarms(tmp_path):
    box = open_box(tmp_path / "o.sqlite", max_bytes=100_000, check_every=50)
    readings = box.put_many([("reading", 1.7e9 + i, None, reading(i)) for i in range(1000)])
    assert box.used_bytes() > 100_000, "past the cap"
    alarms = [box.put_alarm({"type": "sos", "n": i}, 1.7e9) for i in range(60)]
    assert box.cap.thinned == 0 and box.count("reading") == len(readings), "the alarms' commits did not thin"
    assert box.enforce_cap(1.7e9 + 2000)
    assert box.cap.thinned > 0 and box.used_bytes() <= 100_000
    assert {e.seq for e in box.alarms()} == set(alarms), "alarms are never thinned"
    gaps = [e.body for e in box.pending(10_000) if e.lane == "gap"]
    assert sum(g["count"] for g in gaps) == box.cap.thinned == len(readings) - box.count("reading")
