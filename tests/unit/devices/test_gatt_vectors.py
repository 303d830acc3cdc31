"""Every flag combination of each health characteristic, built byte by byte from the Bluetooth SIG tables
(GATT Specification Supplement) written out here — not from the gateway's parsers — and decoded by them."""

from __future__ import annotations

import itertools
import struct
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.decode import Decoder, message_json
from gateway.errors import ImplausibleReading, ParseError

TZ = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 28, 8, 30, 0, tzinfo=TZ)
DATE_TIME = struct.pack("<HBBBBB", 2026, 11, 28, 8, 30, 0)  # Date Time: year, month, day, h, m, s


def sfloat(mantissa: int, exponent: int) -> bytes:
    """IEEE-11073 SFLOAT: 4-bit exponent over a 12-bit mantissa, both two's complement, little-endian."""
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0xFFF))


def float32(mantissa: int, exponent: int) -> bytes:
    """IEEE-11073 FLOAT: 8-bit exponent over a 24-bit mantissa."""
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def decode(fmt: str, value: bytes) -> dict:
    out = Decoder(fmt, timezone_name="Asia/Shanghai").decode(value.hex())
    assert len(out) == 1
    return message_json(out[0])


def combos(bits: int) -> list[int]:
    return [sum(1 << b for b, on in enumerate(c) if on) for c in itertools.product((0, 1), repeat=bits)]


# --- Glucose Measurement 0x2A18 -------------------------------------------------------------------
# flags: b0 time offset, b1 concentration + type/location, b2 units (0 kg/L, 1 mol/L), b3 sensor status,
# b4 context follows. Fields: flags u8, sequence u16, base time 7, [offset s16 min], [SFLOAT, type|loc<<4],
# [status u16].
@pytest.mark.parametrize("flags", combos(5))
def test_glucose_measurement_every_flag_combination(flags: int) -> None:
    value = bytes([flags]) + struct.pack("<H", 42) + DATE_TIME
    if flags & 0x01:
        value += struct.pack("<h", -10)
    if flags & 0x02:
        # 110 mg/dL = 0.00110 kg/L = 110e-5; or 6.1 mmol/L = 0.0061 mol/L = 61e-4
        value += (sfloat(61, -4) if flags & 0x04 else sfloat(110, -5)) + bytes([(1 << 4) | 1])  # finger, capillary WB
    if flags & 0x08:
        value += struct.pack("<H", 0x0001 | 0x0800)  # battery low, time fault
    if not flags & 0x02:
        with pytest.raises(ImplausibleReading, match="carries no concentration"):
            decode("ble-glucose", value)
        return
    got = decode("ble-glucose", value)
    assert got["metric"] == "glucose"
    assert got["values"]["glucose_mmol_l"] == (6.1 if flags & 0x04 else 6.11)  # 110 / 18.0156 = 6.106
    assert got["values"]["sequence"] == 42
    assert got["measured_at"] == (WHEN - timedelta(minutes=10 if flags & 0x01 else 0)).isoformat()
    assert got["detail"]["source_unit"] == ("mol/L" if flags & 0x04 else "kg/L")
    assert (got["detail"]["sample_type"], got["detail"]["sample_location"]) == ("capillary_whole_blood", "finger")
    expected = ({"device_battery_low", "time_fault"} if flags & 0x08 else set()) | (
        {"context_follows"} if flags & 0x10 else set()
    )
    assert set(got["flags"]) == expected


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (0x0002, "sensor_malfunction"),
        (0x0004, "sample_size_insufficient"),
        (0x0008, "strip_insertion_error"),
        (0x0010, "strip_type_incorrect"),
        (0x0200, "sensor_read_interrupted"),
        (0x0400, "general_device_fault"),
    ],
)
def test_a_glucose_result_the_meter_disowns_is_rejected_with_its_reason(status: int, reason: str) -> None:
    value = bytes([0x0A]) + struct.pack("<H", 7) + DATE_TIME + sfloat(110, -5) + b"\x11" + struct.pack("<H", status)
    with pytest.raises(ImplausibleReading, match=reason):
        decode("ble-glucose", value)


def test_a_low_reading_beyond_the_meters_range_is_kept_with_its_flag() -> None:
    value = bytes([0x0A]) + struct.pack("<H", 8) + DATE_TIME + sfloat(20, -5) + b"\x11" + struct.pack("<H", 0x0040)
    got = decode("ble-glucose", value)  # "LO" on the meter: 20 mg/dL or less is the most urgent reading there is
    assert got["values"]["glucose_mmol_l"] == 1.11 and got["flags"] == ["result_below_range"]


@pytest.mark.parametrize(("type_location", "what"), [(0x1A, "control-solution"), (0x41, "control-solution")])
def test_control_solution_tests_are_not_the_residents_glucose(type_location: int, what: str) -> None:
    value = bytes([0x02]) + struct.pack("<H", 9) + DATE_TIME + sfloat(110, -5) + bytes([type_location])
    with pytest.raises(ImplausibleReading, match=what):
        decode("ble-glucose", value)


# --- Glucose Measurement Context 0x2A34 -----------------------------------------------------------
# flags: b0 carbohydrate id + carbohydrate (kg), b1 meal, b2 tester-health, b3 exercise duration (s) +
# intensity (%), b4 medication id + medication, b5 medication units (0 kg, 1 litre), b6 HbA1c, b7 extended
# flags. Order: flags, sequence, [extended], [carb], [meal], [tester-health], [exercise], [medication], [HbA1c].
@pytest.mark.parametrize("flags", combos(8))
def test_glucose_context_every_flag_combination(flags: int) -> None:
    value = bytes([flags]) + struct.pack("<H", 42)
    if flags & 0x80:
        value += b"\x00"
    if flags & 0x01:
        value += b"\x01" + sfloat(45, -3)  # breakfast, 0.045 kg = 45 g
    if flags & 0x02:
        value += b"\x03"  # fasting
    if flags & 0x04:
        value += bytes([(5 << 4) | 1])  # no health issues, self
    if flags & 0x08:
        value += struct.pack("<HB", 1800, 60)
    if flags & 0x10:
        value += b"\x04" + (sfloat(10, -5) if flags & 0x20 else sfloat(5, -6))  # long-acting insulin 0.1 ml / 5 mg
    if flags & 0x40:
        value += sfloat(72, -1)  # 7.2 %
    got = decode("ble-glucose-context", value)
    assert got["metric"] == "glucose_context" and got["values"]["sequence"] == 42
    v, d = got["values"], got["detail"]
    assert (v.get("carbohydrate_g"), d.get("carbohydrate")) == ((45.0, "breakfast") if flags & 0x01 else (None, None))
    assert got["flags"] == (["fasting"] if flags & 0x02 else [])
    assert (d.get("tester"), d.get("health")) == (("self", "no_health_issues") if flags & 0x04 else (None, None))
    assert (v.get("exercise_duration_s"), v.get("exercise_intensity_pct")) == (
        (1800.0, 60.0) if flags & 0x08 else (None, None)
    )
    if flags & 0x10:
        assert d["medication"] == "long_acting_insulin"
        assert (v.get("medication_ml"), v.get("medication_mg")) == ((0.1, None) if flags & 0x20 else (None, 5.0))
    else:
        assert "medication" not in d and "medication_ml" not in v and "medication_mg" not in v
    assert v.get("hba1c_pct") == (7.2 if flags & 0x40 else None)


@pytest.mark.parametrize(
    ("meal", "flag"), [(1, "before_meal"), (2, "after_meal"), (3, "fasting"), (4, "casual"), (5, "bedtime")]
)
def test_every_meal_code(meal: int, flag: str) -> None:
    assert decode("ble-glucose-context", bytes([0x02, 1, 0, meal]))["flags"] == [flag]


# --- PLX Spot-Check 0x2A5E ------------------------------------------------------------------------
# flags: b0 timestamp, b1 measurement status, b2 device and sensor status (u24), b3 pulse amplitude index,
# b4 device clock not set. Fields: flags, SpO2 SFLOAT, PR SFLOAT, [timestamp 7], [u16], [u24], [PAI SFLOAT].
@pytest.mark.parametrize("flags", combos(5))
def test_plx_spot_check_every_flag_combination(flags: int) -> None:
    value = bytes([flags]) + sfloat(94, 0) + sfloat(72, 0)
    if flags & 0x01:
        value += DATE_TIME
    if flags & 0x02:
        value += struct.pack("<H", 1 << 7)  # validated data
    if flags & 0x04:
        value += (1 << 5).to_bytes(3, "little")  # low perfusion
    if flags & 0x08:
        value += sfloat(35, -1)  # 3.5 %
    got = decode("ble-plx-spot", value)
    assert got["metric"] == "spo2"
    assert (got["values"]["spo2"], got["values"]["pulse"]) == (94.0, 72.0)
    assert got["values"].get("pulse_amplitude_index") == (3.5 if flags & 0x08 else None)
    timed = flags & 0x01 and not flags & 0x10
    assert got["measured_at"] == (WHEN.isoformat() if timed else None)
    assert set(got["flags"]) == ({"validated"} if flags & 0x02 else set()) | (
        {"low_perfusion"} if flags & 0x04 else set()
    )


@pytest.mark.parametrize(
    ("status", "device_status", "reason"),
    [
        (1 << 15, 0, "invalid_measurement"),
        (1 << 13, 0, "measurement_unavailable"),
        (1 << 10, 0, "demonstration_data"),
        (1 << 11, 0, "testing_data"),
        (0, 1 << 11, "sensor_unconnected"),
        (0, 1 << 15, "sensor_disconnected"),
        (0, 1 << 1, "equipment_malfunction"),
    ],
)
def test_an_oximeter_reading_it_disowns_is_rejected_with_its_reason(
    status: int, device_status: int, reason: str
) -> None:
    value = (
        bytes([0x06]) + sfloat(94, 0) + sfloat(72, 0) + struct.pack("<H", status) + device_status.to_bytes(3, "little")
    )
    with pytest.raises(ImplausibleReading, match=reason):
        decode("ble-plx-spot", value)


def test_no_finger_nan_saturation_is_an_error_not_a_reading() -> None:
    with pytest.raises(ImplausibleReading, match="SpO2 is NaN"):
        decode("ble-plx-spot", bytes([0]) + struct.pack("<HH", 0x07FF, 0x07FF))


# --- PLX Continuous 0x2A5F ------------------------------------------------------------------------
# flags: b0 SpO2PR-Fast, b1 SpO2PR-Slow, b2 measurement status, b3 device and sensor status, b4 PAI.
# Fields: flags, SpO2PR-Normal (2 SFLOAT), [Fast], [Slow], [u16], [u24], [PAI].
@pytest.mark.parametrize("flags", combos(5))
def test_plx_continuous_every_flag_combination(flags: int) -> None:
    value = bytes([flags]) + sfloat(88, 0) + sfloat(90, 0)
    if flags & 0x01:
        value += sfloat(87, 0) + sfloat(92, 0)
    if flags & 0x02:
        value += sfloat(89, 0) + sfloat(88, 0)
    if flags & 0x04:
        value += struct.pack("<H", 1 << 14)  # questionable measurement
    if flags & 0x08:
        value += (1 << 13).to_bytes(3, "little")  # sensor displaced
    if flags & 0x10:
        value += sfloat(12, -1)
    got = decode("ble-plx-continuous", value)
    v = got["values"]
    assert (v["spo2"], v["pulse"]) == (88.0, 90.0)
    assert (v.get("spo2_fast"), v.get("pulse_fast")) == ((87.0, 92.0) if flags & 0x01 else (None, None))
    assert (v.get("spo2_slow"), v.get("pulse_slow")) == ((89.0, 88.0) if flags & 0x02 else (None, None))
    assert v.get("pulse_amplitude_index") == (1.2 if flags & 0x10 else None)
    assert set(got["flags"]) == {"continuous"} | ({"questionable_measurement"} if flags & 0x04 else set()) | (
        {"sensor_displaced"} if flags & 0x08 else set()
    )


# --- Weight Measurement 0x2A9D --------------------------------------------------------------------
# flags: b0 units (0 SI: kg 0.005, m 0.001; 1 imperial: lb 0.01, inch 0.1), b1 time stamp, b2 user id,
# b3 BMI (0.1 kg/m²) and height. Fields: flags, weight u16, [time 7], [user u8], [BMI u16, height u16].
@pytest.mark.parametrize("flags", combos(4))
def test_weight_every_flag_combination(flags: int) -> None:
    imperial = flags & 0x01
    value = bytes([flags]) + struct.pack("<H", 15432 if imperial else 14000)  # 154.32 lb / 70.000 kg
    if flags & 0x02:
        value += DATE_TIME
    if flags & 0x04:
        value += b"\x03"
    if flags & 0x08:
        value += struct.pack("<HH", 241, 671 if imperial else 1704)  # BMI 24.1; 67.1 in / 1.704 m
    got = decode("ble-weight", value)
    v = got["values"]
    assert v["weight_kg"] == (69.998 if imperial else 70.0)  # 154.32 lb × 0.45359237 = 69.9984 kg
    assert got["measured_at"] == (WHEN.isoformat() if flags & 0x02 else None)
    assert got["detail"].get("user_id") == (3 if flags & 0x04 else None)
    assert got["detail"]["source_unit"] == ("lb" if imperial else "kg")
    if flags & 0x08:
        assert v["bmi"] == 24.1 and v["height_m"] == 1.704  # 67.1 in × 0.0254 = 1.70434 m
    else:
        assert "bmi" not in v and "height_m" not in v


def test_an_unsuccessful_weighing_is_an_error() -> None:
    with pytest.raises(ImplausibleReading, match="unsuccessful"):
        decode("ble-weight", bytes([0]) + b"\xff\xff")


# --- Temperature Measurement 0x2A1C ---------------------------------------------------------------
# flags: b0 units (0 °C, 1 °F), b1 time stamp, b2 temperature type. Fields: flags, FLOAT, [time 7], [type u8].
@pytest.mark.parametrize("flags", combos(3))
def test_temperature_every_flag_combination(flags: int) -> None:
    value = bytes([flags]) + (float32(986, -1) if flags & 0x01 else float32(370, -1))  # 98.6 °F / 37.0 °C
    if flags & 0x02:
        value += DATE_TIME
    if flags & 0x04:
        value += b"\x01"  # armpit
    got = decode("ble-temperature", value)
    assert got["metric"] == "body_temperature" and got["values"]["temperature_c"] == 37.0
    assert got["measured_at"] == (WHEN.isoformat() if flags & 0x02 else None)
    assert got["detail"].get("site") == ("armpit" if flags & 0x04 else None)
    assert got["detail"]["source_unit"] == ("°F" if flags & 0x01 else "°C")


@pytest.mark.parametrize(
    ("mantissa", "name"),
    [(0x7FFFFF, "NaN"), (0x800000, "NRes"), (0x7FFFFE, r"\+INF"), (0x800002, "-INF"), (0x800001, "reserved")],
)
def test_special_float_values_are_errors_with_their_name(mantissa: int, name: str) -> None:
    with pytest.raises(ImplausibleReading, match=f"temperature is {name}"):
        decode("ble-temperature", bytes([0]) + struct.pack("<I", mantissa))


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        ("ble-glucose", "02 0100"),
        ("ble-plx-spot", "01 5e00 4800"),
        ("ble-weight", "02 1027"),
        ("ble-temperature", "04 72010000"),
        ("ble-plx-continuous", "01 5e00 4800"),
        ("ble-glucose-context", "02 0100"),
    ],
)
def test_a_value_shorter_than_its_flags_announce_is_a_parse_error(fmt: str, value: str) -> None:
    with pytest.raises(ParseError, match="announce"):
        Decoder(fmt).decode(value)


@pytest.mark.parametrize(
    ("fmt", "value", "reason"),
    [
        (
            "ble-glucose",
            bytes([0x02, 1, 0]) + DATE_TIME + sfloat(50, -3) + b"\x11",
            "glucose 277.5[0-9]* mmol/L outside 0.5-45",
        ),
        ("ble-plx-spot", bytes([0]) + sfloat(30, 0) + sfloat(72, 0), "SpO2 30 % outside 50-100"),
        ("ble-plx-spot", bytes([0]) + sfloat(95, 0) + sfloat(400, 0), "pulse 400 /min outside 25-250"),
        ("ble-weight", bytes([0]) + struct.pack("<H", 1000), "weight 5 kg outside 10-300"),
        ("ble-temperature", bytes([0]) + float32(250, -1), "temperature 25 °C outside 30-45"),
    ],
)
def test_implausible_values_are_rejected_with_the_reason(fmt: str, value: bytes, reason: str) -> None:
    with pytest.raises(ImplausibleReading, match=reason):
        decode(fmt, value)
