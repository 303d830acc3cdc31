"""A whole simulated installation: server, homes with gateways and devices, on any brokers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from firmware_sim import chronic_demo
from firmware_sim.mqtt_devices import SosButton
from gateway.config import DeviceConfig, GatewaySettings
from gateway.runtime import GatewayRuntime, build_runtime
from server.auth import hash_password
from server.provision import CaregiverIn, DeviceIn, GatewayIn, ProvisionFile, ResidentIn, StaffIn

log = logging.getLogger(__name__)

DEMO_PEOPLE = [
    ("王秀英", "北京市西城区德胜门内大街 12 号 3 单元 401", ["高龄", "空巢"], ["高血压", "2 型糖尿病"], "李伟", "儿子"),
    (
        "张德福",
        "北京市东城区交道口南大街 48 号 2 层",
        ["高龄", "空巢", "重病"],
        ["冠心病", "慢性心力衰竭"],
        "张敏",
        "女儿",
    ),
    ("刘桂兰", "北京市海淀区万寿路 27 号院 5 号楼 602", ["空巢"], ["骨质疏松"], "陈志强", "结对干部"),
]

# Demo accounts (password DEMO_PASSWORD): the console, doctor and admin pages sign in with these.
DEMO_PASSWORD = "anxin-demo"
DEMO_DUTY_PHONE = "010-6500 1200"  # the demo alarm centre's phone (a made-up Beijing number)
DEMO_STAFF = [
    ("duty", "值班员 赵敏", "staff"),
    ("supervisor", "主管 孙强", "supervisor"),
    ("doctor", "王医生", "doctor"),
    ("admin", "管理员", "admin"),
    ("coordinator", "协调员 周兰", "coordinator"),
]

SOS_DEVICE = DeviceConfig(
    name="sos-button", family="zigbee2mqtt", model="TS0215A_sos", role="sos_button", room="bedroom"
)
# Every device the README's `anxin-sim` commands play, under the names those commands use by default,
# so `anxin-sim fall`, `bp`, `glucose`, `spo2`, `weight`, `temperature` and `wearable` work in the demo.
DEMO_DEVICES = [
    SOS_DEVICE,
    DeviceConfig(name="fall-radar", family="zigbee2mqtt", model="MIR-HE200-TY", role="fall_radar", room="bedroom"),
    DeviceConfig(name="bp-monitor", family="native", role="bp_monitor", room="living room"),
    DeviceConfig(name="glucometer", family="native", role="glucose_meter", room="kitchen"),
    DeviceConfig(name="oximeter", family="native", role="pulse_oximeter", room="living room"),
    DeviceConfig(name="scale", family="native", role="scale", room="bathroom"),
    DeviceConfig(name="thermometer", family="native", role="thermometer", room="bedroom"),
    DeviceConfig(name="wearable", family="native", role="wearable", room="worn"),
]


def demo_provision(homes: int, notify_urls: list[str], all_devices: bool = False) -> ProvisionFile:
    """Residents, one caregiver each, a gateway and an SOS button per home (every demo device with
    `all_devices`, as `anxin-sim demo` pairs them)."""
    paired = DEMO_DEVICES if all_devices else [SOS_DEVICE]
    caregivers, residents, gateways = [], [], []
    for i in range(homes):
        name, address, cats, conditions, cg_name, relation = DEMO_PEOPLE[i % len(DEMO_PEOPLE)]
        code = f"R{i + 1:03d}"
        caregivers.append(
            CaregiverIn(
                code=f"C{i + 1:03d}",
                name=cg_name,
                relation=relation,
                notify=[u.replace("{code}", code) for u in notify_urls],
            )
        )
        residents.append(
            ResidentIn(
                code=code,
                name=name,
                address=address,
                birth_year=1936 + i,
                care_categories=cats,
                conditions=conditions,
                caregivers=[f"C{i + 1:03d}"],
                key_holder=f"{cg_name}（{relation}）",
                consent=True,
                consent_sharing=True,
            )
        )
        gateways.append(
            GatewayIn(
                id=f"gw-{code.lower()}",
                resident=code,
                devices=[DeviceIn(**d.model_dump(exclude={"report_interval_s"})) for d in paired],
            )
        )
    staff = [StaffIn(username=u, display_name=n, role=r, password_hash=_demo_hash()) for u, n, r in DEMO_STAFF]
    return ProvisionFile(caregivers=caregivers, residents=residents, gateways=gateways, staff=staff)


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    # argon2 is slow on purpose; hash the demo password once per process, not per account and test.
    return hash_password(DEMO_PASSWORD)


def gateway_settings(
    gateway_id: str,
    resident: str,
    local: BrokerAddress,
    central: BrokerAddress,
    data_dir: Path,
    password: str | None = None,
) -> GatewaySettings:
    """Settings of one simulated home's gateway (its roster: the demo caregiver of that resident)."""
    return GatewaySettings(
        gateway_id=gateway_id,
        resident=resident,
        data_dir=data_dir,
        local_broker=BrokerAddress(local.host, local.port),
        central_broker=BrokerAddress(central.host, central.port, gateway_id if password else None, password),
        devices=[SOS_DEVICE, *chronic_demo.DEVICES.get(resident, [])],
        rules=chronic_demo.RULES,
        roster=[demo_caregiver(resident)],
    )


def demo_caregiver(resident: str) -> str:
    """The name of the demo caregiver of resident `R00N` (as demo_provision creates them)."""
    digits = resident[1:]
    index = int(digits) - 1 if digits.isdigit() and int(digits) > 0 else 0
    return DEMO_PEOPLE[index % len(DEMO_PEOPLE)][4]


@dataclass
class SimHome:
    """One home: its gateway, and a device-side MQTT client that plays the devices."""

    gateway: GatewayRuntime
    devices_link: MqttLink
    button: SosButton
    actions: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def gateway_id(self) -> str:
        """The home's gateway id."""
        return self.gateway.settings.gateway_id

    def start(self) -> None:
        """Start the gateway and connect the devices."""
        self.gateway.start()
        self.devices_link.start()
        self.devices_link.wait_connected(10)
        self.gateway.local.wait_connected(10)
        self.gateway.central.wait_connected(10)

    def stop(self) -> None:
        """Stop devices and gateway."""
        self.devices_link.stop()
        self.gateway.stop()


def build_home(settings: GatewaySettings) -> SimHome:
    """A simulated home around a gateway configuration (nothing started)."""
    local = settings.local_broker
    home: SimHome
    link = MqttLink(
        make_client(f"sim-devices-{settings.gateway_id}"),
        local,
        lambda t, p: home.actions.append((t, p)),
        [(f"anxin/home/{settings.gateway_id}/action", 1)],
    )
    button = SosButton("sos-button", "TS0215A_sos", lambda t, p: link.publish(t, p, 1))
    home = SimHome(build_runtime(settings), link, button)
    return home
