"""The services pages' words (zh-CN first, English second) and how those pages are rendered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.assist.catalog import CATEGORIES
from server.care.categories import CATEGORY_EN as CARE_CATEGORY_EN
from server.care.standard import GRADES
from server.services import Services
from server.web.care_words import care_page

WORDS: dict[str, tuple[str, str]] = {
    "requests": ("服务需求", "Service requests"),
    "new_request": ("登记需求", "New request"),
    "resident": ("老人", "Resident"),
    "category": ("服务类别", "Category"),
    "urgency": ("紧急程度", "Urgency"),
    "u_normal": ("一般", "Normal"),
    "u_urgent": ("加急", "Urgent"),
    "preferred_at": ("希望时间", "Preferred time"),
    "description": ("需求说明", "What is needed"),
    "submit": ("提交", "Submit"),
    "save": ("保存", "Save"),
    "status": ("状态", "Status"),
    "s_new": ("新登记", "New"),
    "s_accepted": ("已受理", "Accepted"),
    "s_assigned": ("已派单", "Assigned"),
    "s_on_the_way": ("服务中", "On the way"),
    "s_done": ("已完成", "Done"),
    "s_cancelled": ("已取消", "Cancelled"),
    "channel": ("渠道", "Channel"),
    "ch_staff": ("工作人员", "Staff"),
    "ch_family": ("家属", "Family"),
    "ch_helper": ("帮扶人", "Helper"),
    "ch_home": ("家中按键", "Home button"),
    "provider": ("服务方", "Provider"),
    "due": ("应完成", "Due by"),
    "overdue": ("超时", "Overdue"),
    "overdue_list": ("超时未完成", "Past their time limit"),
    "open_list": ("进行中的需求", "Open requests"),
    "nothing": ("无", "None"),
    "created": ("登记时间", "Received"),
    "assign": ("派单", "Assign"),
    "suggested": ("推荐", "Suggested"),
    "same_district": ("同街道", "Same district"),
    "load": ("在办", "Open jobs"),
    "rating": ("评分", "Rating"),
    "no_match": ("没有可派的服务方（类别不符或已满）", "No provider available (none serves this, or all are full)"),
    "cancel": ("取消需求", "Cancel request"),
    "reason": ("原因", "Reason"),
    "timeline": ("办理过程", "Timeline"),
    "t_created": ("登记", "Received"),
    "t_accepted": ("受理", "Accepted"),
    "t_assigned": ("派单", "Assigned"),
    "t_on_the_way": ("出发", "Set out"),
    "t_arrived": ("到达", "Arrived"),
    "t_done": ("完成", "Done"),
    "t_cancelled": ("取消", "Cancelled"),
    "note": ("备注", "Note"),
    "back": ("返回", "Back"),
    "follow_ups": ("差评回访（督导）", "Low ratings to follow up (supervisor)"),
    "score": ("分数", "Score"),
    "comment": ("意见", "Comment"),
    "close_follow_up": ("回访完毕", "Close follow-up"),
    "what_was_done": ("处理情况", "What was done"),
    "rate": ("评价", "Rate"),
    "rate_this": ("请为本次服务打分", "Please rate this service"),
    "stars": ("{n} 分", "{n} of 5"),
    "rater_resident": ("老人本人（电话 / 上门）", "The resident (by phone or visit)"),
    "rated": ("已评价，谢谢！", "Rated, thank you!"),
    "sent": ("已提交，服务中心会尽快联系您。", "Sent. The service centre will be in touch soon."),
    "family_hello": ("为 {name} 申请服务", "Ask for a service for {name}"),
    "my_requests": ("申请记录", "Requests"),
    "bad_link": (
        "链接无效或已过期，请联系服务中心。",
        "This link is not valid or has expired. Please ask the service centre.",
    ),
    "jobs": ("我的服务单", "My jobs"),
    "provider_hello": ("您好，{name}", "Hello, {name}"),
    "set_out": ("出发", "On my way"),
    "arrived": ("已到达", "Arrived"),
    "complete": ("完成服务", "Job done"),
    "completion_note": ("完成情况", "What was done"),
    "no_jobs": ("暂无服务单", "No jobs now"),
    "address": ("住址", "Address"),
    "phone": ("电话", "Phone"),
    "family_link": ("家属申请链接", "Family's request link"),
    "code": ("编号", "Code"),
    "show": ("生成", "Show"),
    "providers": ("服务方与志愿者", "Providers and volunteers"),
    "name": ("名称", "Name"),
    "kind": ("类型", "Kind"),
    "k_organisation": ("服务机构", "Organisation"),
    "k_volunteer": ("志愿者", "Volunteer"),
    "district": ("街道 / 区", "District"),
    "hours": ("服务时间", "Hours"),
    "capacity": ("同时可接单数", "Capacity"),
    "link": ("手机页链接", "Phone page link"),
    "register": ("登记服务方", "Register a provider"),
    "dashboard": ("决策数据", "Decision figures"),
    "download": ("下载 XLSX", "Download XLSX"),
    "alarms_rated": ("报警处理", "Alarm handling"),
    "alarm_at": ("报警时间", "Alarm at"),
    "c_alarm": ("报警处理", "Alarm handling"),
    "print": ("打印", "Print"),
    "community": ("活动与通知", "Activities and notices"),
    "activities": ("活动、课程与团队", "Activities, courses and teams"),
    "new_activity": ("发布活动 / 组建团队", "Announce an activity or found a team"),
    "title": ("标题", "Title"),
    "a_course": ("课程", "Course"),
    "a_talk": ("讲座", "Talk"),
    "a_outing": ("活动", "Outing"),
    "a_team": ("团队", "Team"),
    "tags": ("标签（逗号分隔，用于匹配兴趣特长）", "Tags (comma-separated; matched with interests and skills)"),
    "starts_at": ("时间", "When"),
    "place": ("地点", "Place"),
    "signed_up": ("报名", "Signed up"),
    "attended": ("到场", "Attended"),
    "members": ("报名 / 成员", "Signed up / members"),
    "invite": ("建议邀请（兴趣特长匹配）", "Suggested invitees (interests and skills match)"),
    "sign_up": ("报名", "Sign up"),
    "came": ("到了", "Came"),
    "missed": ("没来", "Did not come"),
    "skill": ("特长 / 角色", "Skill / role"),
    "matches": ("匹配", "Matches"),
    "notices": ("通知公告", "Notices"),
    "publish": ("发布通知", "Publish a notice"),
    "body": ("内容", "Text"),
    "audience": ("发送对象", "To"),
    "aud_all": ("全体", "Everyone"),
    "aud_category": ("照护类别", "A care category"),
    "aud_district": ("街道 / 区", "A district"),
    "deliveries": ("发送给照护人", "Sent to caregivers"),
    "d_sent": ("已送达", "Sent"),
    "d_failed": ("发送失败", "Failed"),
    "d_pending": ("发送中（会重试）", "Sending (retried)"),
    "d_sending": ("发送中（会重试）", "Sending (retried)"),
    "d_skipped": ("未发送", "Not sent"),
    "d_unreached": ("无人可发（照护人未登记渠道）", "Nobody to send to (no caregiver channel)"),
    "recipient": ("照护人", "Caregiver"),
    "d_channel": ("渠道", "Channel"),
    "attempts": ("尝试次数", "Attempts"),
    "error": ("原因", "Why"),
    "details": ("发送情况", "Deliveries"),
    "read_aloud": (
        "同时在老人家中语音播报（一般优先级，不打断紧急提示）",
        "Also read aloud at the residents' homes (normal priority, never over an emergency prompt)",
    ),
    "homes": ("家中语音播报", "Read aloud at home"),
    "home_ok": ("已发送到网关", "Sent to the gateway"),
    "home_failed": ("网关未连接，未播报", "Gateway not connected: not said"),
    "helpers_no_push": (
        "帮扶人没有推送渠道：他们在自己的手机页面上看到这条通知。",
        "Helpers have no push channel: they see this notice on their phone page.",
    ),
    "window": ("近 {days} 天；{at}", "Past {days} days; as of {at}"),
}
COLUMNS: dict[str, tuple[str, str]] = {
    "age_band": ("年龄段", "Age band"),
    "residents": ("人数", "Residents"),
    "category": ("类别", "Category"),
    "grade": ("能力等级", "Ability grade"),
    "district": ("街道 / 区", "District"),
    "month": ("月份", "Month"),
    "requests": ("需求数", "Requests"),
    "done": ("已完成", "Done"),
    "open": ("进行中", "Open"),
    "overdue": ("超时", "Overdue"),
    "cancelled": ("已取消", "Cancelled"),
    "unmet": ("未满足", "Unmet"),
    "sla_hours": ("时限（小时）", "SLA (hours)"),
    "median_response_h": ("响应中位数（小时）", "Median response (h)"),
    "median_completion_h": ("办结中位数（小时）", "Median completion (h)"),
    "done_within_sla": ("按时办结", "Done within SLA"),
    "share_within_sla": ("按时率", "Share within SLA"),
    "ratings": ("评价数", "Ratings"),
    "mean_score": ("平均分", "Mean score"),
    "low_ratings": ("差评（≤2）", "Low (≤ 2)"),
    "reached": ("已联系", "Reached"),
    "share": ("比例", "Share"),
    "alarms": ("报警数", "Alarms"),
    "per_100_residents": ("每百人", "Per 100 residents"),
    "false_alarms": ("误报", "False alarms"),
    "false_share": ("误报比例", "False-alarm share"),
    "provider": ("服务方", "Provider"),
    "staff": ("值班人员", "Staff"),
}
for _key, _pair in COLUMNS.items():
    WORDS[f"col_{_key}"] = _pair
for _code, (_zh, _en) in CATEGORIES.items():
    WORDS[f"c_{_code}"] = (_zh, _en)
for _zh, _en in CARE_CATEGORY_EN.items():  # the care record's categories, as the dashboard's rows name them
    WORDS[f"c_{_zh}"] = (_zh, _en)
for _code, _lowest, _zh, _en in GRADES:
    WORDS[f"g_{_code}"] = (_zh, _en)
WORDS["c_all"] = ("全部", "All")
WORDS["c_无 none"] = ("无", "None")


def cell(c: Callable[..., str], column: str, value: object) -> object:
    """A dashboard cell in words: categories and grades named, missing numbers as a dash."""
    if value is None:
        return "—"
    for prefix, columns in (("c_", ("category",)), ("g_", ("grade",))):
        if column in columns and f"{prefix}{value}" in WORDS:
            return c(f"{prefix}{value}")
    return value


def assist_page(
    request: Request,
    services: Services,
    name: str,
    status_code: int = 200,
    person_language: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a services template with these words as `c`."""
    return care_page(
        request, services, name, status_code=status_code, person_language=person_language, vocabulary=WORDS, **context
    )
