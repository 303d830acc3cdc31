"""FHIR R4 export: a collection Bundle of Observations (LOINC, UCUM) for one resident — blood pressure, pulse,
glucose, SpO2, weight, BMI and body temperature — and a MedicationAdministration per medication reminder
confirmed or missed at home (docs/home.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from server.db.models import Reading, Resident
from server.db.models_reminders import ReminderOutcome

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    ],
    "text": "Vital Signs",
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
GLUCOSE = ("14743-9", "Glucose [Moles/volume] in Capillary blood by Glucometer")
SPO2 = ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
SPO2_VITAL = ("2708-6", "Oxygen saturation in Arterial blood")  # the FHIR vital-signs profile's code
BODY_WEIGHT = ("29463-7", "Body weight")
BMI = ("39156-5", "Body mass index (BMI) [Ratio]")
BODY_TEMPERATURE = ("8310-5", "Body temperature")
# metric -> (LOINC concepts, value key, unit, UCUM code); the first concept names the Observation.
SINGLE: dict[str, tuple[tuple[tuple[str, str], ...], str, str, str]] = {
    "glucose": ((GLUCOSE,), "glucose_mmol_l", "mmol/L", "mmol/L"),
    "spo2": ((SPO2_VITAL, SPO2), "spo2", "%", "%"),
    "weight": ((BODY_WEIGHT,), "weight_kg", "kg", "kg"),
    "body_temperature": ((BODY_TEMPERATURE,), "temperature_c", "°C", "Cel"),
}
# Stable ids: exporting the same reading twice gives the same fullUrl, so receivers can de-duplicate.
NAMESPACE = uuid.UUID("5b0c7e1e-8a63-4f0e-9d38-6d2f3e0a9a11")


def _concept(code: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]}


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": float(value), "unit": unit, "system": UCUM, "code": code}


def _urn(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


def _when(ts: datetime) -> str:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def patient(resident: Resident) -> dict[str, Any]:
    """The resident as a minimal Patient (identifier and name only: the export is for their doctor)."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:anxin:resident", "value": resident.code}],
        "name": [{"text": resident.name}],
    }


def _base(reading: Reading, kind: str, code: tuple[str, str], subject: str) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [CATEGORY],
        "code": _concept(code),
        "identifier": [{"system": "urn:anxin:reading", "value": f"{reading.id}/{kind}"}],
        "subject": {"reference": subject},
        "effectiveDateTime": _when(reading.ts),
        "device": {"display": f"{reading.gateway_id}/{reading.device}"},
    }
    if reading.flags:
        obs["note"] = [{"text": "monitor flags: " + ", ".join(sorted(map(str, reading.flags)))}]
    return obs


def _single(reading: Reading, subject: str) -> list[dict[str, Any]]:
    codes, key, unit, ucum = SINGLE[reading.metric]
    obs = _base(reading, reading.metric, codes[0], subject)
    obs["code"] = {"coding": [{"system": LOINC, "code": c, "display": d} for c, d in codes], "text": codes[-1][1]}
    obs["valueQuantity"] = _quantity(reading.values[key], unit, ucum)
    if reading.metric == "glucose":
        obs["category"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Laboratory",
                    }
                ],
                "text": "Laboratory",
            }
        ]
    out = [obs]
    extra = {"spo2": ("pulse", HEART_RATE, "beats/minute", "/min"), "weight": ("bmi", BMI, "kg/m2", "kg/m2")}
    if reading.metric in extra and isinstance(reading.values.get(extra[reading.metric][0]), (int, float)):
        k, code, unit2, ucum2 = extra[reading.metric]
        second = _base(reading, f"{reading.metric}/{k}", code, subject)
        second["valueQuantity"] = _quantity(reading.values[k], unit2, ucum2)
        out.append(second)
    return out


def observations(reading: Reading, subject: str) -> list[dict[str, Any]]:
    """A blood-pressure panel and, when the monitor measured it, a heart-rate Observation; one Observation
    (and pulse or BMI beside it) for glucose, SpO2, weight and body temperature."""
    if reading.metric in SINGLE:
        return _single(reading, subject)
    v = reading.values
    bp = _base(reading, "bp", BP_PANEL, subject)
    bp["component"] = [
        {"code": _concept(SYSTOLIC), "valueQuantity": _quantity(v["systolic"], "mmHg", "mm[Hg]")},
        {"code": _concept(DIASTOLIC), "valueQuantity": _quantity(v["diastolic"], "mmHg", "mm[Hg]")},
    ]
    out = [bp]
    if isinstance(v.get("pulse"), (int, float)):
        hr = _base(reading, "hr", HEART_RATE, subject)
        hr["valueQuantity"] = _quantity(v["pulse"], "beats/minute", "/min")
        out.append(hr)
    return out


def administration(outcome: ReminderOutcome, subject: str) -> dict[str, Any]:
    """A medication reminder's occurrence: `completed` when the resident confirmed it, else `not-done`."""
    done = outcome.outcome == "confirmed"
    how = (
        f"confirmed at home ({outcome.confirmed_by or 'button'}) after {outcome.said} spoken reminder(s)"
        if done
        else f"not confirmed after {outcome.said} spoken reminders"
    )
    doc: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "status": "completed" if done else "not-done",
        "identifier": [{"system": "urn:anxin:reminder-outcome", "value": f"{outcome.gateway_id}/{outcome.seq}"}],
        "medicationCodeableConcept": {"text": outcome.what},
        "subject": {"reference": subject},
        "effectiveDateTime": _when(outcome.due_at),
        "note": [{"text": how}],
    }
    if not done:
        doc["statusReason"] = [{"text": "no confirmation from the resident"}]
    return doc


def bundle(
    resident: Resident, readings: Iterable[Reading], now: datetime, outcomes: Iterable[ReminderOutcome] = ()
) -> dict[str, Any]:
    """A `collection` Bundle: the Patient first, then every reading's Observations, oldest first, then the
    medication reminders' administrations (measurement reminders are their readings' Observations)."""
    subject = _urn("patient", resident.code)
    entries: list[dict[str, Any]] = [{"fullUrl": subject, "resource": patient(resident)}]
    for r in readings:
        for obs in observations(r, subject):
            entries.append({"fullUrl": _urn("observation", obs["identifier"][0]["value"]), "resource": obs})
    for o in outcomes:
        if o.kind == "medication":
            entries.append(
                {"fullUrl": _urn("administration", f"{o.gateway_id}/{o.seq}"), "resource": administration(o, subject)}
            )
    return {"resourceType": "Bundle", "type": "collection", "timestamp": _when(now), "entry": entries}
