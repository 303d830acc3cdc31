"""Commands from the server and the home: acknowledgement feedback, rules push, away mode, pairing."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from anxin import protocol
from anxin import reminders_document as reminder_schedule
from anxin.mqtt import MqttError
from anxin.rules_document import RulesConfigError
from gateway.clocks import Clocks
from gateway.config import GatewaySettings
from gateway.devices import zigbee2mqtt
from gateway.model import Action, Alarm, LedState, Severity
from gateway.open_alarms import OpenAlarms, spoken_name
from gateway.outlet import Outlet, PublishLocal
from gateway.rulebook import RuleBook
from gateway.rules import push
from gateway.rules.engine import ModeChange

log = logging.getLogger(__name__)

NOTICE_COMMAND = "notice"  # {"notice_id", "title", "body"}: said once at home, as any normal prompt


def mode_topic(gateway_id: str) -> str:
    """Local-bus topic where the home sets away mode: `{"away": true}`."""
    return f"anxin/home/{gateway_id}/mode"


def read_mode(payload: bytes, source: str, counters: Counter[str]) -> ModeChange | None:
    """An away-mode message from the home's bus or the server as a rules input; None (counted) when bad."""
    try:
        doc = json.loads(payload)
        change = push.mode_change(doc if isinstance(doc, dict) else {}, source)
    except (ValueError, RulesConfigError) as exc:
        counters["parse_errors"] += 1
        log.warning("bad away-mode message from %s: %s", source, exc)
        return None
    log.info("away mode %s (from %s)", "on" if change.away else "off", source)
    return change


class Commands:
    """Carries out the server's commands; used only from the worker's thread, no I/O in the constructor."""

    def __init__(
        self,
        settings: GatewaySettings,
        rules: RuleBook,
        outlet: Outlet,
        open_alarms: OpenAlarms,
        publish_local: PublishLocal,
        clocks: Clocks,
        counters: Counter[str],
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.outlet = outlet
        self.open_alarms = open_alarms  # the alarms raised here: the only ones "help is coming" is said for
        self.publish_local = publish_local  # zigbee2mqtt's own topics, for pairing
        self.clocks = clocks
        self.counters = counters

    def handle(self, command: protocol.Command) -> None:
        """One command from the server: acknowledgement feedback to the resident, and more."""
        self.counters["commands"] += 1
        if command.cmd == "alarm_acknowledged":
            self.acknowledged(command.args)
        elif command.cmd == "test_alarm":
            # The weekly test: the home speaks, and a `test` alarm travels the whole way up through the outbox.
            self.outlet.act(Action("say", "test_alarm"))
            self.outlet.raise_alarm(Alarm("test", Severity.INFO, "weekly test", detail={"by": command.args.get("by")}))
        elif command.cmd == push.COMMAND:
            log.info(
                "rules configuration version %r pushed by the server (asked by %r)",
                command.args.get("version"),
                str(command.args.get("by", "?"))[:64],
            )
            report, retired = self.rules.apply(command.args, self.clocks.utc())
            for alarm in retired:
                self.outlet.raise_alarm(alarm)
            self.outlet.report(report)
        elif command.cmd == reminder_schedule.COMMAND:
            self.outlet.report(self.rules.apply_reminders(command.args))
        elif command.cmd == push.MODE_COMMAND:
            change = read_mode(json.dumps(command.args).encode(), "server", self.counters)
            if change is not None:
                self.outlet.carry_out(self.rules.evaluate(change, self.clocks.utc()))
        elif command.cmd == NOTICE_COMMAND:  # staff published a notice to be read aloud (normal priority)
            words = {k: str(command.args.get(k, ""))[:limit] for k, limit in (("title", 128), ("body", 2000))}
            self.outlet.act(Action("say", "notice", None, {**words, "notice": command.args.get("notice_id")}))
        elif command.cmd == "permit_join":  # an installer pairs a new zigbee device from the console
            log.info("permit_join asked by %r through the server", str(command.args.get("by", "?"))[:64])
            self.permit_join(command.args.get("seconds", 120))
        else:
            log.warning("unknown command %r from the server", command.cmd)

    def acknowledged(self, args: Mapping[str, Any]) -> None:
        """Staff took an alarm: "help is coming", said only for an alarm raised here and still open."""
        if not self.open_alarms.holds(args.get("gateway_seq"), args.get("type"), self.clocks.wall()):
            # "Help is coming" for an alarm that does not exist would make a resident stop calling for help.
            self.counters["untrusted_commands"] += 1
            log.warning(
                "alarm_acknowledged for an alarm this gateway does not hold open (seq %r, %r): not said",
                args.get("gateway_seq"),
                str(args.get("type"))[:32],
            )
            return
        by = spoken_name(args.get("by"), self.settings.roster, self.settings.language)
        device = args.get("device") if self.settings.device(str(args.get("device"))) else None
        self.outlet.act(Action("say", "help_coming", device, {"alarm_id": args.get("alarm_id")}), by=by)
        self.outlet.act(Action("led", LedState.HELP_COMING, device))

    def permit_join(self, seconds: object) -> None:
        """Open (or with 0 close) the zigbee network for pairing through zigbee2mqtt."""
        try:
            topic, payload = zigbee2mqtt.permit_join_request(int(seconds))  # type: ignore[call-overload]  # the server's argument, any JSON: int() refusing it is caught below
            self.publish_local(topic, payload)
            log.info("zigbee2mqtt permit_join for %s s", seconds)
        except (ValueError, TypeError) as exc:
            log.warning("bad permit_join command (%r): %s", seconds, exc)
        except MqttError as exc:  # the local broker is down: say so, the installer will retry
            self.counters["action_errors"] += 1
            log.error("could not publish permit_join: %s", exc)
