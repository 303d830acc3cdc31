"""A week of home measurements from a simulated monitor, through a real gateway and server, in the doctor's
figures, the FHIR export and the InfluxDB mirror (VictoriaMetrics)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import httpx
import pytest

from firmware_sim.installation import DEMO_PASSWORD, build_home, gateway_settings
from firmware_sim.native_devices import NativeDevice
from gateway.config import DeviceConfig
from server.db.models import Reading
from server.trends.series import zone
from tests.conftest import Mosquitto
from tests.integration.harness import provision, start_server, wait_until
from tests.integration.victoria import BINARY, VictoriaMetrics

pytestmark = pytest.mark.integration
BEIJING = zone("Asia/Shanghai")


def test_a_week_of_measurements_becomes_the_doctors_7_2_2_average(
    tmp_path: Path, home_broker: Mosquitto, central_broker: Mosquitto
) -> None:
    if not Path(BINARY).exists():
        pytest.fail("victoria-metrics is not installed: run scripts/test.sh")
    vm = VictoriaMetrics(tmp_path).start()
    server = start_server(tmp_path, central_broker.address, influx_url=vm.url, influx_flush_interval_ms=200)
    provision(server, 1, [])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    settings = settings.model_copy(
        update={"devices": [DeviceConfig(name="wifi-bp", family="native", role="bp_monitor")]}
    )
    home = build_home(settings)
    home.start()
    try:
        monitor = NativeDevice("wifi-bp", lambda t, p: home.devices_link.publish(t, p, 1))
        last_day = datetime.now(BEIJING).date() - timedelta(days=1)
        sent = 0
        for k in range(7):  # 7-2-2: seven days, morning and evening, two readings each
            day = last_day - timedelta(days=6 - k)
            for hhmm, (s, d) in (((7, 30), (150, 95)), ((21, 0), (140, 85))):
                for minute in (0, 2):
                    at = datetime.combine(day, time(hhmm[0], hhmm[1] + minute), tzinfo=BEIJING)
                    flags = ("irregular_pulse",) if sent == 0 else ()
                    # day 1 is 20 mmHg higher: the protocol drops it, so the average must not move
                    monitor.blood_pressure(s + (20 if k == 0 else 0), d, 70, flags=flags, measured_at=at)
                    sent += 1

        def stored() -> int:
            with server.services.sessions() as s:
                return s.query(Reading).filter_by(metric="blood_pressure").count()

        assert wait_until(lambda: stored() == 28, 60), (
            f"{stored()} of 28 readings stored; gateway {home.gateway.gateway.counters}"
        )
        base = server.settings.base_url
        with httpx.Client(base_url=base, timeout=20) as web:
            assert (
                web.post("/api/v1/auth/token", data={"username": "doctor", "password": DEMO_PASSWORD}).status_code
                == 200
            )
            body = web.get("/api/v1/trends/residents/R001", params={"days": 7, "until": str(last_day)}).json()
            assert body["readings"] == 28 and body["missed_days"] == 0
            home_avg = body["home_average"]
            assert (home_avg["readings"], home_avg["systolic"], home_avg["diastolic"]) == (24, 145.0, 90.0)
            assert home_avg["diagnostic"] is True and home_avg["hypertensive"] is True
            # morning (2 x 170 + 12 x 150) / 14 minus evening (2 x 160 + 12 x 140) / 14: day 1 counts here
            assert body["morning_minus_evening"]["systolic"] == pytest.approx(10.0)
            assert body["flag_counts"]["irregular_pulse"] == 1
            fhir = web.get("/api/v1/trends/residents/R001/fhir", params={"days": 7, "until": str(last_day)}).json()
            assert sum(e["resource"]["resourceType"] == "Observation" for e in fhir["entry"]) == 28 * 2
            page = web.get("/doctor/residents/R001", params={"days": 7, "until": str(last_day)})
            assert page.status_code == 200 and page.text.count('class="systolic am"') == 14
        assert wait_until(lambda: len(vm.samples("blood_pressure_systolic")) == 28, 30)
    finally:
        home.stop()
        server.stop()
        vm.stop()
