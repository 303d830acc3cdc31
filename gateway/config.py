"""The gateway's one settings object: a YAML file, overridable by ANXIN_GW_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from anxin.mqtt import BrokerAddress
from anxin.phone import DEFAULT_REGION, PhoneNumberError, normalise_phone, region_known
from anxin.rules_document import RulesConfigError, parse_rules
from gateway.errors import ConfigError

Family = Literal["zigbee2mqtt", "native", "ble-bpm", "ble-gatt", "rflink"]


class BrokerConfig(BaseModel):
    """How to reach one MQTT broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive: int = 30

    def address(self) -> BrokerAddress:
        """The transport-level address for anxin.mqtt."""
        return BrokerAddress(**self.model_dump())


class DeviceConfig(BaseModel):
    """One device installed in the home."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    family: Family
    role: str
    model: str | None = None
    room: str | None = None
    report_interval_s: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class SerialPortConfig(BaseModel):
    """A serial device: the BLE bridge of a health device (ble-bpm, ble-gatt), an RFLink dongle, a GSM modem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: str
    family: Literal["ble-bpm", "ble-gatt", "rflink", "gsm"]
    baudrate: int = 57600
    device: str | None = None


class UplinkConfig(BaseModel):
    """How events travel to the server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = 500
    resend_after_s: float = 5.0
    max_resend_after_s: float = 60.0
    max_inflight: int = 2000
    stuck_after_s: float = 90.0


class OutboxConfig(BaseModel):
    """How much of the SD card the outbox may use while the uplink is down."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_mb: float = 256.0


class SmsConfig(BaseModel):
    """SMS fallback through a GSM modem when the server has not acknowledged an alarm in time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: str | None = None
    baudrate: int = 115200
    caregivers: list[str] = Field(default_factory=list)
    resident_label: str = ""
    after_s: float = 30.0
    severities: list[str] = Field(default_factory=lambda: ["emergency", "urgent"])
    attempts: int = 3
    retry_after_s: float = 10.0
    command_timeout_s: float = 10.0
    send_timeout_s: float = 60.0
    smsc: str | None = None
    region: str = DEFAULT_REGION  # the country of numbers written without a country code

    @model_validator(mode="before")
    @classmethod
    def _numbers_e164(cls, data: Any) -> Any:
        """Caregiver and SMSC numbers as people type them, written in E.164 (docs/reliability.md)."""
        if not isinstance(data, dict):
            return data
        region = data.get("region", DEFAULT_REGION)
        if not isinstance(region, str) or not region_known(region):
            raise ValueError(f"sms.region {region!r} is not a region code such as CN or HK")
        out = dict(data)
        try:
            if isinstance(data.get("caregivers"), list):
                out["caregivers"] = [normalise_phone(n, region) if isinstance(n, str) else n
                                     for n in data["caregivers"]]
            if isinstance(data.get("smsc"), str):
                out["smsc"] = normalise_phone(data["smsc"], region)
        except PhoneNumberError as exc:
            raise ValueError(f"sms: {exc}") from exc
        return out

    @property
    def enabled(self) -> bool:
        """A modem port and at least one phone number are configured."""
        return bool(self.port and self.caregivers)


class SpeakerConfig(BaseModel):
    """The home's voice: espeak-ng through ALSA (docs/home.md explains the voice settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    separate: bool = False  # true: deploy/anxin-speaker.service speaks, not `anxin-gateway run`
    device: str | None = None  # ALSA device as `aplay -L` lists it, e.g. plughw:CARD=Device,DEV=0
    output_dir: Path | None = None  # write each prompt as a WAV file here instead of playing it
    rate_wpm: int | None = Field(None, ge=80, le=260)  # none: the language's own (gateway/home/voice.py)
    word_gap_10ms: int | None = Field(None, ge=0, le=50)
    pitch: int = Field(35, ge=0, le=99)
    amplitude: int = Field(170, ge=10, le=200)


class GpioConfig(BaseModel):
    """The Pi's own button(s) and light, by BCM pin number (docs/home.md has the wiring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cancel_pin: int | None = Field(17, ge=0, le=27)  # the big "cancel / I'm fine" button, to GND
    sos_pin: int | None = Field(None, ge=0, le=27)  # an optional wired SOS button, to GND
    service_pin: int | None = Field(None, ge=0, le=27)  # an optional "service" button: a request, never an SOS
    led_pin: int | None = Field(27, ge=0, le=27)  # the status LED, through a resistor to GND
    bounce_s: float = Field(0.05, ge=0, le=1)
    offline_after_s: float = Field(120.0, ge=5)  # uplink down this long: the light says "offline"


class GatewaySettings(BaseSettings):
    """Everything one home's gateway needs to run."""

    model_config = SettingsConfigDict(env_prefix="ANXIN_GW_", env_nested_delimiter="__", extra="forbid")

    gateway_id: str
    resident: str | None = None
    language: Literal["zh-CN", "en"] = "zh-CN"
    timezone: str = "Asia/Shanghai"
    data_dir: Path = Path("anxin-data")
    local_broker: BrokerConfig = BrokerConfig()
    central_broker: BrokerConfig = BrokerConfig()
    uplink: UplinkConfig = UplinkConfig()
    outbox: OutboxConfig = OutboxConfig()
    sms: SmsConfig = SmsConfig()
    devices: list[DeviceConfig] = Field(default_factory=list)
    serial: list[SerialPortConfig] = Field(default_factory=list)
    rules: dict[str, Any] = Field(default_factory=dict)
    speaker: SpeakerConfig | None = None  # none: no speaker bridge in this process
    gpio: GpioConfig | None = None  # none: no buttons or light on the Pi's pins
    # Names the home may hear in "… has your call" (the resident's caregivers, from the server at
    # provisioning); any other acknowledgement is spoken as "our staff".
    roster: list[str] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _rules_valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_rules(value)  # format: docs/rules.md
        except RulesConfigError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def outbox_path(self) -> Path:
        """Where the durable outbox lives."""
        return self.data_dir / f"outbox-{self.gateway_id}.sqlite"

    def device(self, name: str) -> DeviceConfig | None:
        """The configured device of that name, if any."""
        return next((d for d in self.devices if d.name == name), None)


def load_settings(path: Path | str | None = None, **overrides: Any) -> GatewaySettings:
    """Read a gateway YAML file (if given) and apply keyword overrides; raises ConfigError."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        data.update(loaded)
    data.update(overrides)
    try:
        return GatewaySettings(**data)
    except ValidationError as exc:
        raise ConfigError(f"invalid gateway configuration: {exc}") from exc
