"""The gateway's one settings object.

Where a value comes from, strongest first: keyword arguments given in code, then ANXIN_GW_*
environment variables (nested: ANXIN_GW_CENTRAL_BROKER__HOST), then the YAML file
(`anxin-gateway run --config FILE`), then the defaults below. A key the model does not know, in
the file or in the arguments, is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from anxin.mqtt import BrokerAddress
from anxin.phone import DEFAULT_REGION, PhoneNumberError, normalise_phone, region_known
from anxin.rules_document import RulesConfigError, parse_rules
from gateway.errors import ConfigError
from gateway.home.voice import AMPLITUDE, PITCH

Family = Literal["zigbee2mqtt", "native", "ble-bpm", "ble-gatt", "rflink"]

# The YAML file's values while load_settings builds the settings object. pydantic-settings chooses
# the sources in a classmethod that is given no arguments of the call (pydantic-settings#259), so the
# file reaches its place in the order, after the environment, through this context variable.
_file_values: ContextVar[dict[str, Any] | None] = ContextVar("gateway_file_values", default=None)


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
    # With an alarm in flight a silent link is given far less time: it must be found before the SMS
    # fallback (sms.after_s, 30 s) pages the caregiver for an alarm the server may already have.
    alarm_stuck_after_s: float = Field(12.0, gt=0)


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
                out["caregivers"] = [
                    normalise_phone(n, region) if isinstance(n, str) else n for n in data["caregivers"]
                ]
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
    pitch: int = Field(PITCH, ge=0, le=99)
    amplitude: int = Field(AMPLITUDE, ge=10, le=200)


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
    local_broker: BrokerAddress = BrokerAddress()
    central_broker: BrokerAddress = BrokerAddress()
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ANXIN_GW_* variables, then the YAML file, then defaults (the module's docstring)."""
        file_values = _file_values.get()
        if file_values is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=file_values))

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


def read_yaml(path: Path | str) -> dict[str, Any]:
    """The mapping a gateway YAML file holds; raises ConfigError."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return loaded


@contextmanager
def _from_file(values: dict[str, Any] | None) -> Iterator[None]:
    token = _file_values.set(values)
    try:
        yield
    finally:
        _file_values.reset(token)


def load_settings(path: Path | str | None = None, **overrides: Any) -> GatewaySettings:
    """The settings from a gateway YAML file (if given), ANXIN_GW_* variables and keyword overrides; raises ConfigError."""
    file_values = read_yaml(path) if path is not None else None
    try:
        with _from_file(file_values):
            return GatewaySettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid gateway configuration: {exc}") from exc
