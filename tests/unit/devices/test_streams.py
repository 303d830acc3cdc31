"""Serial byte streams fed directly: partial frames, garbage, bad CRCs, resets, pendant repeats."""

from __future__ import annotations

from datetime import datetime

from firmware_sim.serial_devices import BpMeasurement
from gateway.config import DeviceConfig
from gateway.devices import slip
from gateway.devices.ble_bpm import BpmStream
from gateway.devices.rflink import RflinkStream
from gateway.model import EventKind


def _m(systolic: float, minute: int = 0) -> BpMeasurement:
    return BpMeasurement(systolic, 80, None, 70, datetime(2026, 11, 28, 7, minute))


def test_crc_is_ccitt_false() -> None:
    assert slip.crc16(b"123456789") == 0x29B1


def test_frame_split_byte_by_byte_decodes_once() -> None:
    stream = BpmStream("bpm")
    frame = _m(131).frame()
    got = [r for b in frame for r in stream.feed(bytes([b]))]
    assert [r.values["systolic"] for r in got] == [131.0]


def test_escaped_bytes_survive_framing() -> None:
    # 0xC0 / 0xDB inside the value must be escaped and restored: systolic 192 is 0x00C0 little-endian.
    m = BpMeasurement(192, 110, None, None, None, user_id=0xDB)
    assert bytes([slip.END]) in m.encode() and bytes([slip.ESC]) in m.encode()
    got = BpmStream("bpm").feed(m.frame())
    assert got[0].values["systolic"] == 192.0 and got[0].detail["user_id"] == 0xDB


def test_garbage_and_bad_crc_are_counted_and_skipped() -> None:
    stream = BpmStream("bpm")
    value = _m(140).encode()
    bad = slip.encode(value + ((slip.crc16(value) ^ 1).to_bytes(2, "big")))
    data = b"\x00\x01noise" + _m(121).frame() + bad + b"\xdb\x55junk\xc0" + _m(122, 1).frame() + b"\xff" * 400
    got = stream.feed(data) + stream.feed(_m(123, 2).frame())
    assert [r.values["systolic"] for r in got] == [121.0, 122.0, 123.0]
    assert stream.counters["bad_frames"] == 2  # the leading noise and the flipped CRC
    assert stream.framer.counters["bad_escapes"] == 1 and stream.framer.counters["oversized_frames"] == 1


def test_implausible_reading_is_counted_with_its_reason() -> None:
    stream = BpmStream("bpm")
    assert stream.feed(BpMeasurement(80, 95).frame()) == []
    assert stream.counters["implausible_readings"] == 1
    assert "not above diastolic" in (stream.last_error or "")


def test_reset_drops_the_half_frame_of_an_unplugged_port() -> None:
    stream = BpmStream("bpm")
    frame = _m(150).frame()
    assert stream.feed(frame[: len(frame) // 2]) == []
    stream.reset()
    got = stream.feed(frame[len(frame) // 2 :] + _m(151).frame())
    assert [r.values["systolic"] for r in got] == [151.0]


PENDANT = DeviceConfig(
    name="pendant", family="rflink", role="sos_button", options={"protocol": "EV1527", "id": "0a2b3c", "switch": "01"}
)
DOOR = DeviceConfig(
    name="door", family="rflink", role="door", options={"protocol": "NewKaku", "id": "c142", "switch": 1}
)


def test_repeated_transmissions_of_one_press_count_once() -> None:
    stream = RflinkStream([PENDANT, DOOR], repeat_window_s=3.0)
    line = b"20;3A;EV1527;ID=0a2b3c;SWITCH=01;CMD=ON;\r\n"
    first = stream.feed(line * 4, now=100.0)
    later = stream.feed(line, now=101.5)  # still the same press: the pendant keeps repeating
    again = stream.feed(line, now=106.0)  # a new press after a quiet gap
    assert [e.kind for e in first] == [EventKind.SOS] and later == [] and [e.kind for e in again] == [EventKind.SOS]
    assert stream.counters["repeats"] == 4


def test_ids_match_regardless_of_case_and_leading_zeros() -> None:
    stream = RflinkStream([DOOR])
    got = stream.feed(b"20;01;NewKaku;ID=00C142;SWITCH=01;CMD=ON;\n20;02;NewKaku;ID=00c142;SWITCH=1;CMD=OFF;\n", 5.0)
    assert [(e.device, e.kind) for e in got] == [("door", EventKind.DOOR_OPEN), ("door", EventKind.DOOR_CLOSED)]


def test_lines_split_across_reads_and_overlong_lines() -> None:
    stream = RflinkStream([PENDANT])
    assert stream.feed(b"20;3A;EV15", 1.0) == []
    got = stream.feed(b"27;ID=0a2b3c;SWITCH=01;CMD=ON;\r", 1.1) + stream.feed(b"\n" + b"x" * 2000 + b"\n", 1.2)
    assert [e.kind for e in got] == [EventKind.SOS]
    assert stream.framer.counters["oversized_lines"] == 1
