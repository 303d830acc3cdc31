"""The coverage model, pure: every gap found, ranked by risk, with `now` injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.care.categories import PLANS
from server.coverage import CaregiverFact, DeskFacts, DeviceFact, HomeFacts, evaluate, needed_roles

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DESK = DeskFacts(on_duty_reachable=1, supervisors_reachable=1)
SOS = DeviceFact("sos-button", "sos_button", NOW - timedelta(minutes=5))
GOOD = HomeFacts(
    "R1",
    "王秀英",
    gateways=(("gw-r001", "online"),),
    devices=(SOS,),
    caregivers=(CaregiverFact("C1", "李伟", channels=1),),
)


def kinds(homes, desk=DESK) -> list[tuple[str, str, str]]:
    return [(g.resident, g.kind, g.subject) for g in evaluate(homes, desk, NOW).gaps]


def test_a_fully_protected_home_has_no_gap() -> None:
    result = evaluate([GOOD], DESK, NOW)
    assert result.gaps == [] and result.protected == ["R1"]


def test_a_home_registered_with_nothing_is_exposed_worst_first() -> None:
    bare = HomeFacts("R9", "赵淑芬", caregivers=(CaregiverFact("C9", "赵明", channels=0),))
    assert kinds([GOOD, bare]) == [
        ("R9", "no_caregiver_channel", ""),
        ("R9", "no_gateway", ""),
        ("R9", "no_sos", "sos_button"),
        ("R9", "caregiver_without_channel", "赵明"),
    ]


def test_silence_failures_faults_unknown_devices_and_the_desk() -> None:
    home = HomeFacts(
        "R1",
        "王秀英",
        categories=("advanced_age",) if "advanced_age" in PLANS else (),
        gateways=(("gw-r001", "offline"),),
        devices=(DeviceFact("sos-button", "sos_button", NOW - timedelta(hours=7)),),
        caregivers=(CaregiverFact("C1", "李伟", channels=1, failing=1),),
        open_faults=("speaker_fault", "sos"),
        unknown_devices=("0x00158d0001",),
    )
    found = kinds([home], DeskFacts(on_duty_reachable=0, supervisors_reachable=0))
    assert found[:3] == [
        ("", "no_staff_on_duty", ""),
        ("R1", "gateway_offline", "gw-r001"),
        ("R1", "no_caregiver_channel", ""),
    ]
    assert ("", "no_supervisor", "") in found and ("R1", "sos_silent", "sos-button") in found
    assert ("R1", "caregiver_channel_failing", "李伟") in found and ("R1", "speaker_fault", "") in found
    assert ("R1", "unknown_devices", "0x00158d0001") in found
    assert all(k != "sos" for _, k, _ in found), "a resident's own alarm is not a coverage gap"


def test_care_categories_add_the_devices_their_plan_needs() -> None:
    category, plan = next((c, p) for c, p in PLANS.items() if "fall_radar" in p.devices)
    assert needed_roles((category,))[0] == "sos_button" and "fall_radar" in needed_roles((category,))
    home = HomeFacts(
        "R1", "王秀英", categories=(category,), gateways=GOOD.gateways, devices=GOOD.devices, caregivers=GOOD.caregivers
    )
    missing = {s for _, k, s in kinds([home]) if k == "device_missing"}
    assert missing == set(plan.devices) - {"sos_button"}
