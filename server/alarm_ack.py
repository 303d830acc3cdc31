"""Acknowledging an alarm, from wherever someone taps (API, console, caregiver link): record it, tell the home."""

from __future__ import annotations

import logging

from anxin import protocol
from anxin.mqtt import MqttError
from server import alarms as desk
from server.db.models import Alarm
from server.services import Services

log = logging.getLogger(__name__)


def acknowledge_and_tell_home(services: Services, alarm_id: int, by: str, via: str) -> Alarm:
    """Record the acknowledgement, then tell the home that help is coming."""
    with services.sessions() as s, s.begin():
        alarm, first = desk.acknowledge(s, alarm_id, by, via, services.clock())
    if first:
        try:
            services.downlink(
                alarm.gateway_id,
                protocol.AlarmAcknowledged(alarm.id, alarm.gateway_seq, alarm.type, alarm.device, by, via).to_command(),
            )
        except MqttError as exc:
            # The acknowledgement is stored: whoever tapped gets their answer, and staff see on the alarm
            # that the home did not hear "help is coming" (the link to the broker was down: a restart,
            # the intake probe reconnecting), so someone can call the resident.
            log.error("alarm %d acknowledged by %s, but the home could not be told: %s", alarm.id, by, exc)
            with services.sessions() as s, s.begin():
                desk.audit(
                    s, desk.get_alarm(s, alarm.id), "home_not_told", "system", services.clock(), reason=str(exc)[:200]
                )
    return alarm
