"""Property-based fuzzing: arbitrary bytes and JSON never raise anything but the gateway's ParseError."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.serial_devices import BpMeasurement
from gateway.config import DeviceConfig
from gateway.devices import ble_bpm, native, rflink, slip, zigbee2mqtt
from gateway.devices.ble_bpm import BpmStream
from gateway.devices.rflink import RflinkStream
from gateway.errors import ParseError
from gateway.model import DeviceEvent, EventKind, Reading
from gateway.supervision import LOCAL_BROKER, Supervisor

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# Objects that look like device messages: known keys with arbitrary values, so parsers get past "is it JSON".
known_keys = st.sampled_from(
    [
        "v",
        "type",
        "action",
        "state",
        "systolic",
        "diastolic",
        "pulse",
        "unit",
        "flags",
        "measured_at",
        "ts",
        "t0",
        "rate_hz",
        "samples",
        "battery",
        "battery_low",
        "motion",
        "open",
        "temperature",
        "humidity",
        "sos",
        "fall_down_status",
        "status",
        "occupancy",
        "contact",
        "linkquality",
        "tamper",
        "confidence",
        "uptime_s",
        "rssi",
        "map",
    ]
)
device_like = st.dictionaries(known_keys, json_values, max_size=8).map(lambda d: {"v": 1, **d} if "v" not in d else d)
Z2M_DEV = DeviceConfig(name="d", family="zigbee2mqtt", role="sos_button", model="HS1EB")
NATIVE_DEV = DeviceConfig(name="d", family="native", role="motion")


def only_parse_errors(fn, *args) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ParseError):
        fn(*args)


@FUZZ
@given(st.binary(max_size=64))
def test_characteristic_values(value: bytes) -> None:
    only_parse_errors(ble_bpm.decode_value, "bpm", value)


@FUZZ
@given(st.integers(0, 0xFFFF))
def test_every_sfloat_decodes(raw: int) -> None:
    v = ble_bpm.sfloat(raw)
    assert (v.special is None) == (raw & 0x0FFF not in ble_bpm.SPECIAL)


@FUZZ
@given(st.binary(max_size=600))
def test_slip_and_bpm_stream_take_any_bytes(data: bytes) -> None:
    stream = BpmStream("bpm")
    stream.feed(data)
    assert stream.framer._buf.__len__() <= slip.MAX_FRAME


@FUZZ
@given(
    st.lists(st.tuples(st.integers(60, 250), st.integers(0, 59)), min_size=1, max_size=8),
    st.lists(st.binary(max_size=20), max_size=8),
    st.data(),
)
def test_every_valid_frame_is_decoded_exactly_once(measurements, garbage, data) -> None:  # type: ignore[no-untyped-def]
    """Frames interleaved with arbitrary garbage and cut anywhere: each valid frame comes out once, in order."""
    frames = [BpMeasurement(s, 40, None, None, datetime(2026, 1, 1, 0, m)).frame() for s, m in measurements]
    stream_bytes = b""
    for i, frame in enumerate(frames):
        noise = garbage[i] if i < len(garbage) else b""
        stream_bytes += noise + frame
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream_bytes)), max_size=10)))
    stream = BpmStream("bpm")
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(stream_bytes)], strict=False):
        got += stream.feed(stream_bytes[a:b])
    assert [(r.values["systolic"], r.ts) for r in got] == [
        (float(s), datetime(2026, 1, 1, 0, m, tzinfo=got[0].ts.tzinfo)) for s, m in measurements
    ]


@FUZZ
@given(st.text(max_size=200))
def test_rflink_lines(line: str) -> None:
    only_parse_errors(rflink.parse_line, line)


@FUZZ
@given(st.binary(max_size=300), st.floats(0, 1e6))
def test_rflink_stream_takes_any_bytes(data: bytes, now: float) -> None:
    RflinkStream([DeviceConfig(name="p", family="rflink", role="door", options={"protocol": "X", "id": "1"})]).feed(
        data, now
    )


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            ["20", "3A", "EV1527", "ID=1", "SWITCH=01", "CMD=ON", "TEMP=zz", "HUM=x", "BAT=LOW", "", "=", "ID"]
        ),
        max_size=7,
    )
)
def test_rflink_packets_from_plausible_pieces(parts: list[str]) -> None:
    line = ";".join(parts) + ";"
    dev = DeviceConfig(name="p", family="rflink", role="door", options={"protocol": "EV1527", "id": "1"})
    try:
        packet = rflink.parse_line(line)
        if packet is not None:
            rflink.to_messages(packet, dev)
    except ParseError:
        pass


@FUZZ
@given(
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | device_like.map(lambda d: json.dumps(d).encode())
)
def test_zigbee2mqtt_payloads(payload: bytes) -> None:
    for topic in (
        "zigbee2mqtt/d",
        "zigbee2mqtt/d/availability",
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge/event",
    ):
        only_parse_errors(zigbee2mqtt.parse, topic, payload, Z2M_DEV)


@FUZZ
@given(
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | device_like.map(lambda d: json.dumps(d).encode()),
    st.sampled_from(sorted(native.TYPES)),
)
def test_native_payloads(payload: bytes, kind: str) -> None:
    only_parse_errors(native.parse, "anxin/dev/d", payload, NATIVE_DEV)
    try:
        doc = json.loads(payload)
    except ValueError:
        return
    if isinstance(doc, dict):
        only_parse_errors(native.parse, "anxin/dev/d", json.dumps({**doc, "v": 1, "type": kind}).encode(), NATIVE_DEV)


@FUZZ
@given(st.text(max_size=60))
def test_arbitrary_topics(topic: str) -> None:
    only_parse_errors(zigbee2mqtt.parse, topic, b"{}", Z2M_DEV)
    only_parse_errors(native.parse, topic, b"{}", NATIVE_DEV)


inputs = st.one_of(
    st.tuples(st.just("msg"), st.sampled_from(["a", "b", "x"]), st.sampled_from(list(EventKind))),
    st.tuples(st.just("status"), st.sampled_from(["a", "b"]), st.integers(0, 100)),
    st.tuples(st.just("bridge"), st.just(LOCAL_BROKER), st.booleans()),
    st.tuples(st.just("tick"), st.none(), st.none()),
)


@FUZZ
@given(st.lists(st.tuples(inputs, st.floats(0, 4000)), max_size=40))
def test_supervision_transitions_alternate(steps) -> None:  # type: ignore[no-untyped-def]
    """Whatever happens, a device's offline/online (and battery low/ok) events strictly alternate."""
    sup = Supervisor(
        [
            DeviceConfig(name="a", family="native", role="m", report_interval_s=60),
            DeviceConfig(name="b", family="zigbee2mqtt", role="sos_button", report_interval_s=600),
        ]
    )
    state, now, last = sup.initial(0.0), 0.0, {}
    for (what, name, arg), dt in steps:
        now += dt
        if what == "msg":
            state, ev = sup.observe(state, DeviceEvent(name, arg), now)
        elif what == "status":
            state, ev = sup.observe(state, Reading(name, "device_status", {"battery": float(arg)}), now)
        elif what == "bridge":
            state, ev = sup.bridge(state, name, arg, now)
        else:
            state, ev = sup.tick(state, now)
        for e in ev:
            pair = {
                "device_offline": "online",
                "device_online": "online",
                "battery_low": "battery",
                "battery_ok": "battery",
                "bridge_offline": "bridge",
                "bridge_online": "bridge",
            }.get(e.kind.value)
            if pair:
                assert last.get((e.device, pair)) != e.kind, f"{e.kind} twice in a row for {e.device}"
                last[(e.device, pair)] = e.kind
