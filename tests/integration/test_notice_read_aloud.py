"""A notice ticked "read aloud" is said at the addressed resident's home through the real gateway and
Mosquitto, as a normal prompt that never cuts an emergency one; an unticked notice is not said."""

from __future__ import annotations

import json

import httpx
import pytest

from firmware_sim.installation import build_home, gateway_settings
from gateway.home.speech import Priority, Prompt, interrupts, parse_action
from tests.integration.harness import auth_headers, provision, start_server, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):  # type: ignore[no-untyped-def]
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    home = build_home(gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw"))
    home.start()
    yield server, home
    home.stop()
    server.stop()


def notices_said(home) -> list[dict]:  # type: ignore[no-untyped-def]
    docs = [json.loads(payload) for _topic, payload in list(home.actions)]
    return [d for d in docs if d.get("action") == "say" and d.get("key") == "notice"]


def test_a_notice_read_aloud_is_said_at_home_and_an_unticked_one_is_not(installation, receiver) -> None:  # type: ignore[no-untyped-def]
    server, home = installation
    base = server.settings.base_url
    supervisor = auth_headers(base, "supervisor")
    quiet = httpx.post(
        f"{base}/api/v1/notices",
        headers=supervisor,
        timeout=15,
        json={"title": "停水通知", "body": "周六上午九点到十二点停水"},
    )
    assert quiet.status_code == 201, quiet.text
    r = httpx.post(
        f"{base}/api/v1/notices",
        headers=supervisor,
        timeout=15,
        json={"title": "防诈骗讲座", "body": "周五下午两点，社区活动室。", "read_aloud": True},
    )
    assert r.status_code == 201, r.text
    assert wait_until(lambda: notices_said(home), timeout=30), "the home never said the notice"
    said = notices_said(home)
    assert len(said) == 1 and "防诈骗讲座" in said[0]["text"] and "社区活动室" in said[0]["text"]
    assert "停水" not in json.dumps(said, ensure_ascii=False)
    prompt = parse_action(json.dumps(said[0]).encode(), "zh-CN")  # as the speaker bridge queues it
    emergency = Prompt("sos_raised", "已收到您的求助", "zh-CN", Priority.EMERGENCY)
    assert prompt is not None and prompt.priority == Priority.NORMAL
    assert not interrupts(prompt, emergency) and interrupts(emergency, prompt)
    deliveries = httpx.get(f"{base}/api/v1/notices", headers=supervisor, timeout=15).json()
    assert [n["read_aloud"] for n in deliveries] == [True, False]
    out = httpx.get(f"{base}/api/v1/notices/{r.json()['id']}/deliveries", timeout=15, headers=supervisor).json()
    assert out["read_aloud_homes"] == [{"gateway": "gw-r001", "ok": True}]
