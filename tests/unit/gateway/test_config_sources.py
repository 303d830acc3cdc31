"""The gateway's settings mean what they say: arguments beat ANXIN_GW_* variables beat the YAML file beat defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from anxin.mqtt import BrokerAddress
from gateway.config import GatewaySettings, load_settings
from gateway.errors import ConfigError

YAML = """\
gateway_id: gw-file
language: en
central_broker: {host: file.example.org, port: 8883, username: gw-file}
uplink: {batch_size: 7}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(YAML, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.upper().startswith("ANXIN_GW_")]:
        monkeypatch.delenv(name)


def test_the_file_beats_the_defaults(config: Path) -> None:
    settings = load_settings(config)
    assert (settings.gateway_id, settings.language, settings.uplink.batch_size) == ("gw-file", "en", 7)
    assert settings.timezone == "Asia/Shanghai"  # not in the file: the default
    assert settings.central_broker == BrokerAddress("file.example.org", 8883, "gw-file")


def test_the_environment_beats_the_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_GW_GATEWAY_ID", "gw-env")
    monkeypatch.setenv("ANXIN_GW_LANGUAGE", "zh-CN")
    settings = load_settings(config)
    assert (settings.gateway_id, settings.language) == ("gw-env", "zh-CN")


def test_a_nested_variable_beats_that_one_value_of_the_file_and_keeps_the_others(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANXIN_GW_CENTRAL_BROKER__HOST", "env.example.org")
    monkeypatch.setenv("ANXIN_GW_UPLINK__BATCH_SIZE", "9")
    settings = load_settings(config)
    assert settings.central_broker == BrokerAddress("env.example.org", 8883, "gw-file")
    assert settings.uplink.batch_size == 9


def test_arguments_beat_the_environment(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_GW_GATEWAY_ID", "gw-env")
    assert load_settings(config, gateway_id="gw-arg").gateway_id == "gw-arg"
    assert GatewaySettings(gateway_id="gw-arg").gateway_id == "gw-arg"


def test_the_file_is_read_only_by_the_load_that_names_it(config: Path) -> None:
    load_settings(config)
    with pytest.raises(ValueError, match="gateway_id"):
        GatewaySettings()  # no file: gateway_id has no default


@pytest.mark.parametrize(
    "text",
    [
        "gateway_id: gw\ngateway_idd: typo\n",
        "gateway_id: gw\ncentral_broker: {hots: typo.example.org}\n",
        "gateway_id: gw\nuplink: {batch_sise: 5}\n",
    ],
)
def test_a_misspelt_key_in_the_file_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid gateway configuration"):
        load_settings(path)


def test_a_misspelt_nested_variable_is_an_error(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_GW_CENTRAL_BROKER__HSOT", "typo.example.org")
    with pytest.raises(ConfigError, match="hsot"):
        load_settings(config)


def test_a_file_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(path)
