"""The web pages' words in Chinese (default) and English, and how a page picks its language."""

from __future__ import annotations

from typing import Callable

from starlette.requests import Request

from server.messages import type_name

LANGUAGES = ("zh-CN", "en")
COOKIE = "anxin_lang"

WORDS: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "app": ("安心 值班台", "Anxin duty console"),
    "queue": ("报警队列", "Alarm queue"),
    "tech": ("设备状态", "Technical"),
    "figures": ("服务指标", "Service figures"),
    "admin": ("管理", "Administration"),
    "accounts": ("账号", "Accounts"),
    "consent": ("同意", "Consent"),
    "consent_readings": ("保存健康数据", "Keep health readings"),
    "consent_sharing": ("医生查看与导出", "Doctors may see and export"),
    "consent_none": ("未同意：只处理紧急求助，不保存健康数据", "None: emergencies only, no health readings kept"),
    "account_active": ("已启用", "Active"),
    "account_disabled": ("已停用", "Disabled"),
    "disable_account": ("停用", "Disable"),
    "enable_account": ("启用", "Enable"),
    "new_password": ("新密码（至少 10 个字符）", "New password (at least 10 characters)"),
    "reset_password": ("重设密码", "Reset password"),
    "role": ("角色", "Role"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码不正确", "Wrong user name or password"),
    "one_time_code": ("一次性验证码（已开启双因素认证时填写）", "One-time code (if two-factor sign-in is on)"),
    "signed_in_as": ("值班人员", "On duty"),
    "language": ("语言", "Language"),
    "live": ("实时连接", "Live"),
    "offline": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "no_alarms": ("当前没有未处理的报警", "No open alarms"),
    "open_alarms": ("未处理报警", "Open alarms"),
    "sound_on": ("开启提示音", "Turn alert sound on"),
    "sound_ready": ("提示音已开启", "Alert sound on"),
    "alerting": ("新的紧急报警 — 请确认", "New emergency — please acknowledge"),
    "severity": ("级别", "Severity"),
    "sev_emergency": ("紧急", "Emergency"),
    "sev_urgent": ("急", "Urgent"),
    "sev_warning": ("警告", "Warning"),
    "sev_technical": ("技术", "Technical"),
    "sev_info": ("信息", "Info"),
    "st_raised": ("新报警", "New"),
    "st_notified": ("已通知家属", "Caregiver notified"),
    "st_acknowledged": ("已确认", "Acknowledged"),
    "st_resolved": ("已处理", "Resolved"),
    "st_cancelled": ("已取消", "Cancelled"),
    "status": ("状态", "Status"),
    "resident": ("老人", "Resident"),
    "alarm": ("报警", "Alarm"),
    "raised": ("报警时间", "Raised"),
    "waiting": ("已等待", "Waiting"),
    "device": ("设备", "Device"),
    "open": ("打开", "Open"),
    "acknowledge": ("确认接警", "Acknowledge"),
    "acknowledged_by": ("确认人", "Acknowledged by"),
    "note": ("备注", "Note"),
    "add_note": ("添加备注", "Add note"),
    "resolve": ("结案", "Resolve"),
    "outcome": ("处理结果", "Outcome"),
    "choose": ("— 请选择 —", "— choose —"),
    "out_false_alarm": ("误报", "False alarm"),
    "out_helped_at_home": ("上门协助", "Helped at home"),
    "out_ambulance": ("已叫救护车", "Ambulance called"),
    "out_hospital": ("已送医", "Taken to hospital"),
    "out_no_answer": ("无人应答", "No answer"),
    "out_cleared": ("已解除", "Cleared"),
    "out_other": ("其他", "Other"),
    "out_cancelled_by_resident": ("老人取消", "Cancelled by resident"),
    "out_test_passed": ("测试通过", "Test passed"),
    "act_notification_failed": ("通知发送失败", "notification failed"),
    "act_sms_sent_by_gateway": ("网关已发短信", "SMS sent by the gateway"),
    "act_stale_cancel_ignored": ("过时的取消已忽略", "stale cancel ignored"),
    "age": ("年龄", "Age"),
    "years": ("岁", "years"),
    "address": ("地址", "Address"),
    "map": ("地图", "Map"),
    "key_holder": ("钥匙保管人", "Key holder"),
    "conditions": ("病史", "Conditions"),
    "medication": ("用药", "Medication"),
    "contacts": ("联系人", "Contacts"),
    "phone": ("电话", "Phone"),
    "recent_alarms": ("近期报警", "Recent alarms"),
    "bp_readings": ("最近血压", "Latest blood pressure"),
    "history": ("处理记录", "History"),
    "none": ("无", "None"),
    "unknown_resident": ("未登记的网关", "Unregistered gateway"),
    "back": ("返回队列", "Back to queue"),
    "gateways_offline": ("离线网关", "Gateways offline"),
    "devices_silent": ("长时间无数据的设备", "Silent devices"),
    "batteries_low": ("电量低", "Batteries low"),
    "technical_alarms": ("技术报警", "Technical alarms"),
    "unknown_keys": ("未能识别的设备数据", "Device data not understood"),
    "unknown_keys_messages": ("条消息含未识别字段", "messages with keys not understood"),
    "gateway": ("网关", "Gateway"),
    "last_seen": ("最后在线", "Last seen"),
    "never": ("从未", "never"),
    "gw_online": ("在线", "online"),
    "gw_offline": ("离线", "offline"),
    "gw_unknown": ("从未连接", "never connected"),
    "not_recently": ("近一天无记录", "nothing in the last day"),
    "battery": ("电量", "Battery"),
    "all_fine": ("一切正常", "All fine"),
    "day": ("日期", "Day"),
    "person": ("确认人", "Acknowledged by"),
    "alarms_n": ("报警数", "Alarms"),
    "within_60": ("60 秒内确认", "Acknowledged ≤ 60 s"),
    "within_180": ("180 秒内确认", "Acknowledged ≤ 180 s"),
    "unanswered": ("超时未确认", "Unanswered > 180 s"),
    "target": ("达标", "Meets target"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "figures_note": ("标准要求：60 秒内 97.5%，180 秒内 99%。不含技术报警和老人自行取消的报警；"
                     "未满 180 秒的未确认报警暂不计入（{n} 条）。",
                     "Standard: 97.5 % within 60 s and 99 % within 180 s. Technical alarms and alarms the resident "
                     "cancelled are left out; unanswered alarms younger than 180 s are not counted yet ({n})."),
    "total": ("合计", "Total"),
    "residents": ("老人", "Residents"),
    "register_resident": ("登记老人", "Register a resident"),
    "pair_caregiver": ("结对家属 / 干部", "Pair a caregiver"),
    "code": ("编号", "Code"),
    "name": ("姓名", "Name"),
    "birth_year": ("出生年份", "Year of birth"),
    "relation": ("关系", "Relation"),
    "notify_url": ("通知地址（apprise URL）", "Notification URL (apprise)"),
    "list_hint": ("多项用逗号分隔", "separate several with commas"),
    "save": ("保存", "Save"),
    "caregivers": ("结对人（按顺序通知）", "Caregivers (notified in order)"),
    "devices": ("设备", "Devices"),
    "room": ("房间", "Room"),
    "saved": ("已保存", "Saved"),
    # the caregiver's page
    "cg_title": ("安心 报警", "Anxin alarm"),
    "cg_who": ("谁", "Who"),
    "cg_what": ("发生了什么", "What"),
    "cg_when": ("时间", "When"),
    "cg_where": ("地点", "Where"),
    "cg_ack": ("已确认 — 我这就过去", "Acknowledged — I'm on my way"),
    "cg_thanks": ("已确认，谢谢！老人家中会听到“有人来帮忙了”。",
                  "Acknowledged, thank you. The home is told help is on its way."),
    "cg_others": ("已确认的人", "Who has acknowledged"),
    "cg_nobody": ("还没有人确认", "Nobody has acknowledged yet"),
    "cg_closed": ("此报警已结束", "This alarm is closed"),
    "cg_bad_link": ("链接无效或已过期，请直接拨打值班电话。",
                    "This link is not valid or has expired. Please call the duty desk."),
    "call_resident": ("给老人打电话", "Call the resident"),
    "act_raised": ("报警", "raised"),
    "act_repeated": ("再次报警", "repeated"),
    "act_notified": ("已通知", "notified"),
    "act_acknowledged": ("确认", "acknowledged"),
    "act_also_acknowledged": ("也已确认", "also acknowledged"),
    "act_note": ("备注", "note"),
    "act_resolved": ("结案", "resolved"),
    "act_cancelled": ("老人取消", "cancelled by the resident"),
    "act_cleared": ("已解除", "cleared"),
    "act_escalated": ("升级通知", "escalated"),
    "call_duty": ("拨打值班电话", "Call the duty desk"),
    "offline_banner": ("连接中断 — 下面的内容可能已过时，新报警不会出现。正在重连…",
                       "Connection lost — what is below may be out of date; new alarms will not appear. Reconnecting…"),
    "last_update": ("最后更新", "Last update"),
    "alert_short": ("紧急报警", "EMERGENCY"),
    "shortcuts": ("快捷键：J 下一条报警 · A 确认接警 · N 备注 · R 结案", "Keys: J next alarm · A acknowledge · N note · R resolve"),
    "form_has_errors": ("未保存：请修改下面标红的项目", "Not saved: correct the fields marked below"),
    "no_channel": ("无通知渠道", "no channel"),
    "edit": ("编辑", "Edit"),
    "move_up": ("上移", "Move up"),
    "move_down": ("下移", "Move down"),
    "unpair": ("解除结对", "Unpair"),
    "keep_blank_hint": ("留空则保留现有的 {n} 个通知地址", "Leave blank to keep the {n} stored address(es)"),
    "notify_url_hint": ("例如 mailto://… 或 wecombot://…，多项用逗号分隔", "e.g. mailto://… or wecombot://…; separate several with commas"),
    "act_no_recipients": ("无人可通知，已转下一级", "nobody to notify: next stage at once"),
    "act_supervisor_told": ("已通知主管：未能通知家属", "supervisor told: family not reachable"),
    "act_nobody_reachable": ("所有级别均无可用联系人", "no stage reaches anybody"),
    "unreached": ("未能通知 — 无可用联系人", "Could not notify — no reachable contact"),
    "act_reminded_after_repeat": ("确认后再次呼叫，已再通知", "pressed again after acknowledgement: told again"),
    "via_console": ("值班台", "duty console"),
    "via_caregiver_link": ("手机链接", "phone link"),
    "via_resolve": ("结案", "resolve"),
}


def pick_language(request: Request, default: str) -> str:
    """The page language: ?lang=, then the cookie, then the server's default."""
    for value in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if value in LANGUAGES:
            return value
    return default if default in LANGUAGES else LANGUAGES[0]


def translator(language: str) -> Callable[..., str]:
    """`t(key, default, **fields)` for one language; unknown keys show the default, else themselves."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str, default: str | None = None, **fields: object) -> str:
        # States or actions other packages add later still show, as `default` (their own name).
        words = WORDS.get(key)
        text = words[index] if words else (default if default is not None else key)
        return text.format(**fields) if fields else text

    return t


def alarm_type(type_: str, language: str) -> str:
    """An alarm type's name, shared with the notification texts."""
    return type_name(type_, language)
