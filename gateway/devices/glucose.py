"""Blood-glucose meters: Glucose Measurement (0x2A18) and Glucose Measurement Context (0x2A34), every
field and flag per the Bluetooth SIG GATT Specification Supplement and the Glucose Service 1.0."""

from __future__ import annotations

from datetime import timedelta, tzinfo
from typing import Any

from gateway.devices import vitals
from gateway.devices.gatt import Cursor, expect_length, names, number, optional
from gateway.errors import ImplausibleReading
from gateway.model import Reading

MEASUREMENT, CONTEXT = 0x2A18, 0x2A34

# Glucose Measurement flags
TIME_OFFSET, CONCENTRATION, MOL_PER_L, SENSOR_STATUS, CONTEXT_FOLLOWS = 0x01, 0x02, 0x04, 0x08, 0x10

TYPES = {
    1: "capillary_whole_blood",
    2: "capillary_plasma",
    3: "venous_whole_blood",
    4: "venous_plasma",
    5: "arterial_whole_blood",
    6: "arterial_plasma",
    7: "undetermined_whole_blood",
    8: "undetermined_plasma",
    9: "interstitial_fluid",
    10: "control_solution",
}
LOCATIONS = {1: "finger", 2: "alternate_site", 3: "earlobe", 4: "control_solution", 15: "not_available"}

# Sensor Status Annunciation: the meter's own verdict on the result.
STATUS = {
    0: "device_battery_low",
    1: "sensor_malfunction",
    2: "sample_size_insufficient",
    3: "strip_insertion_error",
    4: "strip_type_incorrect",
    5: "result_above_range",
    6: "result_below_range",
    7: "sensor_temperature_high",
    8: "sensor_temperature_low",
    9: "sensor_read_interrupted",
    10: "general_device_fault",
    11: "time_fault",
}
# Bits that mean there is no valid result at all (the rest travel with the reading as quality flags).
INVALID = frozenset(
    {
        "sensor_malfunction",
        "sample_size_insufficient",
        "strip_insertion_error",
        "strip_type_incorrect",
        "sensor_read_interrupted",
        "general_device_fault",
    }
)

# Glucose Measurement Context flags
CARBOHYDRATE, MEAL, TESTER_HEALTH, EXERCISE, MEDICATION, MEDICATION_LITRES, HBA1C, EXTENDED = (
    0x01,
    0x02,
    0x04,
    0x08,
    0x10,
    0x20,
    0x40,
    0x80,
)
CARBOHYDRATES = {1: "breakfast", 2: "lunch", 3: "dinner", 4: "snack", 5: "drink", 6: "supper", 7: "brunch"}
MEALS = dict(enumerate(vitals.MEALS, start=1))  # 1 preprandial, 2 postprandial, 3 fasting, 4 casual, 5 bedtime
TESTERS = {1: "self", 2: "health_care_professional", 3: "lab_test", 15: "not_available"}
HEALTH = {
    1: "minor_health_issues",
    2: "major_health_issues",
    3: "during_menses",
    4: "under_stress",
    5: "no_health_issues",
    15: "not_available",
}
MEDICATIONS = {
    1: "rapid_acting_insulin",
    2: "short_acting_insulin",
    3: "intermediate_acting_insulin",
    4: "long_acting_insulin",
    5: "premixed_insulin",
}
EXERCISE_OVERRUN = 0xFFFF


def _code(table: dict[int, str], raw: int) -> str:
    return table.get(raw, "reserved")


def measurement(device: str, value: bytes, tz: tzinfo) -> Reading:
    """The checked glucose reading in one 0x2A18 value (mmol/L whatever the meter sent); raises ParseError."""
    flags = value[0] if value else 0
    expect_length(value, flags, {TIME_OFFSET: 2, CONCENTRATION: 3, SENSOR_STATUS: 2}, 10, "glucose measurement")
    cur = Cursor(value, 1)
    sequence, base = cur.uint(2), cur.date_time(tz)
    offset = cur.sint16() if flags & TIME_OFFSET else 0
    raw, type_location = (cur.sfloat(), cur.uint(1)) if flags & CONCENTRATION else (None, 0)
    status = names(cur.uint(2), STATUS) if flags & SENSOR_STATUS else []
    if bad := sorted(INVALID.intersection(status)):
        raise ImplausibleReading(f"glucose measurement {sequence}: the meter reports {', '.join(bad)}")
    if raw is None:
        raise ImplausibleReading(f"glucose measurement {sequence} carries no concentration")
    sample, location = _code(TYPES, type_location & 0x0F), _code(LOCATIONS, type_location >> 4)
    detail: dict[str, Any] = {
        "sequence": sequence,
        "sample_type": sample,
        "sample_location": location,
        "source_unit": "mol/L" if flags & MOL_PER_L else "kg/L",
    }
    if sample == "control_solution" or location == "control_solution":
        raise ImplausibleReading(f"glucose measurement {sequence} is a control-solution test, not the resident's")
    concentration = number("glucose", raw)
    mmol_l = concentration * 1000.0 if flags & MOL_PER_L else vitals.mg_dl_to_mmol_l(concentration * 100_000.0)
    if base is None:
        detail["time"] = "unknown"
    ts = base + timedelta(minutes=offset) if base is not None else None
    flag_set = set(status) | ({"context_follows"} if flags & CONTEXT_FOLLOWS else set())
    return vitals.glucose(device, mmol_l, ts, flag_set, detail, sequence)


def context(device: str, value: bytes) -> Reading:
    """The context of a glucose measurement (0x2A34), paired with it by sequence number; raises ParseError."""
    flags = value[0] if value else 0
    sizes = {EXTENDED: 1, CARBOHYDRATE: 3, MEAL: 1, TESTER_HEALTH: 1, EXERCISE: 3, MEDICATION: 3, HBA1C: 2}
    expect_length(value, flags, sizes, 3, "glucose context")
    cur = Cursor(value, 1)
    sequence = cur.uint(2)
    detail: dict[str, Any] = {"sequence": sequence}
    values: dict[str, float | None] = {"sequence": float(sequence)}
    out_flags: set[str] = set()
    if flags & EXTENDED:
        detail["extended_flags"] = cur.uint(1)  # reserved for future use by the specification
    if flags & CARBOHYDRATE:
        detail["carbohydrate"] = _code(CARBOHYDRATES, cur.uint(1))
        carbs = optional(cur.sfloat())
        values["carbohydrate_g"] = None if carbs is None else carbs * 1000.0  # sent in kilograms
    if flags & MEAL:
        meal = _code(MEALS, cur.uint(1))
        detail["meal"] = meal
        if meal in vitals.MEALS:
            out_flags.add(meal)
    if flags & TESTER_HEALTH:
        th = cur.uint(1)
        detail.update(tester=_code(TESTERS, th & 0x0F), health=_code(HEALTH, th >> 4))
    if flags & EXERCISE:
        duration, intensity = cur.uint(2), cur.uint(1)
        detail["exercise_duration"] = "overrun" if duration == EXERCISE_OVERRUN else duration
        values["exercise_duration_s"] = None if duration == EXERCISE_OVERRUN else float(duration)
        values["exercise_intensity_pct"] = float(intensity)
    if flags & MEDICATION:
        detail["medication"] = _code(MEDICATIONS, cur.uint(1))
        dose, litres = optional(cur.sfloat()), bool(flags & MEDICATION_LITRES)
        detail["medication_unit"] = "l" if litres else "kg"
        # kilograms -> mg; litres -> ml (insulin is dosed by volume of 100 IU/ml solution)
        values["medication_ml" if litres else "medication_mg"] = (
            None if dose is None else dose * 1_000.0 * (1.0 if litres else 1_000.0)
        )
    if flags & HBA1C:
        values["hba1c_pct"] = optional(cur.sfloat())
    return Reading(
        device,
        vitals.GLUCOSE_CONTEXT,
        {k: round(v, 3) for k, v in values.items() if v is not None},
        None,
        frozenset(out_flags),
        detail,
    )
