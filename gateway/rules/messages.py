"""What the home says to the resident, in their language."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "sos_raised": {
        "zh-CN": "已收到您的求助，正在通知您的联系人，请保持冷静。",
        "en": "Your call for help was received. We are alerting your contacts.",
    },
    "sos_cancelled": {"zh-CN": "求助已取消。", "en": "Your call for help was cancelled."},
    "sos_cancel_late": {
        "zh-CN": "求助已经发出，工作人员会和您联系确认。",
        "en": "Your call for help has already gone out; staff will contact you to check.",
    },
    "help_coming": {
        "zh-CN": "{by}已收到求助，马上就来，请不要担心。",
        "en": "{by} has your call and is on the way. Help is coming.",
    },
    "test_alarm": {"zh-CN": "这是每周测试，系统工作正常。", "en": "This is the weekly test. The system is working."},
    "fall_prompt": {
        "zh-CN": "检测到您可能摔倒了。您还好吗？如果没事，请按取消键。",
        "en": "It looks like you may have fallen. Are you all right? Press the button to cancel.",
    },
    "fall_cancelled": {"zh-CN": "好的，已取消。请小心慢行。", "en": "All right, cancelled. Please take care."},
    "fall_alarm": {
        "zh-CN": "正在为您呼叫帮助，请尽量保持不动，帮助马上就到。",
        "en": "We are calling for help. Try to stay still; help is on the way.",
    },
    "bp_repeat_high": {
        "zh-CN": "您的血压很高。请坐好休息五分钟，然后再测一次。",
        "en": "Your blood pressure is very high. Sit and rest for five minutes, then measure again.",
    },
    "bp_urgent": {
        "zh-CN": "复测血压仍然很高，已通知您的医生和联系人。请坐下休息，不要走动。",
        "en": "Your repeat reading is still very high. Your doctor and contacts are being told. Sit and rest.",
    },
    "bp_repeat_quality": {
        "zh-CN": "这次测量不准确。请坐直、保持不动、绑好袖带后再测一次。",
        "en": "That measurement was disturbed. Sit upright, keep still, check the cuff and measure again.",
    },
    "glucose_low": {
        "zh-CN": "您的血糖偏低。请马上吃15克糖，比如半杯果汁或三四块糖，坐下休息，15分钟后再测一次。",
        "en": "Your blood sugar is low. Take 15 g of sugar now, such as half a glass of juice, sit down, "
        "and measure again in 15 minutes.",
    },
    "glucose_urgent_low": {
        "zh-CN": "您的血糖很低，已通知您的联系人。请马上吃糖或喝果汁，坐下不要走动，15分钟后再测一次。",
        "en": "Your blood sugar is very low; your contacts are being told. Take sugar or juice now, sit down, "
        "and measure again in 15 minutes.",
    },
    "glucose_recovered": {
        "zh-CN": "血糖已经回升，请吃点东西，注意休息。",
        "en": "Your blood sugar is back up. Please have something to eat and rest.",
    },
    "glucose_repeat_missing": {
        "zh-CN": "刚才血糖偏低，请现在再测一次血糖。已通知您的联系人。",
        "en": "Your blood sugar was low. Please measure it again now. Your contacts have been told.",
    },
    "spo2_repeat": {
        "zh-CN": "血氧偏低。请坐下休息，慢慢深呼吸，几分钟后再测一次。",
        "en": "Your oxygen level is low. Sit, breathe slowly and deeply, and measure again in a few minutes.",
    },
    "fever": {
        "zh-CN": "您在发烧。请多喝水、休息，已告知您的医生。",
        "en": "You have a fever. Drink water and rest; your doctor has been told.",
    },
    "temperature_low": {
        "zh-CN": "您的体温过低。请加衣保暖，已通知您的联系人。",
        "en": "Your body temperature is too low. Put on warm clothes; your contacts are being told.",
    },
    "weight_gain": {
        "zh-CN": "这几天体重增加较快，可能是水肿。请少喝水少吃盐，已告知您的医生。",
        "en": "Your weight has gone up quickly; this may be fluid. Limit salt and fluids; your doctor has been told.",
    },
    "inactivity_prewarn": {
        "zh-CN": "好一阵没有看到您活动了。如果您没事，请走动一下或按平安键。",
        "en": "We have not seen you move for a while. If you are fine, please move about or press check-in.",
    },
    "checkin_thanks": {"zh-CN": "今天的平安已报，谢谢您。", "en": "Thank you, today's check-in is done."},
    "reminder_medication": {
        "zh-CN": "该吃药了：{what}。吃好后请按一下大按钮。",
        "en": "Time for your medicine: {what}. Press the big button when you have taken it.",
    },
    "reminder_measurement": {
        "zh-CN": "该量血压了：{what}。请坐好，绑好袖带，量好后会自动记下。",
        "en": "Time to measure: {what}. Sit down, put on the cuff; the reading is noted by itself.",
    },
    "reminder_thanks": {"zh-CN": "好的，已经记下了，谢谢您。", "en": "Thank you, that is noted."},
    "checkin_ask": {
        "zh-CN": "您好！今天身体还好吗？如果平安，请按一下大按钮。",
        "en": "Hello! Are you well today? If all is well, please press the big button.",
    },
    "notice": {  # a notice (信息发布) staff chose to have read aloud; normal priority, never over an emergency
        "zh-CN": "社区通知：{title}。{body}",
        "en": "A notice from the community: {title}. {body}",
    },
}


def text(key: str, language: str, **params: str) -> str:
    """The sentence for a message key, falling back to Chinese, then to the key itself."""
    forms = MESSAGES.get(key, {})
    template = forms.get(language) or forms.get("zh-CN") or key
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
