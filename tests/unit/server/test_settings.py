"""The server's settings mean what they say: flags beat ANXIN_* variables beat defaults, a typo is an error."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from anxin.mqtt import BrokerAddress
from server import settings as settings_module
from server.cli import build_parser, settings_from
from server.notify import Notifier
from server.settings import ServerSettings


@pytest.fixture(autouse=True)
def no_anxin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("ANXIN_")]:
        monkeypatch.delenv(name)


def run_flags(*argv: str) -> ServerSettings:
    return settings_from(build_parser().parse_args(["run", *argv]))


def test_the_broker_variables_keep_their_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "HOST": "mosquitto",
        "PORT": "1884",
        "USERNAME": "anxin-server",
        "PASSWORD": "pw",
        "TLS_CA": "/etc/anxin/ca.pem",
        "SHARED_GROUP": "anxin-ingest",
        "CLIENT_ID": "srv",
    }.items():
        monkeypatch.setenv(f"ANXIN_MQTT_{name}", value)
    s = ServerSettings()
    assert s.mqtt == BrokerAddress("mosquitto", 1884, "anxin-server", "pw", "/etc/anxin/ca.pem")
    assert (s.mqtt_shared_group, s.mqtt_client_id) == ("anxin-ingest", "srv")


def test_flags_beat_the_environment_which_beats_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_flags().port == 8000 and run_flags().mqtt == BrokerAddress()
    monkeypatch.setenv("ANXIN_PORT", "8100")
    monkeypatch.setenv("ANXIN_MQTT_HOST", "env-broker")
    monkeypatch.setenv("ANXIN_MQTT_PASSWORD", "pw")
    assert (run_flags().port, run_flags().mqtt.host) == (8100, "env-broker")
    s = run_flags("--port", "8200", "--mqtt-host", "flag-broker", "--mqtt-port", "1999")
    assert (s.port, s.mqtt.host, s.mqtt.port) == (8200, "flag-broker", 1999)
    assert s.mqtt.password == "pw"  # a flag replaces one field of the broker, not the others


def test_an_unknown_argument_is_an_error() -> None:
    with pytest.raises(ValidationError, match="notify_lease"):
        ServerSettings(notify_lease=30)  # type: ignore[call-arg]  # the typo under test


def test_a_misspelt_broker_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_MQTT_PASWORD", "pw")
    with pytest.raises(ValidationError, match="pasword"):
        ServerSettings()


def test_the_notifier_takes_its_defaults_from_the_settings() -> None:
    s = ServerSettings()
    assert s.notify_lease_s == settings_module.NOTIFY_LEASE_S == 60.0  # the value `anxin-server run` has always used
    notifier = Notifier(None, None, "http://anxin.test")  # type: ignore[arg-type]  # only the defaults are read
    assert notifier.lease.total_seconds() == s.notify_lease_s
    assert (notifier.backoff_s, notifier.rate_limits) == (s.notify_backoff_s, s.rate_limits)
