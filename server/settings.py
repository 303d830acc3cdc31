"""The server's one settings object: ANXIN_* environment variables, or flags."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    """Every knob of `anxin-server run`; built once at start-up and passed down."""

    model_config = SettingsConfigDict(env_prefix="ANXIN_", extra="ignore")

    role: Literal["all", "ingest", "api"] = "all"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    database_url: str = "sqlite:///anxin.db"

    embedded_broker: bool = True
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_tls_ca: str | None = None
    mqtt_shared_group: str | None = None
    mqtt_client_id: str | None = None  # a prefix: every process adds a random suffix (ids must never collide)
    # The intake probe: a message to itself through the broker this often; none back for
    # `intake_dead_after_s` and the server reconnects and reports its intake unhealthy.
    intake_probe_s: float = 3.0
    intake_dead_after_s: float = 10.0

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
    staff_ack_timeout_s: int = 120
    # How often the desk checks every resident's coverage (server/coverage_watch.py); 0 turns it off.
    coverage_check_s: int = 300
    supervisor_ack_timeout_s: int = 300
    gateway_silent_after_s: int = 600
    gateway_offline_grace_s: int = 60
    notify_backoff_s: tuple[float, ...] = (5.0, 30.0, 120.0)
    # How long a claimed notification is reserved for the process that claimed it; if that process
    # dies, another sends it after this (at-least-once: a crash mid-send may repeat one message).
    notify_lease_s: float = 60.0
    rate_limits: dict[str, int] = {"wecombot": 20, "wxteams": 20, "dingtalk": 20}

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
    influx_batch_size: int = 500
    influx_flush_interval_ms: int = 1000

    # The care record (docs/residents.md): 高龄 from this age; days between contacts per risk tier
    # (探访关爱 policies: weekly for high risk, monthly for priority, quarterly for others); a home
    # visit owed within these hours of an emergency; how long a helper's page link stays valid.
    care_advanced_age: int = 80
    care_contact_days_high: int = 7
    care_contact_days_priority: int = 30
    care_contact_days_other: int = 90
    care_followup_hours: int = 24
    helper_link_ttl_s: int = 365 * 24 * 3600
    # Services at home (issue 19): hours per category from request to done (JSON, e.g. {"meals": 12}),
    # and how long family and provider links stay valid.
    service_sla_hours: dict[str, int] = {}
    service_link_ttl_s: int = 365 * 24 * 3600

    @property
    def base_url(self) -> str:
        """Where people reach the web UI (used in notification links)."""
        return self.public_url or f"http://{self.host}:{self.port}"
