"""Notification texts in the recipient's language (zh-CN by default, English)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.home_text import one_line

TYPE_NAMES = {
    "sos": {"zh-CN": "紧急求助", "en": "Emergency call (SOS)"},
    "fall": {"zh-CN": "跌倒报警", "en": "Fall detected"},
    "bp_high": {"zh-CN": "血压过高", "en": "High blood pressure"},
    "inactivity": {"zh-CN": "长时间无活动", "en": "No activity"},
    "gateway_offline": {"zh-CN": "网关离线", "en": "Gateway offline"},
    "test": {"zh-CN": "测试报警（每周测试）", "en": "Test alarm (weekly test)"},
    "device_offline": {"zh-CN": "设备离线", "en": "Device offline"},
    "low_battery": {"zh-CN": "电量低", "en": "Low battery"},
    "reminder_missed": {"zh-CN": "服药/测量提醒未确认", "en": "Reminder not confirmed"},
    "speaker_fault": {"zh-CN": "家中语音故障", "en": "Home speaker fault"},
    "coverage_gap": {"zh-CN": "保障缺口", "en": "Coverage gap"},
    "hypoglycaemia": {"zh-CN": "低血糖", "en": "Low blood glucose (hypoglycaemia)"},
    "hyperglycaemia": {"zh-CN": "血糖显著升高", "en": "Marked high blood glucose"},
    "low_spo2": {"zh-CN": "血氧饱和度低", "en": "Low oxygen saturation"},
    "fever": {"zh-CN": "发热", "en": "Fever"},
    "hypothermia": {"zh-CN": "体温过低", "en": "Low body temperature"},
    "weight_gain": {"zh-CN": "体重短期增加（心衰）", "en": "Rapid weight gain (heart failure)"},
}
GATEWAY_WORD = {"zh-CN": "网关", "en": "gateway"}

TEMPLATE = {
    "zh-CN": "{type}：{name}\n地址：{address}\n时间：{time}\n设备：{device}\n请点击确认并前往：{link}",
    "en": "{type}: {name}\nAddress: {address}\nTime: {time}\nDevice: {device}\nTap to acknowledge: {link}",
}
TITLE = {"zh-CN": "【安心】{type} — {name}", "en": "[Anxin] {type} — {name}"}
# A new press after someone acknowledged: the title says so before anything else.
AGAIN = {
    "zh-CN": "【安心】已确认后再次呼叫：{type} — {name}",
    "en": "[Anxin] Called AGAIN after acknowledgement: {type} — {name}",
}
# The supervisor's copy when the family could not be reached (server/escalation.py): why they get it.
UNREACHED = {
    "zh-CN": "【安心】未能通知家属：{type} — {name}",
    "en": "[Anxin] Family could not be notified: {type} — {name}",
}
UNREACHED_LINE = {
    "zh-CN": "未能通知 — 无可用联系人。请值班人员立即处理。\n",
    "en": "Could not notify — no reachable contact. Duty staff must act now.\n",
}
AGAIN_LINE = {
    "zh-CN": "老人在确认后再次按下求助，请尽快联系或前往。\n",
    "en": "The resident pressed again after the acknowledgement: call or go now.\n",
}


def type_name(type_: str, language: str) -> str:
    """Human name of an alarm type."""
    names = TYPE_NAMES.get(type_)
    return names.get(language, names["zh-CN"]) if names else one_line(type_, 32)


def gateway_word(language: str) -> str:
    """How to name a gateway when an alarm has no resident."""
    return GATEWAY_WORD.get(language, GATEWAY_WORD["zh-CN"])


def render(
    language: str,
    type_: str,
    name: str,
    address: str,
    at: datetime,
    device: str,
    link: str,
    again: bool = False,
    unreached: bool = False,
) -> tuple[str, str]:
    """(title, body) of an alarm notification; `again` for a new press after an acknowledgement,
    `unreached` for the supervisor's copy when nobody of the family could be notified."""
    lang = language if language in TEMPLATE else "zh-CN"
    try:
        local = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError):  # a gateway's impossible clock must not keep the message from going out
        local = at.strftime("%Y-%m-%d %H:%M:%S UTC")
    # Only the link is the server's own; every other field may have come from a home: one plain line each.
    fields = {
        "type": type_name(type_, lang),
        "name": one_line(name, 64),
        "address": one_line(address) or "—",
        "time": local,
        "device": one_line(device, 64) or "—",
        "link": link,
    }
    if unreached:
        return UNREACHED[lang].format(**fields), UNREACHED_LINE[lang] + TEMPLATE[lang].format(**fields)
    if again:
        return AGAIN[lang].format(**fields), AGAIN_LINE[lang] + TEMPLATE[lang].format(**fields)
    return TITLE[lang].format(**fields), TEMPLATE[lang].format(**fields)
