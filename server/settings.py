"""The server's one settings object.

Where a value comes from, strongest first: keyword arguments (`anxin-server` flags, code), then
ANXIN_* environment variables, then the defaults below. The server reads no settings file. A
keyword argument the model does not know is an error, and so is a misspelt ANXIN_MQTT_* variable
(it is read as a field of `mqtt`); other unknown ANXIN_* variables are not seen at all, because
the prefix is shared with the gateway's ANXIN_GW_* and pydantic-settings reads only known names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from anxin.mqtt import BrokerAddress

# Defaults that code elsewhere also needs as its own default (its constructor's, used by tests and
# benchmarks): defined here once and imported there, so the two cannot drift apart.
# The alarm desk (server/escalation.py, server/presence.py): the escalation steps' timeouts; how long a
# gateway may be silent, and how long a last will is forgiven (a router restart), before staff are alarmed.
STAFF_ACK_TIMEOUT_S = 120
SUPERVISOR_ACK_TIMEOUT_S = 300
GATEWAY_SILENT_AFTER_S = 600
GATEWAY_OFFLINE_GRACE_S = 60
# The notifier (server/notify.py). A failed send is retried after each of these delays, then given up.
NOTIFY_BACKOFF_S: tuple[float, ...] = (5.0, 30.0, 120.0)
# How long a claimed notification is reserved for the process that claimed it; if that process
# dies, another sends it after this (at-least-once: a crash mid-send may repeat one message).
NOTIFY_LEASE_S = 60.0
# Group bots of WeCom and DingTalk accept about 20 messages a minute; others are not limited here.
RATE_LIMITS: dict[str, int] = {"wecombot": 20, "wxteams": 20, "dingtalk": 20}
# The InfluxDB mirror's write batches (server/timeseries.py).
INFLUX_BATCH_SIZE = 500
INFLUX_FLUSH_INTERVAL_MS = 1000
# Days between contacts per risk tier (server/care/plans.py; 探访关爱 policies: weekly for high risk,
# monthly for priority, quarterly for others).
CONTACT_DAYS_HIGH, CONTACT_DAYS_PRIORITY, CONTACT_DAYS_OTHER = 7, 30, 90

# ANXIN_MQTT_SHARED_GROUP and ANXIN_MQTT_CLIENT_ID are the server's own fields, not part of the
# broker's address, but their names also start with ANXIN_MQTT_.
_NOT_BROKER_KEYS = ("shared_group", "client_id")


class ServerSettings(BaseSettings):
    """Every knob of `anxin-server run`; built once at start-up and passed down."""

    # "_" splitting once: ANXIN_MQTT_TLS_CA is mqtt.tls_ca, the names deployments already use.
    model_config = SettingsConfigDict(
        env_prefix="ANXIN_", env_nested_delimiter="_", env_nested_max_split=1, extra="forbid"
    )

    role: Literal["all", "ingest", "api"] = "all"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    database_url: str = "sqlite:///anxin.db"

    embedded_broker: bool = True
    # ANXIN_MQTT_HOST, _PORT, _USERNAME, _PASSWORD, _TLS_CA, _TLS_CERT, _TLS_KEY, _KEEPALIVE
    mqtt: BrokerAddress = BrokerAddress()
    mqtt_shared_group: str | None = None
    mqtt_client_id: str | None = None  # a prefix: every process adds a random suffix (ids must never collide)
    # The intake probe: a message to itself through the broker this often; none back for
    # `intake_dead_after_s` and the server reconnects and reports its intake unhealthy.
    intake_probe_s: float = 3.0
    intake_dead_after_s: float = 10.0
    # Where uplink messages come from: the MQTT link ("mqtt": Mosquitto or the embedded broker), or the
    # NATS JetStream stream ANXIN_UP ("nats": a NATS cluster's MQTT listeners take the gateways' MQTT,
    # the server consumes partitions of the stream; docs/operations.md, "Scaling out"). Downlink
    # (acks, commands, presence, the intake probe) always goes over the MQTT link.
    uplink: Literal["mqtt", "nats"] = "mqtt"
    nats_urls: list[str] = []  # nats://host:port of the cluster's nodes (JSON list in ANXIN_NATS_URLS)
    nats_user: str | None = None
    nats_password: str | None = None
    nats_partitions: int = Field(16, ge=1, le=1024)  # must equal the cluster's subject mapping's count
    nats_replicas: int = Field(3, ge=1, le=5)  # of the stream and the lease bucket, at most the cluster's size

    # Signs staff tokens and caregiver links. Unset: a single node keeps one in its data directory
    # (server/secret_key.py); split roles and PostgreSQL deployments must share one and refuse to start without.
    secret_key: str | None = None
    language: Literal["zh-CN", "en"] = "zh-CN"
    # The alarm centre's phone, shown as a call button where a family member is told to call the desk
    # (an expired or invalid link).
    duty_phone: str | None = None
    notify_workers: int = 4
    ack_link_ttl_s: int = 24 * 3600
    token_ttl_s: int = 12 * 3600
    staff_ack_timeout_s: int = STAFF_ACK_TIMEOUT_S
    # How often the desk checks every resident's coverage (server/coverage_watch.py); 0 turns it off.
    coverage_check_s: int = 300
    supervisor_ack_timeout_s: int = SUPERVISOR_ACK_TIMEOUT_S
    gateway_silent_after_s: int = GATEWAY_SILENT_AFTER_S
    gateway_offline_grace_s: int = GATEWAY_OFFLINE_GRACE_S
    notify_backoff_s: tuple[float, ...] = NOTIFY_BACKOFF_S
    notify_lease_s: float = NOTIFY_LEASE_S
    rate_limits: dict[str, int] = RATE_LIMITS

    # Pages and sessions (docs/operations.md, "Security model")
    max_body_bytes: int = 1024 * 1024
    trusted_proxies: list[str] = []  # addresses whose X-Forwarded-For / X-Forwarded-Proto are believed
    cookie_secure: Literal["auto", "always", "never"] = "auto"  # auto: Secure when the request came over HTTPS
    audit_retention_days: int = 400

    # InfluxDB 2 mirror of readings (off unless a URL is given); see docs/trends.md
    influx_url: str | None = None
    influx_token: str = ""
    influx_org: str = "anxin"
    influx_bucket: str = "anxin"
    influx_batch_size: int = INFLUX_BATCH_SIZE
    influx_flush_interval_ms: int = INFLUX_FLUSH_INTERVAL_MS

    # The care record (docs/residents.md): 高龄 from this age; days between contacts per risk tier
    # (探访关爱 policies: weekly for high risk, monthly for priority, quarterly for others); a home
    # visit owed within these hours of an emergency; how long a helper's page link stays valid.
    care_advanced_age: int = 80
    care_contact_days_high: int = CONTACT_DAYS_HIGH
    care_contact_days_priority: int = CONTACT_DAYS_PRIORITY
    care_contact_days_other: int = CONTACT_DAYS_OTHER
    care_followup_hours: int = 24
    helper_link_ttl_s: int = 365 * 24 * 3600
    # Services at home (issue 19): hours per category from request to done (JSON, e.g. {"meals": 12}),
    # and how long family and provider links stay valid.
    service_sla_hours: dict[str, int] = {}
    service_link_ttl_s: int = 365 * 24 * 3600

    @model_validator(mode="before")
    @classmethod
    def _broker_keys_only(cls, data: Any) -> Any:
        """Leave ANXIN_MQTT_SHARED_GROUP and ANXIN_MQTT_CLIENT_ID to their own fields, out of `mqtt`."""
        if isinstance(data, dict) and isinstance(data.get("mqtt"), dict):
            return {**data, "mqtt": {k: v for k, v in data["mqtt"].items() if k not in _NOT_BROKER_KEYS}}
        return data

    @model_validator(mode="after")
    def _uplink_complete(self) -> ServerSettings:
        """A NATS uplink needs the cluster's addresses, and is not the embedded broker's."""
        if self.uplink != "nats":
            return self
        if not self.nats_urls:
            raise ValueError(
                '上行设为 nats 时必须给出 NATS 集群地址（ANXIN_NATS_URLS，例如 ["nats://10.0.0.1:4222"]）/ '
                'uplink=nats needs the NATS cluster\'s addresses (ANXIN_NATS_URLS, e.g. ["nats://10.0.0.1:4222"])'
            )
        bad = [u for u in self.nats_urls if not u.startswith(("nats://", "tls://"))]
        if bad:
            raise ValueError(
                f"NATS 地址须以 nats:// 或 tls:// 开头 / NATS addresses start with nats:// or tls://: {bad}"
            )
        if self.embedded_broker:
            raise ValueError(
                "上行设为 nats 时不能使用内置 MQTT 代理：网关连接 NATS 集群的 MQTT 端口，请加 --no-embedded-broker 并把 "
                "ANXIN_MQTT_HOST/PORT 指向集群 / uplink=nats cannot run with the embedded broker: gateways speak to "
                "the NATS cluster's MQTT listeners; add --no-embedded-broker and point ANXIN_MQTT_HOST/PORT at the cluster"
            )
        return self

    @property
    def base_url(self) -> str:
        """Where people reach the web UI (used in notification links)."""
        return self.public_url or f"http://{self.host}:{self.port}"
