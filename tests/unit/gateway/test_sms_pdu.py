"""The PDUs the gateway writes to the modem, checked from outside: smspdudecoder (an independent
TS 23.040 decoder), the encoder library's own decoder, and the strict simulated modem on a pty."""

from __future__ import annotations

from io import StringIO

import pytest
from gsmmodem.pdu import decodeSmsPdu
from smspdudecoder.fields import SMSSubmit

from gateway.config import SmsConfig, load_settings
from gateway.errors import ConfigError, ModemError, SmsRejected
from gateway.fallback.modem import open_serial_modem
from gateway.fallback.pdu import Pdu, encode
from gateway.fallback.sms import SmsFallback, sms_text
from gateway.outbox import Outbox
from gateway.outbox_db import connect

SMSC = "+8613800100500"
ALARM = {"type": "sos", "severity": "emergency", "change": "raise", "device": "sos-button", "resident": "R001"}


def outside(pdu_hex: str) -> dict:
    """What smspdudecoder reads: recipient, type of number, text, concatenation header."""
    d = SMSSubmit.decode(StringIO(pdu_hex))
    header = (d["user_data"]["header"] or {}).get("elements", [{}])[0].get("data", {})
    return {
        "number": d["recipient"]["number"],
        "ton": d["recipient"]["toa"]["ton"],
        "text": d["user_data"]["data"],
        "ref": header.get("reference"),
        "part": header.get("part_number", 1),
        "total": header.get("parts_count", 1),
    }


def reassemble(pdus: list[Pdu]) -> str:
    parts = sorted((outside(p.hex) for p in pdus), key=lambda x: x["part"])
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert len({(p["ref"], p["total"]) for p in parts}) == 1
    return "".join(p["text"] for p in parts)


def library_text(pdus: list[Pdu]) -> str:
    """The encoder library's own decoder (it yields UTF-16 units; join the surrogate pairs)."""
    units = "".join(decodeSmsPdu(p.hex)["text"] for p in pdus)
    return units.encode("utf-16-be", "surrogatepass").decode("utf-16-be")


# --- defect 1: AT+CMGS=<n> counts the TPDU only, never the SMSC field --------------------------------------


@pytest.mark.parametrize("text", ["SOS at home", "紧急求助：" * 30, "SOS " * 60])
def test_announced_length_excludes_the_smsc_field(text):
    for pdu in encode("+8613900139000", text, smsc=SMSC):
        raw = bytes.fromhex(pdu.hex)
        assert raw[0] == 8  # the SMSC field: length octet + 8 octets, written in front
        assert pdu.tpdu_length == len(raw) - 1 - raw[0]


def test_strict_modem_rejects_a_wrong_length_and_accepts_the_right_one(modem):
    [good] = encode("+8613900139000", "紧急求助", smsc=SMSC)
    with open_serial_modem(modem.port, 115200, 2.0, 2.0) as m:
        m.initialise()
        with pytest.raises(SmsRejected) as exc:
            m.send_pdu(Pdu(good.hex, good.tpdu_length + 8))  # SMSC counted in: what the gateway used to send
        assert exc.value.code == 304
        assert m.send_pdu(good) == 1
    assert modem.texts() == {"+8613900139000": ["紧急求助"]}


def test_alarm_with_smsc_configured_reaches_every_caregiver(tmp_path, modem):
    box = Outbox(connect(tmp_path / "o.sqlite"))
    box.recover(1.7e9)
    config = SmsConfig(
        port=modem.port,
        caregivers=["+8613900139000"],
        smsc="+86 138 0010 0500",
        after_s=0,
        resident_label="王秀英，德胜门内大街 12 号",
        retry_after_s=0,
        attempts=1,
    )
    fb = SmsFallback(config, box, lambda: open_serial_modem(modem.port, 115200, 2.0, 2.0), sleep=lambda s: None)
    box.put_alarm(ALARM, 1.7e9)
    assert fb.check() == 1
    assert box.alarms()[0].body["sms"]["delivered_to"] == ["+8613900139000"]
    assert modem.rejected == [] and len(modem.pdus) == 2


# --- defect 2: characters outside the Basic Multilingual Plane ----------------------------------------------


@pytest.mark.parametrize("name", ["李𠀀芳", "张𪚥", "王秀英 🙂", "𠀀" * 90])
def test_supplementary_characters_travel_as_surrogate_pairs(name):
    text = sms_text(ALARM, 1.7e9, name, "zh-CN", "Asia/Shanghai")
    pdus = encode("+8613900139000", text, reference=9)
    assert reassemble(pdus) == text
    assert library_text(pdus) == text
    parts = [outside(p.hex) for p in pdus]
    room = 140 if len(parts) == 1 else 134  # octets of user data, less the concatenation header
    for part in parts:  # each part decodes alone (no pair cut in two) and fits its message
        assert len(part["text"].encode("utf-16-be")) <= room
    assert all(len(p["text"].encode("utf-16-be")) >= room - 2 for p in parts[:-1]), "parts filled up"


def test_pair_at_a_part_boundary_moves_whole_to_the_next_part():
    text = "一" * 66 + "𠀀" + "二" * 10  # the pair would straddle units 67 and 68
    parts = [outside(p.hex) for p in encode("+8613900139000", text, reference=3)]
    assert [p["text"] for p in parts] == ["一" * 66, "𠀀" + "二" * 10]


def test_name_outside_the_bmp_is_texted(tmp_path, modem):
    box = Outbox(connect(tmp_path / "o.sqlite"))
    box.recover(1.7e9)
    config = SmsConfig(
        port=modem.port, caregivers=["+8613900139000"], resident_label="李𠀀芳", after_s=0, retry_after_s=0, attempts=1
    )
    fb = SmsFallback(config, box, lambda: open_serial_modem(modem.port, 115200, 2.0, 2.0), sleep=lambda s: None)
    box.put_alarm(ALARM, 1.7e9)
    fb.check()
    record = box.alarms()[0].body["sms"]
    assert record["delivered_to"] == ["+8613900139000"], record
    assert modem.texts()["+8613900139000"] == [record["text"]] and "李𠀀芳" in record["text"]


# --- defect 3: numbers as people type them ------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+86 139 0013 9000", "139-0013-9000", "0086 13900139000", "139 0013 9000"])
def test_typed_numbers_are_written_in_e164_and_sent_as_international(typed):
    settings = load_settings(None, gateway_id="gw", sms={"caregivers": [typed], "smsc": "+86 138-0010-0500"})
    assert settings.sms.caregivers == ["+8613900139000"] and settings.sms.smsc == SMSC
    [pdu] = encode(settings.sms.caregivers[0], "SOS", smsc=settings.sms.smsc)
    assert outside(pdu.hex)["ton"] == "international"
    assert bytes.fromhex(pdu.hex)[9 + 3] == 0x91  # SMSC(9) FO MR LEN TOA


@pytest.mark.parametrize("bad", ["Zhang Wei's mobile", "1390013900", "10086", "+86 139 0013 9000 ext 2", ""])
def test_what_cannot_be_a_number_is_refused_when_the_configuration_loads(bad):
    with pytest.raises(ConfigError) as exc:
        load_settings(None, gateway_id="gw", sms={"caregivers": ["+8613800138000", bad]})
    assert repr(bad) in str(exc.value) and "sms" in str(exc.value)


def test_unknown_region_is_refused():
    with pytest.raises(ConfigError, match="region"):
        load_settings(None, gateway_id="gw", sms={"region": "Beijing", "caregivers": ["13900139000"]})


def test_encoder_never_writes_an_alphanumeric_address():
    with pytest.raises(ModemError, match="not a phone number"):
        encode("+86 139 0013 9000", "SOS")


def test_alphanumeric_destination_is_refused_by_the_network_and_not_delivered(tmp_path, modem):
    from gsmmodem.pdu import encodeSmsSubmitPdu

    [alpha] = encodeSmsSubmitPdu("+86 139 0013 9000", "SOS", requestStatusReport=False)  # what main sent
    with open_serial_modem(modem.port, 115200, 2.0, 2.0) as m:
        m.initialise()
        with pytest.raises(SmsRejected) as exc:
            m.send_pdu(Pdu(str(alpha), alpha.tpduLength))
    assert exc.value.code == 1 and modem.texts() == {}
