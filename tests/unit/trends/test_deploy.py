"""docker-compose's InfluxDB + Grafana and the provisioned dashboard agree with what the mirror writes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from server.settings import ServerSettings
from server.timeseries import to_point

ROOT = Path(__file__).resolve().parents[3]


def test_compose_wires_the_server_to_influxdb_and_grafana_to_the_dashboards() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    env = services["server"]["environment"]
    influx = {k: v for k, v in env.items() if k.startswith("ANXIN_INFLUX_")}
    assert set(influx) == {"ANXIN_INFLUX_URL", "ANXIN_INFLUX_TOKEN", "ANXIN_INFLUX_ORG", "ANXIN_INFLUX_BUCKET"}
    settings = ServerSettings(_env_file=None, **{k[len("ANXIN_") :].lower(): v for k, v in influx.items()})
    init = services["influxdb"]["environment"]
    assert (settings.influx_org, settings.influx_bucket, settings.influx_token) == (
        init["DOCKER_INFLUXDB_INIT_ORG"],
        init["DOCKER_INFLUXDB_INIT_BUCKET"],
        init["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"],
    )
    mounts = services["grafana"]["volumes"]
    for mount in mounts[:2]:
        assert (ROOT / mount.split(":")[0]).is_dir()


def test_dashboard_queries_ask_for_what_the_mirror_writes() -> None:
    point = to_point(
        {
            "resident_id": 1,
            "gateway_id": "gw",
            "device": "bp",
            "metric": "blood_pressure",
            "ts": datetime(2026, 3, 1, tzinfo=UTC),
            "flags": ["cuff_loose"],
            "values": {"systolic": 140, "diastolic": 90, "pulse": 70},
        }
    )
    assert point is not None
    line = point.to_line_protocol()
    measurement, tags = line.split(" ")[0].split(",", 1)
    written = set(re.findall(r"(\w+)=", line.split(" ")[1]))
    dash = json.loads((ROOT / "deploy/grafana/dashboards/blood-pressure.json").read_text())
    queries = [t["query"] for p in dash["panels"] for t in p["targets"]]
    assert queries
    for q in queries:
        assert f'r._measurement == "{measurement}"' in q and "r.resident_id ==" in q
        assert set(re.findall(r'r\._field == "(\w+)"', q)) <= written
    assert "resident_id=1" in tags
    source = (ROOT / "deploy/grafana/provisioning/datasources/influxdb.yaml").read_text()
    assert "uid: anxin-influx" in source and all(
        t["datasource"]["uid"] == "anxin-influx" for p in dash["panels"] for t in p["targets"]
    )
