"""Mirrors committed readings to InfluxDB 2 through influxdb-client's batching write API, counting every line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import WriteApi, WriteOptions
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import Reading
from server.errors import ServerError
from server.settings import INFLUX_BATCH_SIZE, INFLUX_FLUSH_INTERVAL_MS

log = logging.getLogger(__name__)


MEAL_CONTEXTS = ("fasting", "before_meal", "after_meal", "bedtime", "casual")


class TimeseriesError(ServerError):
    """The mirror was used before start() or after close()."""


@dataclass(frozen=True)
class InfluxTarget:
    """Where and how to write (from ANXIN_INFLUX_* settings)."""

    url: str
    token: str
    org: str
    bucket: str
    batch_size: int = INFLUX_BATCH_SIZE
    flush_interval_ms: int = INFLUX_FLUSH_INTERVAL_MS
    retry_interval_ms: int = 1000
    max_retries: int = 5
    max_retry_time_ms: int = 60_000


def as_record(r: Reading) -> dict[str, Any]:
    """A stored reading in the shape ingest hands over (the columns of `readings`)."""
    return {
        "resident_id": r.resident_id,
        "gateway_id": r.gateway_id,
        "device": r.device,
        "metric": r.metric,
        "ts": r.ts,
        "values": r.values,
        "flags": r.flags,
    }


def to_point(r: Mapping[str, Any]) -> Point | None:
    """A reading as a point: measurement = metric, tags = resident/gateway/device, one field per number."""
    fields = {
        k: float(v)
        for k, v in (r.get("values") or {}).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    if not fields:
        return None
    ts: datetime = r["ts"]
    ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    resident = r.get("resident_id")
    p = (
        Point(r["metric"])
        .tag("resident_id", str(resident) if resident is not None else "unassigned")
        .tag("gateway", r["gateway_id"])
        .tag("device", r.get("device") or "unknown")
        .time(ts, WritePrecision.MS)
    )
    meal = next((f for f in (r.get("flags") or []) if f in MEAL_CONTEXTS), None)
    if meal is not None:  # glucose by context is what a doctor asks the mirror for
        p = p.tag("context", meal)
    for k, v in fields.items():
        p = p.field(k, v)
    point: Point = p.field("flagged", 1.0 if r.get("flags") else 0.0)  # influxdb-client leaves field() unannotated
    return point


def _lines(data: Any) -> int:
    # The callbacks get the batch as line protocol; one point per line.
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else str(data)
    return len([ln for ln in text.split("\n") if ln.strip()])


class InfluxMirror:
    """Feeds readings to InfluxDB after ingest has committed them; the database stays the source of truth."""

    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        self.counters = {"queued": 0, "written": 0, "failed": 0, "retried": 0, "skipped": 0}
        self._lock = threading.Lock()
        self._client: InfluxDBClient | None = None
        self._write: WriteApi | None = None

    def start(self) -> None:
        """Create the client and the batching writer (no request is sent until points arrive)."""
        t = self.target
        self._client = InfluxDBClient(url=t.url, token=t.token, org=t.org)
        options = WriteOptions(
            batch_size=t.batch_size,
            flush_interval=t.flush_interval_ms,
            retry_interval=t.retry_interval_ms,
            max_retries=t.max_retries,
            max_retry_time=t.max_retry_time_ms,
            max_retry_delay=t.max_retry_time_ms,
        )
        self._write = self._client.write_api(
            write_options=options,
            success_callback=self._on_success,
            error_callback=self._on_error,
            retry_callback=self._on_retry,
        )
        log.info("mirroring readings to InfluxDB %s, bucket %s", t.url, t.bucket)

    def write(self, readings: Sequence[Mapping[str, Any]]) -> None:
        """Queue committed readings (rows of `readings`); the writer sends them in batches from its own thread."""
        if self._write is None:
            raise TimeseriesError("the InfluxDB mirror is not started")
        points = [p for p in (to_point(r) for r in readings) if p is not None]
        self._count("skipped", len(readings) - len(points))
        if points:
            self._count("queued", len(points))
            self._write.write(bucket=self.target.bucket, org=self.target.org, record=points)

    def close(self) -> None:
        """Flush what is queued and close; failures still end up in the counters and the log."""
        if self._write is not None:
            self._write.close()
            self._write = None
        if self._client is not None:
            self._client.close()
            self._client = None
        c = self.counters
        log.info("InfluxDB mirror closed: %d written, %d failed, %d retries", c["written"], c["failed"], c["retried"])

    def pending(self) -> int:
        """Points queued but neither written nor given up on."""
        c = self.counters
        return c["queued"] - c["written"] - c["failed"]

    def _count(self, key: str, n: int) -> None:
        with self._lock:
            self.counters[key] += n

    def _on_success(self, conf: tuple[str, str, str], data: Any) -> None:
        self._count("written", _lines(data))

    def _on_error(self, conf: tuple[str, str, str], data: Any, exc: Exception) -> None:
        n = _lines(data)
        self._count("failed", n)
        # Not silent: the lines are in the relational store and can be re-sent with backfill().
        log.error("InfluxDB mirror gave up on %d points for bucket %s: %s", n, conf[0], exc)

    def _on_retry(self, conf: tuple[str, str, str], data: Any, exc: Exception) -> None:
        self._count("retried", 1)
        log.warning("InfluxDB write of %d points will be retried: %s", _lines(data), exc)


def backfill(
    mirror: InfluxMirror, sessions: sessionmaker[Session], since: datetime, until: datetime, chunk: int = 5000
) -> int:
    """Re-send stored readings of a time window (points are idempotent: same series and time overwrite)."""
    sent = 0
    with sessions() as s:
        q = select(Reading).where(Reading.ts >= since, Reading.ts < until).order_by(Reading.id)
        batch: list[dict[str, Any]] = []
        for r in s.scalars(q.execution_options(yield_per=chunk)):
            batch.append(as_record(r))
            if len(batch) >= chunk:
                mirror.write(batch)
                sent, batch = sent + len(batch), []
        mirror.write(batch)
    return sent + len(batch)
