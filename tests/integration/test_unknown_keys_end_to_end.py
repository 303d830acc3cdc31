"""A real gateway on a real home Mosquitto: a Zigbee blood-pressure bridge and a climate sensor with
keys nothing reads. What has a meaning reaches the server as readings; the rest is counted, reported
once, and shown on the console's technical view."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from firmware_sim.installation import build_home, gateway_settings
from gateway.config import DeviceConfig
from server.db.models import Reading
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration

DEVICES = [
    DeviceConfig(name="zigbee-bp", family="zigbee2mqtt", role="bp_monitor"),
    DeviceConfig(name="living-climate", family="zigbee2mqtt", model="WSDCGQ11LM", role="climate"),
]


def test_unknown_keys_are_counted_and_shown_on_the_technical_view(
    tmp_path: Path, home_broker, central_broker, receiver
):  # type: ignore[no-untyped-def]
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    home = build_home(settings.model_copy(update={"devices": DEVICES}))
    home.start()
    try:
        assert home.devices_link.wait_connected(10)

        def publish(name, doc):
            return home.devices_link.publish(
                f"zigbee2mqtt/{name}",
                json.dumps(doc).encode(),
                1,
            )

        publish("zigbee-bp", {"systolic": 138, "diastolic": 86, "heart_rate": 72})
        for _ in range(5):
            publish("living-climate", {"temperature": 21.5, "humidity": 40, "pressure": 1009.7, "comfort_index": 6})

        def readings() -> dict[str, list[dict]]:
            with server.services.sessions() as s:
                out: dict[str, list[dict]] = {}
                for r in s.query(Reading).all():
                    out.setdefault(r.metric, []).append(r.values)
                return out

        assert wait_until(lambda: len(readings().get("climate", [])) == 5 and readings().get("blood_pressure"), 30)
        assert readings()["blood_pressure"] == [{"systolic": 138.0, "diastolic": 86.0, "pulse": 72.0}]
        assert readings()["climate"][0]["pressure_hpa"] == 1009.7
        assert home.gateway.gateway.counters["unknown_keys"] == 5

        with httpx.Client(base_url=server.settings.base_url, timeout=15) as web:
            r = web.post("/console/login", data={"username": "duty", "password": "anxin-demo"})
            assert r.status_code in (200, 303)

            def shown() -> str:
                page = web.get("/console/tech").text
                section = page[page.index('id="h-unknown-keys"') :]
                return section[: section.index("</section>")]

            assert wait_until(lambda: "living-climate" in shown(), 30), shown()
            assert "<code>comfort_index</code> × 1" in shown(), "reported when first seen, then hourly"
            assert "zigbee-bp" not in shown()
    finally:
        home.stop()
        server.stop()
