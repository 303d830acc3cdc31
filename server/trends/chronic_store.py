"""Reads glucose (with its meal context), SpO2 and weight readings for the chronic-condition figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Reading
from server.trends.chronic import CONTEXTS, Row

METRICS = {"glucose": "glucose_mmol_l", "spo2": "spo2", "weight": "weight_kg", "body_temperature": "temperature_c"}
GLUCOSE_CONTEXT = "glucose_context"
EXPORT_METRICS = ("glucose", "spo2", "weight", "body_temperature")


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _context(flags: Sequence[object]) -> str | None:
    return next((str(f) for f in flags if f in CONTEXTS), None)


def load(
    session: Session, resident_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, dict[str, list[Row]]]:
    """Per resident and metric, (epoch s, value, context) rows in time order; a glucose reading's context is
    its own meal flag, else the meal of the context record with its device and sequence number."""
    columns = (Reading.resident_id, Reading.device, Reading.metric, Reading.ts, Reading.values, Reading.flags)
    q = (
        select(*columns)
        .where(
            Reading.resident_id.in_(resident_ids),
            Reading.metric.in_(list(METRICS)),
            Reading.ts >= since,
            Reading.ts < until,
        )
        .order_by(Reading.resident_id, Reading.ts)
    )
    rows = session.execute(q).all()
    # A context record carries no time of its own (stored at its arrival): any one that came after the
    # period began may belong to a measurement in it.
    contexts = session.execute(
        select(*columns).where(
            Reading.resident_id.in_(resident_ids), Reading.metric == GLUCOSE_CONTEXT, Reading.ts >= since
        )
    )
    meals: dict[tuple[int, str, float], str] = {}
    for rid, device, _metric, _ts, values, flags in contexts:
        if isinstance(values.get("sequence"), (int, float)) and (meal := _context(flags or [])) is not None:
            meals[(rid, device, float(values["sequence"]))] = meal
    out: dict[int, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for rid, device, metric, ts, values, flags in rows:
        key = METRICS.get(metric)
        value = values.get(key) if key else None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        flags = list(flags or [])
        if metric == "glucose":
            seq = values.get("sequence")
            context = _context(flags) or (meals.get((rid, device, float(seq))) if seq is not None else None)
            tag = context or "other"
        else:
            tag = "continuous" if "continuous" in flags else ""
        out[rid][metric].append((_epoch(ts), float(value), tag))
    return out


def export_rows(session: Session, resident_id: int, since: datetime, until: datetime) -> list[Reading]:
    """Full glucose, SpO2, weight and temperature records for exports, oldest first."""
    q = (
        select(Reading)
        .where(
            Reading.resident_id == resident_id,
            Reading.metric.in_(EXPORT_METRICS),
            Reading.ts >= since,
            Reading.ts < until,
        )
        .order_by(Reading.ts)
    )
    return [r for r in session.scalars(q) if isinstance(r.values.get(METRICS[r.metric]), (int, float))]
