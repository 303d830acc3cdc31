"""The Pi's own button and light (gpiozero MockFactory pins) driving the real gateway worker."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from anxin import protocol
from gateway.config import GpioConfig
from gateway.home.health import health_doc
from gateway.home.panel import Panel
from gateway.home.speaker import speaker_topic
from gateway.items import DeviceMessages, LocalMessage, ServerCommand
from gateway.model import DeviceEvent, EventKind
from tests.unit.gateway.pi_home import CANCEL, LED, TZ, Home


@pytest.fixture
def home(tmp_path: Path):  # type: ignore[no-untyped-def]
    h = Home(tmp_path, datetime(2026, 3, 2, 15, 0, tzinfo=TZ))
    h.panel.start()
    yield h
    h.panel.stop()
    h.outbox.close()


def test_the_pi_button_cancels_a_fall_in_its_window(home: Home) -> None:
    home.gw.process(DeviceMessages([DeviceEvent("radar", EventKind.FALL)]))
    assert home.said() == ["fall_prompt"]
    assert home.panel.showing == "asking"
    home.tick(10)
    home.press_cancel()
    home.tick(60)  # well past the 30 s window
    assert home.said() == ["fall_prompt", "fall_cancelled"]
    assert home.alarms() == [], "a fall the resident cancelled on the Pi still raised an alarm"
    assert home.panel.showing == "off"


def test_without_the_press_the_fall_is_raised(home: Home) -> None:
    home.gw.process(DeviceMessages([DeviceEvent("radar", EventKind.FALL)]))
    home.tick(31)
    assert home.alarms() == [("fall", "raise")]
    assert home.panel.showing == "alarm_sent"
    assert home.factory.pin(LED).state in (0, 1)  # blinking: driven by gpiozero's own thread


def test_the_check_in_is_asked_aloud_and_answered_with_the_pi_button(tmp_path: Path) -> None:
    h = Home(tmp_path, datetime(2026, 3, 2, 8, 50, tzinfo=TZ))
    h.panel.start()
    try:
        h.tick(1)
        h.tick(10 * 60)  # 09:00: nobody has checked in, an hour before the 10:00 deadline
        assert h.said() == ["checkin_ask"]
        assert h.panel.showing == "asking"
        h.press_cancel()
        assert h.said() == ["checkin_ask", "checkin_thanks"]
        h.tick(3600)  # past the deadline
        assert h.alarms() == [], "the check-in answered on the Pi button was not counted"
        assert h.panel.showing == "off"
    finally:
        h.panel.stop()
        h.outbox.close()


def test_led_actions_carry_a_state_not_the_spoken_sentence(home: Home) -> None:
    home.gw.process(DeviceMessages([DeviceEvent("radar", EventKind.FALL)]))
    home.tick(31)
    fall = home.gw.outbox.alarms()[-1]  # the server names the alarm it acknowledges (docs/protocol.md)
    home.gw.process(
        ServerCommand(
            protocol.Command(
                "alarm_acknowledged", {"by": "李伟", "device": "radar", "gateway_seq": fall.seq, "type": "fall"}
            )
        )
    )
    leds = [a for a in home.published if a["action"] == "led"]
    assert [a["state"] for a in leds] == ["asking", "alarm_sent", "help_coming"]
    assert all("text" not in a and "key" not in a for a in leds), leds
    assert home.panel.showing == "help_coming"
    assert home.factory.pin(LED).state == 1, "help coming is a steady light"


def test_the_light_says_offline_when_the_uplink_stays_down(home: Home) -> None:
    home.up = False
    home.panel.refresh()
    assert home.panel.showing == "off", "a short drop must not flash the light"
    home.clock.now += 121
    home.panel.refresh()
    assert home.panel.showing == "offline"
    home.up = True
    home.panel.refresh()
    assert home.panel.showing == "off"


def test_a_speaker_fault_is_raised_to_staff_and_cleared_when_it_speaks_again(home: Home) -> None:
    topic = speaker_topic("gw-pi")
    home.gw.process(LocalMessage(topic, health_doc({"speaker_missing": "no sound card found"})))
    home.gw.process(LocalMessage(topic, health_doc({"speaker_missing": "no sound card found"})))  # retained again
    home.gw.process(LocalMessage(topic, health_doc({})))
    assert home.alarms() == [("speaker_fault", "raise"), ("speaker_fault", "clear")]
    body = next(e.body for e in home.outbox.pending(10) if e.lane == "alarm")
    assert body["severity"] == "technical" and body["detail"]["problems"] == {"speaker_missing": "no sound card found"}


def test_pins_that_cannot_be_had_are_a_panel_fault_for_staff_not_a_crash(home: Home) -> None:
    from gateway.home.health import health_topic
    from gateway.home.panel import PanelError

    second = Panel(GpioConfig(cancel_pin=CANCEL, led_pin=None), lambda msgs: None, pin_factory=home.factory)
    with pytest.raises(PanelError, match="cannot open the Pi's pins"):
        second.start()  # pin 17 is already the first panel's
    home.gw.process(LocalMessage(health_topic("gw-pi", "panel"), health_doc({"gpio_failed": "pin 17 in use"})))
    assert home.alarms() == [("panel_fault", "raise")]


def test_a_later_press_the_same_day_is_not_thanked_for_the_check_in_again(tmp_path: Path) -> None:
    h = Home(tmp_path, datetime(2026, 3, 2, 8, 59, tzinfo=TZ))
    h.panel.start()
    try:
        h.tick(1)
        h.tick(60)
        h.press_cancel()  # answers the question
        h.gw.process(DeviceMessages([DeviceEvent("radar", EventKind.FALL)]))
        h.press_cancel()  # cancels the fall
        assert h.said() == ["checkin_ask", "checkin_thanks", "fall_prompt", "fall_cancelled"]
    finally:
        h.panel.stop()
        h.outbox.close()


def test_a_second_sos_press_does_not_reopen_the_window_for_the_pi_button_to_retract_the_alarm(home: Home) -> None:
    """An SOS out for 100 s (staff may be on the way) stays open when the resident, after pressing
    again, presses "I'm fine": that is recorded as a late cancel, never a retraction."""
    home.gw.process(DeviceMessages([DeviceEvent("pendant", EventKind.SOS)]))
    home.tick(50)
    home.gw.process(DeviceMessages([DeviceEvent("pendant", EventKind.SOS)]))  # still needs help
    home.tick(50)  # 100 s after the alarm went out, past the 60 s cancel window
    home.press_cancel()
    assert home.alarms() == [("sos", "raise"), ("sos", "update"), ("sos", "update")], (
        "the cancel button retracted an SOS that went out 100 s ago"
    )
    assert "sos_cancel_late" in home.said()
