"""What the home says to the resident, in their language."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "sos_raised": {
        "zh-CN": "已收到您的求助，正在通知您的联系人，请保持冷静。",
        "en": "Your call for help was received. We are alerting your contacts.",
    },
    "sos_cancelled": {"zh-CN": "求助已取消。", "en": "Your call for help was cancelled."},
    "help_coming": {
        "zh-CN": "{by}已收到求助，马上就来，请不要担心。",
        "en": "{by} has your call and is on the way. Help is coming.",
    },
    "test_alarm": {"zh-CN": "这是每周测试，系统工作正常。", "en": "This is the weekly test. The system is working."},
}


def text(key: str, language: str, **params: str) -> str:
    """The sentence for a message key, falling back to Chinese, then to the key itself."""
    forms = MESSAGES.get(key, {})
    template = forms.get(language) or forms.get("zh-CN") or key
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
