"""Wires the server together: broker, database, ingest, notifier, HTTP; start() does the I/O."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import timedelta

import uvicorn

from anxin import protocol
from anxin.loop import Loop
from anxin.mqtt import MqttLink, Will, make_client
from anxin.ports import port_is_free, wait_for_port
from server import audit, secret_key
from server.api.app import create_app
from server.broker import EmbeddedBroker
from server.broker_access import SERVER_USER, BrokerAccess, hash_password, new_password
from server.coverage_watch import CoverageWatch
from server.db.session import create_schema, make_engine, session_factory
from server.errors import PortInUse
from server.escalation import Escalator
from server.events import EventHub, watch
from server.gateway_credentials import lookup
from server.ingest import Ingest, drain_bytes
from server.intake_probe import IntakeProbe, probe_topic
from server.links import LinkSigner
from server.notify import Notifier
from server.presence import PresencePolicy
from server.services import Services, utc_now
from server.settings import ServerSettings
from server.stream_consumer import StreamIngest
from server.timeseries import InfluxMirror, InfluxTarget
from server.worker import DeskWorker

log = logging.getLogger(__name__)


def ingest_filters(group: str | None) -> list[tuple[str, int]]:
    """Uplink subscriptions, shared between server processes when the broker supports it."""
    up, alarm = f"{protocol.PREFIX}/+/up", f"{protocol.PREFIX}/+/alarm"
    state = f"{protocol.PREFIX}/+/state"
    if group:
        return [(f"$share/{group}/{alarm}", 1), (f"$share/{group}/{up}", 1), (state, 1)]
    return [(alarm, 1), (up, 1), (state, 1)]


@dataclass
class ServerRuntime:
    """A running server; every part is reachable for tests and the demo."""

    settings: ServerSettings
    services: Services
    ingest: Ingest
    link: MqttLink
    broker: EmbeddedBroker | None = None
    desk: DeskWorker | None = None
    http: uvicorn.Server | None = None
    mirror: InfluxMirror | None = None
    probe: IntakeProbe | None = None
    stream: StreamIngest | None = None  # uplink=nats: the uplink comes from JetStream, not the MQTT link
    _http_thread: threading.Thread | None = field(default=None, repr=False)
    retention: Loop = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.retention = Loop("audit-retention", self._purge_audit)

    def check_ports(self) -> None:
        """Fail early, with a message a person understands, when a port is taken."""
        s = self.settings
        if s.role in ("all", "api") and not port_is_free(s.port, s.host):
            raise PortInUse(f"port {s.port} on {s.host} is already in use; choose another with --port or ANXIN_PORT")
        if self.broker and not port_is_free(s.mqtt.port, s.mqtt.host):
            raise PortInUse(
                f"MQTT port {s.mqtt.port} is already in use; choose another with --mqtt-port, "
                "or use that broker with --no-embedded-broker"
            )

    def start(self, serve_http: bool = True) -> None:
        """Start the broker, workers and (in a thread) the HTTP server."""
        self.check_ports()
        create_schema(self.services.sessions.kw["bind"])
        self.retention.start()
        if self.broker:
            self.broker.start()
        if self.desk:
            self.desk.start()
        if self.mirror:
            self.mirror.start()
        if self.settings.role in ("all", "ingest"):
            self.ingest.start()
        if self.stream:
            self.stream.start()
        self.link.start()
        if not self.link.wait_connected(15):
            log.warning(
                "MQTT broker %s:%s not reachable yet; will keep trying",
                self.settings.mqtt.host,
                self.settings.mqtt.port,
            )
        if self.probe:
            self.probe.start()
        if serve_http and self.settings.role in ("all", "api"):
            self.start_http()

    def _purge_audit(self) -> None:
        """The retention loop's step: drop audit entries past the retention setting, at start and then daily."""
        try:
            with self.services.sessions() as s, s.begin():
                gone = audit.purge(s, self.services.clock(), self.settings.audit_retention_days)
            if gone:
                log.info(
                    "audit retention: %d entries older than %d days removed", gone, self.settings.audit_retention_days
                )
        finally:  # a failed purge (the loop logs it) is retried tomorrow, not at once
            self.retention.wait(86400)

    def start_http(self) -> None:
        """Serve the API on its own thread."""
        app = create_app(self.services)
        app.state.ingest = self.ingest
        app.state.mirror = self.mirror
        app.state.probe = self.probe
        app.state.desk = self.desk  # its failures on /metrics (server/metrics.py)
        app.state.stream = self.stream
        # Forwarded headers are read by server/web/guard.py, from the configured proxies only.
        config = uvicorn.Config(
            app,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            lifespan="off",
            proxy_headers=False,
        )
        self.http = uvicorn.Server(config)
        self._http_thread = threading.Thread(target=self.http.run, name="http", daemon=True)
        self._http_thread.start()
        if not wait_for_port(self.settings.port, self.settings.host, 15):
            raise PortInUse(f"the web server did not start on {self.settings.host}:{self.settings.port}")
        log.info("web UI and API on %s (OpenAPI at /docs)", self.settings.base_url)

    def stop(self) -> None:
        """Stop in reverse order; nothing acknowledged is lost (it is committed)."""
        self.retention.stop()
        if self.services.events:
            self.services.events.close()  # ends the pages' event streams so the web server can stop
        if self.http:
            self.http.should_exit = True
            if self._http_thread:
                self._http_thread.join(timeout=10)
        if self.probe:
            self.probe.stop()
        if self.stream:
            self.stream.stop()  # stops fetching; what was fetched is committed and acked, the leases freed
        self.link.stop()
        self.ingest.stop()
        if self.mirror:
            self.mirror.close()  # flushes the last batch: without close() influxdb-client drops it
        if self.desk:
            self.desk.stop()
        if self.broker:
            self.broker.stop()
        self.services.sessions.kw["bind"].dispose()


def build_runtime(settings: ServerSettings) -> ServerRuntime:
    """Create (not start) the server from its settings."""
    settings.secret_key = secret_key.resolve(settings)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    signer = LinkSigner(settings.secret_key, settings.ack_link_ttl_s)
    notifier = Notifier(
        sessions,
        signer,
        settings.base_url,
        settings.notify_workers,
        backoff_s=settings.notify_backoff_s,
        rate_limits=settings.rate_limits,
        lease_s=settings.notify_lease_s,
    )
    desk = (
        DeskWorker(
            sessions,
            Escalator(settings.staff_ack_timeout_s, settings.supervisor_ack_timeout_s),
            notifier,
            PresencePolicy(
                timedelta(seconds=settings.gateway_silent_after_s), timedelta(seconds=settings.gateway_offline_grace_s)
            ),
            utc_now,
            coverage=CoverageWatch(timedelta(seconds=settings.coverage_check_s)) if settings.coverage_check_s else None,
        )
        if settings.role != "api"
        else None
    )
    broker = None
    if settings.embedded_broker:  # the server runs the broker: its own account, a password for this run
        password = settings.mqtt.password or new_password()
        broker = EmbeddedBroker(
            settings.mqtt.host,
            settings.mqtt.port,
            BrokerAccess(hash_password(password), lambda gw: lookup(sessions, gw)),
        )
        address = replace(settings.mqtt, username=SERVER_USER, password=password)
    else:
        address = settings.mqtt
    # Unique per process: a predictable id let anyone take the server's session over and silence intake.
    client_id = f"{settings.mqtt_client_id or f'anxin-server-{settings.role}'}-{secrets.token_hex(6)}"
    from_link = settings.role != "api" and settings.uplink == "mqtt"  # uplink=nats: from JetStream
    link = MqttLink(
        make_client(client_id),
        address,
        lambda t, p: None,
        ingest_filters(settings.mqtt_shared_group) if from_link else [],
    )
    probe = None
    if settings.role != "api":
        probe = IntakeProbe(
            probe_topic(client_id),
            lambda t, p, q: link.publish(t, p, q),
            link.force_reconnect,
            settings.intake_probe_s,
            settings.intake_dead_after_s,
        )
        link.subscriptions.append((probe.topic, 0))
    if settings.role != "api":  # gateways resend at once when an ingesting server (re)appears
        link.birth = Will(protocol.server_state_topic(), b'{"v":1,"state":"online"}')
        link.will = Will(protocol.server_state_topic(), b'{"v":1,"state":"offline"}')

    def downlink(gateway_id: str, command: protocol.Command) -> None:
        link.publish(protocol.cmd_topic(gateway_id), protocol.encode_command(command), 1)

    events = EventHub()
    watch(sessions, events)  # every committed alarm change reaches the live pages
    services = Services(settings, sessions, signer, notifier if desk else None, downlink, events=events)
    mirror = _influx_mirror(settings)
    # Acks on NATS at QoS 0: a QoS 1 publish waits on the MQTT layer's own JetStream streams, which stall
    # for tens of seconds after a node's loss; QoS 0 goes by core NATS. A lost ack costs a resend (deduplicated).
    ack_qos = 0 if settings.uplink == "nats" else 1
    ingest = Ingest(
        sessions,
        lambda t, p, q: link.publish(t, p, min(q, ack_qos)),
        on_new_alarm=desk.wake if desk else (lambda _a: None),
        on_readings=mirror.write if mirror else (lambda _r: None),
        alarm_first=desk.alarm_first if desk else None,
        max_drain_bytes=drain_bytes(settings.database_url),
    )
    stream = None
    if settings.uplink == "nats" and settings.role != "api":
        stream = StreamIngest(
            ingest,
            settings.nats_urls,
            settings.nats_user,
            settings.nats_password,
            client_id,
            settings.nats_partitions,
            settings.nats_replicas,
        )
        ingest.on_settled = stream.settled
    if probe is not None:

        def intake(topic: str, payload: bytes) -> None:
            if not probe.on_message(topic, payload):  # the probe's own message is not an uplink message
                ingest.on_message(topic, payload)

        link.on_message = intake
    else:
        link.on_message = ingest.on_message
    return ServerRuntime(settings, services, ingest, link, broker, desk, mirror=mirror, probe=probe, stream=stream)


def _influx_mirror(settings: ServerSettings) -> InfluxMirror | None:
    """The readings mirror when ANXIN_INFLUX_URL is set (ingest processes only)."""
    if not settings.influx_url or settings.role == "api":
        return None
    return InfluxMirror(
        InfluxTarget(
            settings.influx_url,
            settings.influx_token,
            settings.influx_org,
            settings.influx_bucket,
            settings.influx_batch_size,
            settings.influx_flush_interval_ms,
        )
    )
