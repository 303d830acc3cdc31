"""A broker address with fallbacks: the nodes of one cluster, written as people write them, checked as read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from anxin.broker_address import BrokerAddress, EndpointError, parse_endpoint
from gateway.config import load_settings
from gateway.errors import ConfigError
from server.settings import ServerSettings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.12:1883", ("10.0.0.12", 1883)),
        ("mqtt-b.example.org:8883", ("mqtt-b.example.org", 8883)),
        (" mqtt-c ", ("mqtt-c", 1884)),  # a bare host: the primary's port
        ("[fd00::2]:1883", ("fd00::2", 1883)),
        ("[fd00::3]", ("fd00::3", 1884)),
    ],
)
def test_a_fallback_is_host_and_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_endpoint(text, 1884) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mqtt://b:1883", "without a scheme"),
        ("b:http", "port must be a number"),
        ("b:0", "port must be a number"),
        ("b:70000", "port must be a number"),
        (":1883", "host is missing"),
        ("fd00::2", "in brackets"),
        ("[fd00::2", r"written \[address\]:port"),
    ],
)
def test_a_fallback_that_is_not_host_port_says_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(EndpointError, match=says):
        parse_endpoint(text, 1883)


def test_the_primary_comes_first_and_each_node_once() -> None:
    address = BrokerAddress("a", 1883, fallbacks=("b:1883", "a:1883", "c", "b:1883"))
    assert address.endpoints() == (("a", 1883), ("b", 1883), ("c", 1883))
    assert address.describe() == "a:1883 (then b:1883, c:1883)"
    assert BrokerAddress("a", 1883).describe() == "a:1883"


def test_a_bad_fallback_is_refused_when_the_gateway_file_is_read(tmp_path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(
        "gateway_id: gw-1\ncentral_broker: {host: a, fallbacks: ['b:1883', 'mqtt://c:1883']}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"central_broker\.fallbacks[\s\S]*mqtt://c:1883[\s\S]*without a scheme"):
        load_settings(path)


def test_the_gateway_reads_its_fallbacks_from_yaml_and_from_the_environment(tmp_path, monkeypatch) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("gateway_id: gw-1\ncentral_broker: {host: a, fallbacks: ['b:1883', 'c:1883']}\n")
    assert load_settings(path).central_broker.endpoints() == (("a", 1883), ("b", 1883), ("c", 1883))
    monkeypatch.setenv("ANXIN_GW_CENTRAL_BROKER__FALLBACKS", '["d:1883"]')
    assert load_settings(path).central_broker.fallbacks == ("d:1883",)


def test_the_server_reads_anxin_mqtt_fallbacks_as_a_json_list(monkeypatch) -> None:
    # ServerSettings splits ANXIN_MQTT_* once at "_" (env_nested_max_split=1): FALLBACKS is one field of mqtt.
    monkeypatch.setenv("ANXIN_MQTT_HOST", "nats-1")
    monkeypatch.setenv("ANXIN_MQTT_FALLBACKS", '["nats-2:1883", "nats-3:1883"]')
    monkeypatch.setenv("ANXIN_MQTT_SHARED_GROUP", "ingest")
    settings = ServerSettings()
    assert settings.mqtt.endpoints() == (("nats-1", 1883), ("nats-2", 1883), ("nats-3", 1883))
    assert settings.mqtt_shared_group == "ingest"


def test_the_server_refuses_a_bad_fallback_by_name(monkeypatch) -> None:
    monkeypatch.setenv("ANXIN_MQTT_FALLBACKS", '["nats-2:1883/"]')
    with pytest.raises(ValidationError, match=r"mqtt\.fallbacks[\s\S]*without a scheme or path"):
        ServerSettings()


def test_an_address_with_fallbacks_is_still_a_value() -> None:
    # Frozen and hashable: settings objects compare and cache by value.
    a = BrokerAddress("a", 1883, fallbacks=["b:1883"])  # type: ignore[arg-type]  # YAML and JSON give lists
    assert a == BrokerAddress("a", 1883, fallbacks=("b:1883",)) and hash(a) == hash(
        BrokerAddress("a", 1883, fallbacks=("b:1883",))
    )
