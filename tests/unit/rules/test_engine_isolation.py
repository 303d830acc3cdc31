"""One rule raising must not take the other rules' decisions (above all SOS) down with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import GatewaySettings
from gateway.devices.router import Router
from gateway.items import DeviceMessages
from gateway.model import EventKind
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.engine import Engine, Input
from gateway.rules.sos import SosRule
from gateway.service import Gateway
from tests.unit.rules.helpers import T0, ev


@dataclass(frozen=True)
class Broken:
    """A rule with a bug: it raises on every device event."""

    name: str = "broken"

    def initial(self) -> Any:
        return "untouched"

    def evaluate(self, state: Any, item: Input, now: Any) -> Any:
        raise KeyError("bug in a rule")


def test_a_failing_rule_keeps_its_state_and_sos_still_raises() -> None:
    engine = Engine((Broken(), SosRule()))
    decision = engine.evaluate(engine.initial(), ev(EventKind.SOS, "button"), T0)
    assert [(a.type, a.device) for a in decision.alarms] == [("sos", "button")]
    assert [a.message_key for a in decision.actions] == ["sos_raised", "alarm_sent"]
    assert decision.state["broken"] == "untouched"
    assert [name for name, _exc in decision.failed] == ["broken"]


def test_the_gateway_counts_a_failing_rule_and_still_stores_the_sos(tmp_path: Path) -> None:
    settings = GatewaySettings(gateway_id="gw-t", data_dir=tmp_path)
    outbox = Outbox(connect(settings.outbox_path))
    gw = Gateway(
        settings,
        Router(settings),
        Engine((Broken(), SosRule())),
        outbox,
        publish_local=lambda t, p: None,
        wake_uplink=lambda: None,
    )
    gw.process(DeviceMessages([ev(EventKind.SOS, "button")]))
    assert [e.body["type"] for e in outbox.pending(10) if e.lane == "alarm"] == ["sos"]
    assert gw.counters["rule_errors"] == 1
    outbox.close()
