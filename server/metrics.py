"""Prometheus metrics at /metrics: ingest and notification counters, and the desk's state from the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from server.alarms import ACTIVE
from server.db.models import Alarm, Gateway, NotificationJob

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DeskCollector(Collector):
    """Reads counters from the running parts and counts from the database at scrape time."""

    def __init__(self, app_state: Any) -> None:
        self.state = app_state

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """One scrape."""
        ingest = getattr(self.state, "ingest", None)
        events = CounterMetricFamily("anxin_ingest", "Uplink events by outcome (this process)", labels=["outcome"])
        for key, value in sorted((dict(ingest.counters) if ingest else {}).items()):
            events.add_metric([key], value)
        yield events
        probe = getattr(self.state, "probe", None)
        if probe is not None:
            alive = GaugeMetricFamily("anxin_intake_alive", "1 while the server's probe comes back through the broker")
            alive.add_metric([], 1 if probe.healthy else 0)
            yield alive
            silent = GaugeMetricFamily("anxin_intake_silent_seconds", "Seconds since a probe last came back")
            silent.add_metric([], probe.seconds_silent())
            yield silent
        desk = getattr(self.state, "desk", None)
        if desk is not None:  # a failing first call or desk round is logged and retried; counted here too
            failed = CounterMetricFamily(
                "anxin_desk_errors",
                "Desk rounds and first calls of new alarms that failed (this process)",
                labels=["part"],
            )
            failed.add_metric(["rounds"], desk.loop.errors)
            failed.add_metric(["first_call"], desk.first_call.errors if desk.first_call else 0)
            yield failed
        stream = getattr(self.state, "stream", None)
        if stream is not None:
            yield from stream_metrics(stream)
        services = self.state.services
        notifier = services.notifier
        sent = CounterMetricFamily("anxin_notifications", "Notification outcomes (this process)", labels=["outcome"])
        for key in ("sent", "failed", "rate_limited"):
            sent.add_metric([key], getattr(notifier, key, 0) if notifier else 0)
        yield sent
        logins = CounterMetricFamily(
            "anxin_logins",
            "Sign-in attempts by outcome (this process): failed, throttled (429), delayed, succeeded",
            labels=["outcome"],
        )
        counters = services.throttle.counters
        for key in ("failed", "throttled", "delayed", "succeeded"):
            logins.add_metric([key], counters.get(key, 0))
        yield logins
        with services.sessions() as s:
            active = GaugeMetricFamily("anxin_alarms_active", "Open alarms by severity", labels=["severity"])
            for severity, n in s.execute(
                select(Alarm.severity, func.count()).where(Alarm.status.in_(ACTIVE)).group_by(Alarm.severity)
            ):
                active.add_metric([severity], n)
            yield active
            gateways = GaugeMetricFamily("anxin_gateways", "Gateways by state", labels=["state"])
            for state, n in s.execute(select(Gateway.state, func.count()).group_by(Gateway.state)):
                gateways.add_metric([state], n)
            yield gateways
            jobs = GaugeMetricFamily("anxin_notification_jobs", "Notification jobs by status", labels=["status"])
            for status, n in s.execute(select(NotificationJob.status, func.count()).group_by(NotificationJob.status)):
                jobs.add_metric([status], n)
            yield jobs


def per_partition(name: str, documentation: str, values: Any) -> GaugeMetricFamily:
    """One gauge with a `partition` label, from a partition -> value mapping (a copy is read)."""
    family = GaugeMetricFamily(name, documentation, labels=["partition"])
    for p, n in sorted(dict(values).items()):
        family.add_metric([str(p)], n)
    return family


def stream_metrics(stream: Any) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
    """uplink=nats (server/stream_consumer.py): the connection, partitions held, lag, JetStream acks."""
    alive = GaugeMetricFamily(
        "anxin_stream_intake_alive",
        "1 while this process is connected to NATS and, when partitions go unread, holds some",
    )
    alive.add_metric([], 1 if stream.health().ok else 0)
    yield alive
    connected = GaugeMetricFamily("anxin_stream_connected", "1 while the NATS connection is up")
    connected.add_metric([], 1 if stream.connected else 0)
    yield connected
    owned = GaugeMetricFamily("anxin_stream_partitions_owned", "Stream partitions this process reads")
    owned.add_metric([], len(stream.owned))
    yield owned
    view = stream.view
    if view is not None:
        unowned = GaugeMetricFamily("anxin_stream_partitions_unowned", "Stream partitions nobody reads")
        unowned.add_metric([], stream.partitions - len(view.owners))
        yield unowned
    unread = GaugeMetricFamily(
        "anxin_stream_unread",
        "Messages in a partition past nats_partitions (the cluster's mapping has more): read by nobody",
    )
    unread.add_metric([], stream.unread)
    yield unread
    yield per_partition(
        "anxin_stream_lag",
        "Messages of a partition not yet settled: waiting in JetStream plus delivered and not acked",
        stream.lag,
    )
    yield per_partition(
        "anxin_stream_alarm_lag",
        "Alarm batches of a partition not yet settled (stream ANXIN_ALARM): more than a few means alarms wait",
        stream.alarm_lag,
    )
    outcomes = CounterMetricFamily(
        "anxin_stream_messages",
        "JetStream messages by outcome (this process): acked, naked (database refused), redelivered, invalid",
        labels=["outcome"],
    )
    for key, value in sorted(dict(stream.counters).items()):
        outcomes.add_metric([key], value)
    yield outcomes


def metrics_router(app_state: Any) -> APIRouter:
    """The /metrics route with its own registry (one per app, so tests can build many apps)."""
    registry = CollectorRegistry()
    registry.register(DeskCollector(app_state))
    router = APIRouter(tags=["health"])

    @router.get("/metrics", response_class=Response, summary="Prometheus metrics")
    def metrics(_request: Request) -> Response:
        """Prometheus text exposition format."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE)

    return router
