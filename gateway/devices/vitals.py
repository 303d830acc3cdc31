"""Glucose, oxygen saturation, weight and body temperature, whatever carried them: units, plausibility
with a reason, and the typed reading (SI / clinical units: mmol/L, %, /min, kg, kg/m², m, °C)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from gateway.devices import bp
from gateway.errors import ImplausibleReading
from gateway.model import Reading

GLUCOSE, GLUCOSE_CONTEXT, SPO2, WEIGHT, TEMPERATURE = "glucose", "glucose_context", "spo2", "weight", "body_temperature"

GLUCOSE_MOLAR_MASS = 180.156  # g/mol: mg/dL ÷ 18.0156 = mmol/L
LB_TO_KG = 0.45359237
INCH_TO_M = 0.0254

# Physiological limits; outside them a value is a measurement error, not a patient state.
GLUCOSE_RANGE = (0.5, 45.0)  # mmol/L; meters read about 0.6-33.3 and flag results beyond their range
SPO2_RANGE = (50.0, 100.0)  # %
WEIGHT_RANGE = (10.0, 300.0)  # kg
BMI_RANGE = (8.0, 80.0)  # kg/m²
HEIGHT_RANGE = (0.8, 2.5)  # m
TEMPERATURE_RANGE = (30.0, 45.0)  # °C, body

# What a reading's context can say about a glucose sample (stored with it as a flag).
MEALS = ("before_meal", "after_meal", "fasting", "casual", "bedtime")


def mg_dl_to_mmol_l(mg_dl: float) -> float:
    """Glucose mass concentration (mg/dL) as molar concentration (mmol/L)."""
    return mg_dl * 10.0 / GLUCOSE_MOLAR_MASS


def fahrenheit_to_celsius(f: float) -> float:
    """°F -> °C."""
    return (f - 32.0) * 5.0 / 9.0


def check(name: str, value: float, bounds: tuple[float, float], unit: str) -> float:
    """The value when it lies within the bounds; ImplausibleReading with the reason otherwise."""
    if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise ImplausibleReading(f"{name} {value:g} {unit} outside {bounds[0]:g}-{bounds[1]:g}")
    return value


def _reading(
    device: str,
    metric: str,
    values: Mapping[str, float | None],
    ts: datetime | None,
    flags: Iterable[str],
    detail: Mapping[str, Any],
    digits: int,
) -> Reading:
    out = {k: round(v, digits) for k, v in values.items() if v is not None}
    return Reading(device, metric, out, ts, frozenset(flags), dict(detail))


def glucose(
    device: str,
    mmol_l: float,
    ts: datetime | None,
    flags: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
    sequence: int | None = None,
) -> Reading:
    """A checked glucose reading in mmol/L (0.01); the meter's sequence number pairs it with its context."""
    check("glucose", mmol_l, GLUCOSE_RANGE, "mmol/L")
    values: dict[str, float | None] = {"glucose_mmol_l": mmol_l}
    if sequence is not None:
        values["sequence"] = float(sequence)
    return _reading(device, GLUCOSE, values, ts, flags, detail or {}, 2)


def spo2(
    device: str,
    saturation: float,
    pulse: float | None,
    ts: datetime | None,
    flags: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
    extra: Mapping[str, float | None] | None = None,
) -> Reading:
    """A checked oxygen-saturation reading: SpO2 in %, pulse rate in /min, any further quantities."""
    check("SpO2", saturation, SPO2_RANGE, "%")
    if pulse is not None:
        check("pulse", pulse, bp.PULSE, "/min")
    return _reading(device, SPO2, {"spo2": saturation, "pulse": pulse, **(extra or {})}, ts, flags, detail or {}, 1)


def weight(
    device: str,
    kg: float,
    ts: datetime | None,
    bmi: float | None = None,
    height_m: float | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Reading:
    """A checked body-weight reading in kg (0.001), with BMI and height when the scale sent them."""
    check("weight", kg, WEIGHT_RANGE, "kg")
    if bmi is not None:
        check("BMI", bmi, BMI_RANGE, "kg/m²")
    if height_m is not None:
        check("height", height_m, HEIGHT_RANGE, "m")
    return _reading(device, WEIGHT, {"weight_kg": kg, "bmi": bmi, "height_m": height_m}, ts, (), detail or {}, 3)


def temperature(device: str, celsius: float, ts: datetime | None, detail: Mapping[str, Any] | None = None) -> Reading:
    """A checked body-temperature reading in °C (0.01)."""
    check("temperature", celsius, TEMPERATURE_RANGE, "°C")
    return _reading(device, TEMPERATURE, {"temperature_c": celsius}, ts, (), detail or {}, 2)
