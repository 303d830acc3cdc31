"""The coverage model: is every resident protected right now? Pure evaluation of facts gathered by
server/coverage_facts.py, with `now` injected; every gap ranked by risk (0 = nobody would be reached).

A resident is protected when their home has a gateway online, an SOS button paired and reporting
(and the devices their care category asks for), at least one caregiver with a working channel, and
the desk has staff on duty with a channel and a supervisor with one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from server.care.categories import PLANS

# Lower is worse. The page and the technical alarm sort by it.
RISK = {
    "no_gateway": 0,
    "gateway_offline": 0,
    "no_caregiver_channel": 0,
    "no_staff_on_duty": 0,
    "no_sos": 1,
    "sos_silent": 1,
    "no_supervisor": 1,
    "caregiver_channel_failing": 1,
    "speaker_fault": 2,
    "panel_fault": 2,
    "device_missing": 2,
    "device_silent": 2,
    "unknown_devices": 3,
    "caregiver_without_channel": 3,
}
RISK_WORDS = {0: ("无人响应", "nobody would be reached"), 1: ("高", "high"), 2: ("中", "medium"), 3: ("低", "low")}
FAULT_ALARMS = ("speaker_fault", "panel_fault")
SOS_ROLE = "sos_button"


@dataclass(frozen=True, slots=True)
class DeviceFact:
    """A paired device and when it was last heard from."""

    name: str
    role: str
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class CaregiverFact:
    """A caregiver and their channels: how many apprise accepts, how many failed their last attempt."""

    code: str
    name: str
    channels: int
    failing: int = 0


@dataclass(frozen=True, slots=True)
class HomeFacts:
    """What is known about one resident's protection."""

    code: str
    name: str
    categories: tuple[str, ...] = ()
    gateways: tuple[tuple[str, str], ...] = ()  # (id, state)
    devices: tuple[DeviceFact, ...] = ()
    caregivers: tuple[CaregiverFact, ...] = ()
    open_faults: tuple[str, ...] = ()  # types of open technical alarms of the home
    unknown_devices: tuple[str, ...] = ()  # "gateway/device" the gateway reports but nobody paired


@dataclass(frozen=True, slots=True)
class DeskFacts:
    """The alarm centre right now: people on duty and supervisors who can be notified."""

    on_duty_reachable: int
    supervisors_reachable: int


@dataclass(frozen=True, slots=True)
class Gap:
    """One way a resident is less protected than promised."""

    resident: str
    name: str
    kind: str
    subject: str = ""  # the device, caregiver or gateway concerned

    @property
    def risk(self) -> int:
        """0 (an alarm would reach nobody) to 3 (low)."""
        return RISK[self.kind]


@dataclass
class Coverage:
    """Every gap of every resident, worst first, and who has none."""

    gaps: list[Gap] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)

    def of(self, resident: str) -> list[Gap]:
        """One resident's gaps and the desk's, worst first."""
        return [g for g in self.gaps if g.resident in (resident, "")]


def needed_roles(categories: tuple[str, ...]) -> list[str]:
    """Device roles the resident's care categories ask for; an SOS button always."""
    out = [SOS_ROLE]
    for c in categories:
        plan = PLANS.get(c)
        out += [d for d in (plan.devices if plan else ()) if d not in out]
    return out


def home_gaps(home: HomeFacts, now: datetime, silent_after: timedelta) -> list[Gap]:
    """Every gap of one resident."""
    gaps: list[Gap] = []

    def gap(kind: str, subject: str = "") -> None:
        gaps.append(Gap(home.code, home.name, kind, subject))

    if not home.gateways:
        gap("no_gateway")
    for gw, state in home.gateways:
        if state != "online":
            gap("gateway_offline", gw)
    roles = {d.role for d in home.devices}
    for role in needed_roles(home.categories):
        if role not in roles:
            gap("no_sos" if role == SOS_ROLE else "device_missing", role)
    for d in home.devices:
        if d.last_seen is None or now - d.last_seen > silent_after:
            gap("sos_silent" if d.role == SOS_ROLE else "device_silent", d.name)
    if not any(c.channels > c.failing for c in home.caregivers):
        gap("no_caregiver_channel")
    for c in home.caregivers:
        if c.channels == 0:
            gap("caregiver_without_channel", c.name)
        elif c.failing:
            gap("caregiver_channel_failing", c.name)
    for fault in home.open_faults:
        if fault in FAULT_ALARMS:
            gap(fault)
    for device in home.unknown_devices:
        gap("unknown_devices", device)
    return gaps


def evaluate(
    homes: list[HomeFacts], desk: DeskFacts, now: datetime, silent_after: timedelta = timedelta(hours=6)
) -> Coverage:
    """The coverage of every resident: gaps worst first (then by resident), and the fully protected."""
    result = Coverage()
    # The desk's own gaps touch every resident: listed once, under no resident.
    if desk.on_duty_reachable == 0:
        result.gaps.append(Gap("", "", "no_staff_on_duty"))
    if desk.supervisors_reachable == 0:
        result.gaps.append(Gap("", "", "no_supervisor"))
    for home in homes:
        found = home_gaps(home, now, silent_after)
        result.gaps += found
        if not found:
            result.protected.append(home.code)
    result.gaps.sort(key=lambda g: (g.risk, g.resident, g.kind, g.subject))
    return result
