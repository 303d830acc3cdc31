"""保障状况 / Coverage: every resident who is less protected than promised, worst gap first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from server.api.deps import ServicesDep, SessionDep
from server.auth import StaffIdentity
from server.coverage import RISK_WORDS
from server.coverage_facts import coverage_now
from server.web.auth import page_permit
from server.web.render import page

router = APIRouter(prefix="/console", include_in_schema=False)

# What each gap means to the person reading the page (zh-CN, English); {subject} is the device or person.
WORDS = {
    "title": ("保障状况", "Coverage"),
    "intro": (
        "下列老人的保障不完整，最危险的排在最前。",
        "These residents are less protected than promised; worst first.",
    ),
    "all_ok": ("所有老人均已完整保障。", "Every resident is fully protected."),
    "protected": ("保障完整", "Fully protected"),
    "risk": ("风险", "Risk"),
    "resident": ("老人", "Resident"),
    "gap": ("问题", "Gap"),
    "desk": ("值班台（所有老人）", "The desk (every resident)"),
    "no_gateway": ("没有网关：报警无法送达", "No gateway: no alarm can arrive"),
    "gateway_offline": ("网关离线：{subject}", "Gateway offline: {subject}"),
    "no_caregiver_channel": ("没有可用的家属联系渠道", "No caregiver with a working channel"),
    "no_staff_on_duty": ("现在没有可通知的值班人员", "Nobody on duty can be notified now"),
    "no_supervisor": ("没有可通知的主管", "No supervisor can be notified"),
    "no_sos": ("没有配对的紧急按钮", "No SOS button paired"),
    "sos_silent": ("紧急按钮无信号：{subject}", "SOS button not reporting: {subject}"),
    "caregiver_channel_failing": (
        "家属通知渠道最近发送失败：{subject}",
        "Caregiver's channel failed last time: {subject}",
    ),
    "speaker_fault": ("家中语音故障", "Home speaker fault"),
    "panel_fault": ("取消按钮/指示灯故障", "Cancel button / light fault"),
    "device_missing": (
        "护理类别需要的设备未配对：{subject}",
        "Device the care category needs is not paired: {subject}",
    ),
    "device_silent": ("设备无信号：{subject}", "Device not reporting: {subject}"),
    "unknown_devices": ("网关报告未知设备：{subject}", "Gateway reports an unknown device: {subject}"),
    "pair_it": ("配对此设备", "Pair this device"),
    "caregiver_without_channel": ("家属没有通知渠道：{subject}", "Caregiver without a channel: {subject}"),
}


def words(language: str) -> Callable[..., str]:
    """`cw(key, subject=…)` in the page's language."""
    index = 1 if language == "en" else 0
    return lambda key, **fields: WORDS[key][index].format(**fields) if fields else WORDS[key][index]


CoverageReaderDep = Annotated[StaffIdentity, Depends(page_permit("coverage.read"))]


@router.get("/coverage", response_class=HTMLResponse)
def coverage(request: Request, services: ServicesDep, session: SessionDep, user: CoverageReaderDep) -> HTMLResponse:
    """Gaps ranked by risk, then the residents with none."""
    result = coverage_now(session, services.clock())
    return page(request, services, "coverage.html", user=user, coverage=result, risk_words=RISK_WORDS, words=words)
