"""Health devices through the gateway worker (no broker): resent memories stored once, rejected values
counted with their reason, context and continuous recordings forwarded as they come."""

from __future__ import annotations

from datetime import UTC, datetime

from firmware_sim.health_devices import (
    GLUCOSE,
    PLX_CONTINUOUS,
    WEIGHT,
    GlucoseSample,
    OximeterSample,
    Weighing,
    gatt_frame,
)
from gateway.devices import ble_gatt
from gateway.items import DeviceMessages
from tests.unit.gateway.worker import bodies, home  # noqa: F401  (the fixture)


def test_a_glucose_meter_resending_its_memory_is_stored_once(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    stream = ble_gatt.stream("glucometer", UTC)
    memory = [GlucoseSample(i, 5.0 + i, datetime(2026, 11, 28, 7, i), meal="fasting", mg_dl=False) for i in range(3)]
    for _ in range(2):  # the second time: the meter reconnected and sends everything again
        for m in memory:
            ctx = m.context()
            assert ctx is not None
            gw.process(DeviceMessages(stream.feed(gatt_frame(GLUCOSE, m.measurement()) + gatt_frame(0x2A34, ctx))))
    readings = bodies(outbox, "reading")
    glucose = [r for r in readings if r["metric"] == "glucose"]
    assert [r["values"]["glucose_mmol_l"] for r in glucose] == [5.0, 6.0, 7.0]
    assert glucose[0]["measured_at"] == "2026-11-28T07:00:00+00:00"
    assert gw.counters["duplicate_measurements"] == 3
    contexts = [r for r in readings if r["metric"] == "glucose_context"]
    assert {r["values"]["sequence"] for r in contexts} == {0.0, 1.0, 2.0} and contexts[0]["flags"] == ["fasting"]


def test_a_scale_weighing_twice_the_same_is_two_readings_but_a_resend_is_one(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    stream = ble_gatt.stream("scale", UTC)
    first = Weighing(70.0, datetime(2026, 11, 28, 7, 0))
    again = Weighing(70.0, datetime(2026, 11, 29, 7, 0))
    for w in (first, first, again):
        gw.process(DeviceMessages(stream.feed(gatt_frame(WEIGHT, w.measurement()))))
    assert [r["measured_at"] for r in bodies(outbox, "reading")] == [
        "2026-11-28T07:00:00+00:00",
        "2026-11-29T07:00:00+00:00",
    ]


def test_a_continuous_oximeter_is_never_taken_for_a_resend(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    stream = ble_gatt.stream("oximeter", UTC)
    for _ in range(3):  # the same numbers three seconds running are three seconds of recording
        gw.process(DeviceMessages(stream.feed(gatt_frame(PLX_CONTINUOUS, OximeterSample(89, 80).continuous()))))
    assert [r["values"]["spo2"] for r in bodies(outbox, "reading")] == [89.0, 89.0, 89.0]


def test_a_meter_rejected_value_is_counted_with_its_reason(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    stream = ble_gatt.stream("glucometer", UTC)
    control = bytearray(GlucoseSample(9, 6.0, datetime(2026, 11, 28, 7, 0)).measurement())
    control[-1] = 0x4A  # control solution
    gw.process(DeviceMessages(stream.feed(gatt_frame(GLUCOSE, bytes(control)))))
    assert stream.counters["implausible_readings"] == 1 and "control-solution" in (stream.last_error or "")
    assert bodies(outbox, "reading") == []
