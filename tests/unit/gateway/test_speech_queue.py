"""The pure half of the speaker: what is said first, what is not said twice, and how the voice is set."""

from __future__ import annotations

import json

import pytest

from gateway.home.speech import BadAction, Priority, Prompt, SpeechQueue, fixed_prompts, interrupts, parse_action
from gateway.home.voice import Voice


def prompt(key: str, text: str | None = None) -> Prompt:
    doc = {"v": 1, "action": "say", "key": key, "text": text or key, "lang": "zh-CN"}
    got = parse_action(json.dumps(doc).encode(), "zh-CN")
    assert got is not None
    return got


def test_emergencies_first_then_normal_then_reminders_each_in_arrival_order() -> None:
    q = SpeechQueue()
    for p in (
        prompt("reminder_medication"),
        prompt("checkin_thanks"),
        prompt("sos_raised"),
        prompt("help_coming"),
        prompt("reminder_measurement"),
    ):
        assert q.offer(p, None)
    order = [p.key for p in iter(q.pop, None)]
    assert order == ["sos_raised", "help_coming", "checkin_thanks", "reminder_medication", "reminder_measurement"]


def test_the_same_sentence_playing_or_waiting_is_not_queued_again() -> None:
    q = SpeechQueue()
    playing = prompt("sos_raised")
    assert not q.offer(prompt("sos_raised"), playing)
    assert q.offer(prompt("fall_prompt"), playing)
    assert not q.offer(prompt("fall_prompt"), playing)
    assert len(q) == 1


def test_only_an_emergency_interrupts_and_never_another_emergency() -> None:
    assert interrupts(prompt("sos_raised"), prompt("reminder_medication"))
    assert interrupts(prompt("fall_prompt"), prompt("checkin_thanks"))
    assert not interrupts(prompt("help_coming"), prompt("sos_raised"))
    assert not interrupts(prompt("checkin_ask"), prompt("reminder_medication"))
    assert not interrupts(prompt("sos_raised"), None)


def test_other_actions_are_ignored_and_bad_ones_refused() -> None:
    assert parse_action(b'{"v": 1, "action": "led", "state": "alarm_sent"}', "zh-CN") is None
    for bad in (
        b"not json",
        b"[1]",
        b'{"action": "say", "key": "x", "text": "   "}',
        b'{"action": "say", "key": 3, "text": "x"}',
    ):
        with pytest.raises(BadAction):
            parse_action(bad, "zh-CN")


def test_fixed_prompts_are_those_without_a_name_in_them() -> None:
    keys = {p.key for p in fixed_prompts("zh-CN")}
    assert "sos_raised" in keys and "fall_prompt" in keys
    assert "help_coming" not in keys and "reminder_medication" not in keys  # {by}, {what}
    assert all(p.priority in Priority for p in fixed_prompts("en"))


def test_voice_paces_chinese_and_english_differently_and_keys_change_with_settings() -> None:
    v = Voice()
    assert v.args("zh-CN")[:7] == ["espeak-ng", "-v", "cmn", "-s", "160", "-g", "0"]
    assert v.args("en")[:7] == ["espeak-ng", "-v", "en", "-s", "140", "-g", "3"]
    assert v.args("yue")[2] == "yue"
    assert v.cache_key("zh-CN", "您好") == Voice().cache_key("zh-CN", "您好")
    assert v.cache_key("zh-CN", "您好") != Voice(pitch=50).cache_key("zh-CN", "您好")
    assert v.render_command("en", "-v hello", "/tmp/x.wav")[-2:] == ["--", "-v hello"]  # text is never an option
