"""The web pages' words in Chinese (default) and English, and how a page picks its language."""

from __future__ import annotations

from collections.abc import Callable

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
    "figures_note": (
        "标准要求：60 秒内 97.5%，180 秒内 99%。不含技术报警和老人自行取消的报警；"
        "未满 180 秒的未确认报警暂不计入（{n} 条）。",
        "Standard: 97.5 % within 60 s and 99 % within 180 s. Technical alarms and alarms the resident "
        "cancelled are left out; unanswered alarms younger than 180 s are not counted yet ({n}).",
    ),
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
    "gateway_added": ("网关已添加", "Gateway added"),
    "gateway_config_once": (
        "这是网关的配置文件，含连接中心服务器的密码。密码只显示这一次（服务器只保存其散列）：请复制到树莓派的配置文件中。"
        "丢失后可用 anxin-server gateway add 重新生成。",
        "This is the gateway's configuration with its password for the central broker. The password is "
        "shown only this once (the server keeps only its hash): copy it to the Pi's configuration file. "
        "If it is lost, make a new one with anxin-server gateway add.",
    ),
    "gateway_config_host": (
        "其中的服务器地址是本服务器看到的地址；如果树莓派通过别的地址访问，请修改 host。",
        "The broker address is the one this server uses; change host if the Pi reaches it by another name.",
    ),
    # the caregiver's page
    "cg_title": ("安心 报警", "Anxin alarm"),
    "cg_who": ("谁", "Who"),
    "cg_what": ("发生了什么", "What"),
    "cg_when": ("时间", "When"),
    "cg_where": ("地点", "Where"),
    "cg_ack": ("已确认 — 我这就过去", "Acknowledged — I'm on my way"),
    "cg_thanks": (
        "已确认，谢谢！老人家中会听到“有人来帮忙了”。",
        "Acknowledged, thank you. The home is told help is on its way.",
    ),
    "cg_others": ("已确认的人", "Who has acknowledged"),
    "calls": ("电话", "Calls"),
    "ambulance": ("急救", "ambulance"),
    "cg_decline": ("我来不了 — 请联系下一位", "I can't come — call the next person"),
    "cg_declined": (
        "已记录：您来不了，正在通知下一位联系人。",
        "Noted: you can't come; the next person is being called now.",
    ),
    "act_declined": ("家属：来不了", "caregiver can't come"),
    "cg_nobody": ("还没有人确认", "Nobody has acknowledged yet"),
    "cg_closed": ("此报警已结束", "This alarm is closed"),
    "cg_bad_link": (
        "链接无效或已过期，请直接拨打值班电话。",
        "This link is not valid or has expired. Please call the duty desk.",
    ),
    "call_resident": ("给老人打电话", "Call the resident"),
    "call_record": ("记录通话", "Record a call"),
    "call_who": ("打给谁", "Who was called"),
    "call_outcome": ("结果", "Outcome"),
    "call_note": ("通话情况（可不填）", "What was said (optional)"),
    "call_save": ("保存通话记录", "Save the call"),
    "call_reached": ("已接通", "reached"),
    "call_no_answer": ("无人接听", "no answer"),
    "call_busy": ("占线", "busy"),
    "call_wrong_number": ("号码错误", "wrong number"),
    "act_call": ("电话", "call"),
    "remove_resident": ("移除老人", "Remove resident"),
    "remove_what_happens": (
        "移除后他们的数据会怎样（个人数据删除，见数据权利）",
        "What happens to their data (the data-rights erasure)",
    ),
    "remove_readings": ("全部健康读数被删除。", "All health readings are deleted."),
    "remove_personal": (
        "姓名、地址、电话、备注、病情、用药和同意记录被不可恢复地匿名化。",
        "Name, address, phone, notes, conditions, medication and consent are irreversibly anonymised.",
    ),
    "remove_alarms": (
        "报警的次数和时间保留（已匿名），用于服务指标；报警内容清除。",
        "Alarm counts and times are kept, anonymised, for the service figures; their content is cleared.",
    ),
    "remove_caregivers": (
        "结对解除；只照顾这位老人的家属的联系方式也被匿名化。",
        "Pairings are removed; caregivers who care for nobody else are anonymised too.",
    ),
    "remove_gateways": (
        "家中网关与老人解除关联（之后的报警仍会到达值班台，显示为未知老人）",
        "The home's gateways are unlinked (an alarm from them still reaches the desk, as an unknown resident)",
    ),
    "remove_export_first": ("如需保留副本，请先导出：", "To keep a copy, export first:"),
    "remove_open_alarms": (
        "不能移除：还有未结案的报警，请先处理",
        "Cannot remove: alarms are still open — close them first",
    ),
    "remove_open_alarm": ("未移除：这位老人还有未结案的报警。", "Not removed: this resident has an open alarm."),
    "remove_confirm_mismatch": ("未移除：输入的编号与老人编号不一致。", "Not removed: the code typed does not match."),
    "remove_confirm": (
        "输入老人编号 {code} 以确认（不可撤销）",
        "Type the resident's code {code} to confirm (cannot be undone)",
    ),
    "channel_test": ("发送测试消息", "Send a test message"),
    "channel_test_ok": ("测试消息已发出，通知渠道可用", "Test message sent: the channel works"),
    "channel_test_failed": ("测试消息发送失败，请检查通知地址", "The test message failed: check the channel"),
    "channel_failures": ("近 30 天发送失败", "Failed deliveries, last 30 days"),
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
    "act_home_not_told": (
        "家中未能收到“有人来了”，请致电老人",
        "the home was not told help is coming: call the resident",
    ),
    "call_duty": ("拨打值班电话", "Call the duty desk"),
    "offline_banner": (
        "连接中断 — 下面的内容可能已过时，新报警不会出现。正在重连…",
        "Connection lost — what is below may be out of date; new alarms will not appear. Reconnecting…",
    ),
    "last_update": ("最后更新", "Last update"),
    "alert_short": ("紧急报警", "EMERGENCY"),
    "shortcuts": (
        "快捷键：J 下一条报警 · A 确认接警 · N 备注 · R 结案",
        "Keys: J next alarm · A acknowledge · N note · R resolve",
    ),
    "add_gateway": ("添加网关", "Add a gateway"),
    "add_device": ("配对设备", "Pair a device"),
    "device_family": ("设备类型（协议）", "Family (protocol)"),
    "device_role": ("用途", "Role"),
    "device_model": ("型号（可选）", "Model (optional)"),
    "role_sos_button": ("紧急按钮", "SOS button"),
    "role_fall_radar": ("跌倒雷达", "Fall radar"),
    "role_bp_monitor": ("血压计", "Blood-pressure monitor"),
    "role_glucose_meter": ("血糖仪", "Glucose meter"),
    "role_pulse_oximeter": ("血氧仪", "Pulse oximeter"),
    "role_scale": ("体重秤", "Scale"),
    "role_thermometer": ("体温计", "Thermometer"),
    "role_wearable": ("可穿戴设备", "Wearable"),
    "role_door": ("门磁", "Door contact"),
    "role_motion": ("人体感应", "Motion sensor"),
    "role_presence": ("存在感应", "Presence sensor"),
    "role_smoke": ("烟雾报警器", "Smoke alarm"),
    "role_climate": ("温湿度计", "Temperature/humidity"),
    "new_account": ("新建账号", "New account"),
    "staff_role_staff": ("值班员", "Duty staff"),
    "staff_role_supervisor": ("主管", "Supervisor"),
    "staff_role_doctor": ("医生", "Doctor"),
    "staff_role_admin": ("管理员", "Administrator"),
    "staff_role_coordinator": ("协调员", "Coordinator"),
    "staff_role_helper": ("助老员", "Helper"),
    "form_has_errors": ("未保存：请修改下面标红的项目", "Not saved: correct the fields marked below"),
    "no_channel": ("无通知渠道", "no channel"),
    "edit": ("编辑", "Edit"),
    "move_up": ("上移", "Move up"),
    "move_down": ("下移", "Move down"),
    "unpair": ("解除结对", "Unpair"),
    "keep_blank_hint": ("留空则保留现有的 {n} 个通知地址", "Leave blank to keep the {n} stored address(es)"),
    "notify_url_hint": (
        "例如 mailto://… 或 wecombot://…，多项用逗号分隔",
        "e.g. mailto://… or wecombot://…; separate several with commas",
    ),
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
