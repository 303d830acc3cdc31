"""The server reads ANXIN_MQTT_TLS_CA, _SHARED_GROUP and _CLIENT_ID with `env_nested_delimiter="_"` split once
(`env_nested_max_split=1`). pydantic-settings has that key only since 2.8.0 (pydantic-settings#534); an older
one ignores it, splits `MQTT_TLS_CA` into mqtt.tls.ca, and `BrokerAddress` (extra="forbid") stops the server at
start with "mqtt.tls: Unexpected keyword argument" (reproduced with pydantic-settings 2.7.1). pyproject.toml
still declares `pydantic-settings>=2.4`, and `pip install .[server]` over an existing venv keeps whatever
already satisfies the floor — so the floor must be the version the settings need (review of issue 23)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from server.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[3]


def declared_floor(distribution: str) -> tuple[int, ...]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if re.match(rf"{re.escape(distribution)}\s*[<>=!~]", d))
    found = re.search(r">=\s*([0-9][0-9.]*)", spec)
    assert found, f"no lower bound for {distribution}: {spec}"
    return tuple(int(part) for part in found.group(1).split("."))


def test_the_declared_pydantic_settings_floor_knows_env_nested_max_split() -> None:
    assert ServerSettings.model_config.get("env_nested_max_split") == 1  # what the ANXIN_MQTT_* names rely on
    assert declared_floor("pydantic-settings") >= (2, 8), (
        "server/settings.py needs env_nested_max_split (pydantic-settings 2.8.0); with the declared floor an "
        "older pydantic-settings splits ANXIN_MQTT_SHARED_GROUP / _TLS_CA / _CLIENT_ID into mqtt.shared.group … "
        "and the server refuses to start"
    )
