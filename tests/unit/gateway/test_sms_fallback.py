"""SMS fallback against the simulated modem on a real pseudo-terminal, opened with pyserial."""

from __future__ import annotations

import pytest

from firmware_sim.gsm_modem import decode_submit
from gateway.config import SmsConfig
from gateway.errors import ModemTimeout, SmsRejected
from gateway.fallback.modem import LineBuffer, open_serial_modem
from gateway.fallback.pdu import encode
from gateway.fallback.sms import SmsFallback, sms_text
from gateway.outbox import Outbox
from gateway.outbox_db import connect

ALARM = {
    "type": "sos",
    "severity": "emergency",
    "change": "raise",
    "device": "sos-button",
    "message": "SOS button pressed",
    "resident": "R001",
}
LABEL = "王秀英，北京市西城区德胜门内大街 12 号 3 单元 401"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(tmp_path, modem, **cfg) -> tuple[SmsFallback, Outbox, Clock]:
    box = Outbox(connect(tmp_path / "o.sqlite"))
    box.recover(1.7e9)
    config = SmsConfig(
        port=modem.port,
        caregivers=["+8613800138000", "139 0013 9000"],
        resident_label=LABEL,
        retry_after_s=0,
        command_timeout_s=1.0,
        send_timeout_s=1.0,
        **cfg,
    )
    mono = Clock()
    fb = SmsFallback(
        config, box, lambda: open_serial_modem(modem.port, 115200, 1.0, 1.0), monotonic=mono, sleep=lambda s: None
    )
    return fb, box, mono


def test_pdu_round_trip_ucs2_concatenated():
    text = sms_text(ALARM, 1.7e9, LABEL, "zh-CN", "Asia/Shanghai")
    assert len(text) > 70
    parts = [decode_submit(p.hex) for p in encode("+8613800138000", text, reference=42)]
    assert len(parts) == 2 and {p.total for p in parts} == {2} and {p.ref for p in parts} == {42}
    assert "".join(p.text for p in sorted(parts, key=lambda p: p.part)) == text
    assert parts[0].number == "+8613800138000"


def test_alarm_unacknowledged_past_deadline_is_texted_intact_to_every_caregiver(tmp_path, modem):
    fb, box, mono = make(tmp_path, modem)
    seq = box.put_alarm(ALARM, 1.7e9)
    assert fb.check() == 0  # first seen now
    mono.t += 29.0
    assert fb.check() == 0 and modem.received == []  # not yet: the server has 30 s
    mono.t += 1.5
    assert fb.check() == 1
    texts = modem.texts()
    expected = sms_text(ALARM, 1.7e9, LABEL, "zh-CN", "Asia/Shanghai")
    assert texts == {"+8613800138000": [expected], "+8613900139000": [expected]}
    assert "王秀英" in expected and "紧急求助" in expected and "德胜门内大街" in expected
    record = box.alarms()[0].body["sms"]
    assert record["delivered_to"] == ["+8613800138000", "+8613900139000"]
    assert box.alarms()[0].seq == seq
    mono.t += 100
    assert fb.check() == 0, "an alarm must be texted once, not every second"
    assert len(modem.texts()["+8613900139000"]) == 1


def test_acknowledged_alarm_is_never_texted(tmp_path, modem):
    fb, box, mono = make(tmp_path, modem)
    seq = box.put_alarm(ALARM, 1.7e9)
    fb.check()
    box.ack([seq])
    mono.t += 60
    assert fb.check() == 0 and modem.received == []


def test_cms_error_and_timeout_are_retried_and_every_attempt_logged(tmp_path, modem):
    fb, box, mono = make(tmp_path, modem, attempts=3)
    box.put_alarm(ALARM, 1.7e9)
    fb.check()
    mono.t += 31
    modem.fail_next(1, "cms:331")  # no network service
    modem.fail_next(1, "silent")  # then the modem hangs once
    fb.check()
    record = box.alarms()[0].body["sms"]
    first = [a for a in record["attempts"] if a["to"] == "+8613800138000"]
    assert [a["ok"] for a in first] == [False, False, True]
    assert "+CMS ERROR: 331" in first[0]["error"] and "time-out" in first[1]["error"]
    assert record["delivered_to"] == ["+8613800138000", "+8613900139000"]
    assert len(fb.attempts_log) == 4


def test_all_attempts_failing_is_recorded_not_raised(tmp_path, modem):
    fb, box, mono = make(tmp_path, modem, attempts=2)
    box.put_alarm(ALARM, 1.7e9)
    fb.check()
    mono.t += 31
    modem.fail_next(4, "cms:500")
    fb.check()
    record = box.alarms()[0].body["sms"]
    assert record["delivered_to"] == [] and len(record["attempts"]) == 4


def test_only_raised_urgent_alarms_are_texted(tmp_path, modem):
    fb, box, mono = make(tmp_path, modem)
    box.put_alarm({**ALARM, "change": "cancel"}, 1.7e9)
    box.put_alarm({**ALARM, "type": "battery_low", "severity": "technical"}, 1.7e9)
    fb.check()
    mono.t += 60
    assert fb.check() == 0 and modem.received == []


def test_modem_errors(modem):
    with open_serial_modem(modem.port, 115200, 0.5, 0.5) as m:
        m.initialise()
        with pytest.raises(SmsRejected) as exc:
            modem.fail_next(1, "cms:38")
            m.send_sms("10086", "hi")
        assert exc.value.code == 38
        modem.fail_next(1, "silent")
        with pytest.raises(ModemTimeout):
            m.send_sms("10086", "hi")
        assert m.send_sms("10086", "ok again") == [1]
    assert modem.commands[:4] == ["AT", "ATE0", "AT+CMEE=1", "AT+CMGF=0"]


def test_missing_port_is_a_modem_error(tmp_path):
    from gateway.errors import ModemError

    with pytest.raises(ModemError), open_serial_modem(str(tmp_path / "ttyNOPE"), 115200, 1.0, 1.0):
        pass


def test_line_buffer_prompt_and_split_lines():
    buf = LineBuffer()
    assert buf.feed(b"\r\nOK\r\n\r\n+CMGS: 1") == ["OK"]
    assert buf.feed(b"2\r\n") == ["+CMGS: 12"]
    buf.feed(b"\r\n> ")
    assert buf.take_prompt()


def test_anxin_sim_modem_prints_its_port_and_each_sms():
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "modem", "--exit-after", "20"], stdout=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        port = first.split(" on ")[1].split(" ")[0]
        with open_serial_modem(port, 115200, 5.0, 5.0) as m:
            m.initialise()
            m.send_sms("+8613800138000", "老人按下了求助按钮")
        assert proc.stdout.readline().strip() == "SMS to +8613800138000: 老人按下了求助按钮"
    finally:
        proc.kill()
        proc.wait()
