"""Health-device characteristics and the `ble-gatt` bridge stream under arbitrary input: only ParseError, and
every valid frame among garbage and cuts comes out exactly once, in order."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.health_devices import GLUCOSE, PLX_SPOT, GlucoseSample, OximeterSample, gatt_frame
from gateway.devices import ble_gatt, gatt, slip
from gateway.errors import ParseError
from gateway.model import Reading

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.sampled_from(sorted(ble_gatt.FORMATS)), st.binary(max_size=40))
def test_any_bytes_give_a_reading_or_a_parse_error(fmt: str, value: bytes) -> None:
    try:
        out = ble_gatt.decode_value(fmt, "dev", value)
    except ParseError:
        return
    assert len(out) == 1 and isinstance(out[0], Reading)


@FUZZ
@given(st.sampled_from(sorted(ble_gatt.FORMATS)), st.integers(0, 0xFF), st.binary(min_size=2, max_size=30))
def test_values_with_plausible_flags_give_a_reading_or_a_parse_error(fmt: str, flags: int, rest: bytes) -> None:
    with contextlib.suppress(ParseError):
        ble_gatt.decode_value(fmt, "dev", bytes([flags]) + rest)


@FUZZ
@given(st.integers(0, 0xFFFFFFFF))
def test_every_float32_decodes(raw: int) -> None:
    v = gatt.float32(raw)
    assert (v.special is None) == (raw & 0xFFFFFF not in gatt.FLOAT_SPECIAL)


@FUZZ
@given(st.binary(max_size=600))
def test_the_bridge_stream_takes_any_bytes(data: bytes) -> None:
    s = ble_gatt.stream("meter")
    s.feed(data)
    assert len(s.framer._buf) <= slip.MAX_FRAME


@FUZZ
@given(
    st.lists(st.tuples(st.integers(20, 300), st.integers(0, 59)), min_size=1, max_size=8),
    st.lists(st.binary(max_size=20), max_size=8),
    st.data(),
)
def test_every_valid_glucose_frame_is_decoded_exactly_once(samples, garbage, data) -> None:  # type: ignore[no-untyped-def]
    frames = []
    for i, (tenths, minute) in enumerate(samples):
        m = GlucoseSample(i, tenths / 10, datetime(2026, 1, 1, 0, minute), mg_dl=False)
        frames.append(gatt_frame(GLUCOSE, m.measurement()))
    stream_bytes = b"".join((garbage[i] if i < len(garbage) else b"") + f for i, f in enumerate(frames))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream_bytes)), max_size=10)))
    s = ble_gatt.stream("meter", UTC)
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(stream_bytes)], strict=False):
        got += s.feed(stream_bytes[a:b])
    assert [(r.values["glucose_mmol_l"], r.values["sequence"]) for r in got] == [
        (t / 10, float(i)) for i, (t, _m) in enumerate(samples)
    ]


def test_one_bridge_carries_measurement_and_context_and_other_devices() -> None:
    s = ble_gatt.stream("meter", UTC)
    sample = GlucoseSample(7, 3.2, datetime(2026, 1, 1, 6, 0), meal="fasting")  # sent as 58 mg/dL = 3.22
    ctx = sample.context()
    assert ctx is not None
    data = (
        gatt_frame(GLUCOSE, sample.measurement())
        + gatt_frame(0x2A34, ctx)
        + gatt_frame(PLX_SPOT, OximeterSample(93, 70).spot_check())
        + gatt_frame(0x2A00, b"\x01\x02\x03")
    )
    out = s.feed(data)
    assert [(r.metric, r.values.get("sequence")) for r in out] == [
        ("glucose", 7.0),
        ("glucose_context", 7.0),
        ("spo2", None),
    ]
    assert out[0].values["glucose_mmol_l"] == 3.22 and "context_follows" in out[0].flags
    assert out[1].flags == frozenset({"fasting"})
    assert s.counters["parse_errors"] == 1 and "0x2A00" in (s.last_error or "")
