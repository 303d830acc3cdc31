"""`anxin-sim demo`: a whole installation on embedded defaults, narrated as it happens."""

from __future__ import annotations

import json
import logging
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, port_or_free
from firmware_sim import bp_history, care_demo, services_demo
from firmware_sim.chronic_demo import seed_history
from firmware_sim.installation import (
    DEMO_DEVICES,
    DEMO_DUTY_PHONE,
    SimHome,
    build_home,
    demo_provision,
    gateway_settings,
)
from firmware_sim.mqtt_devices import FallRadar
from firmware_sim.native_devices import NativeDevice
from firmware_sim.receiver import NotificationReceiver, Received
from gateway.config import SpeakerConfig
from gateway.home.audio import AlsaPlayer
from gateway.home.bridge import SpeakerService, build_speaker
from server.broker import EmbeddedBroker
from server.db.models import Resident
from server.errors import DatabaseUnavailable, PortInUse
from server.gateway_credentials import issue_missing
from server.provision import apply
from server.runtime import ServerRuntime, build_runtime
from server.settings import ServerSettings

log = logging.getLogger("anxin.demo")


@dataclass
class DemoOptions:
    """What `anxin-sim demo` was asked to do."""

    homes: int = 1
    notify: str | None = None
    scenario: str | None = None
    exit_after: float | None = None
    port: int = 8000
    mqtt_port: int = 1883
    data_dir: Path | None = None
    auto_ack_after: float | None = 3.0
    speech_dir: Path | None = None


def say(line: str) -> None:
    """Narrate one line to the person watching the demo."""
    now = time.time()
    print(time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d} " + line, flush=True)


class Demo:
    """Owns every part of the demo so it can stop them all."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.server: ServerRuntime | None = None
        self.homes: list[SimHome] = []
        self.local_brokers: list[EmbeddedBroker] = []
        self.receiver: NotificationReceiver | None = None
        self.speakers: list[SpeakerService] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> None:
        """Bring the installation up and print where to look."""
        o = self.options
        data_dir = o.data_dir or Path(self._mktemp())
        web_port, mqtt_port = port_or_free(o.port), port_or_free(o.mqtt_port)
        for wanted, got, what in ((o.port, web_port, "web"), (o.mqtt_port, mqtt_port, "MQTT")):
            if wanted != got:
                say(f"port {wanted} is busy; the demo's {what} server uses port {got} instead")
        notify = [o.notify] if o.notify else [self._start_receiver()]
        settings = ServerSettings(
            port=web_port,
            mqtt=BrokerAddress(port=mqtt_port),
            database_url=f"sqlite:///{data_dir}/anxin.db",
            duty_phone=DEMO_DUTY_PHONE,
        )
        self.server = build_runtime(settings)
        self.server.start()
        with self.server.services.sessions() as s, s.begin():
            apply(s, demo_provision(o.homes, notify, all_devices=True))
            passwords = issue_missing(s)  # the central broker lets in only provisioned gateways
            care_demo.seed(s, self.server.services.clock())
            services_demo.seed(s, self.server.services.clock())
            local_day = self.server.services.clock().astimezone(ZoneInfo("Asia/Shanghai")).date()
            seed_history(s, local_day)  # the local day: after 16:00 UTC it is already tomorrow in China
            seed_pressures(s, local_day)
        central = BrokerAddress("127.0.0.1", mqtt_port)
        for i in range(o.homes):
            broker = EmbeddedBroker("127.0.0.1", free_port(), None)  # a home's own bus, on loopback
            broker.start()
            self.local_brokers.append(broker)
            code = f"R{i + 1:03d}"
            settings_ = gateway_settings(
                f"gw-{code.lower()}",
                code,
                BrokerAddress("127.0.0.1", broker.port),
                central,
                data_dir,
                passwords.get(f"gw-{code.lower()}"),
            )
            home = build_home(settings_.model_copy(update={"devices": DEMO_DEVICES}))
            home.devices_link.on_message = lambda t, p, h=home: self._home_action(h, t, p)
            home.start()
            self.homes.append(home)
            self._start_speaker(home)
        say(f"Anxin demo running: {o.homes} home(s), data in {data_dir}")
        say(f"  duty console: {settings.base_url}/console (sign in as duty / anxin-demo)")
        say(f"  residents' records: {settings.base_url}/console/residents (sign in as coordinator / anxin-demo)")
        say(
            f"  services and decision figures: {settings.base_url}/console/requests, /console/dashboard "
            "(sign in as supervisor / anxin-demo)"
        )
        say(f"  REST API: {settings.base_url}/api/v1   OpenAPI: {settings.base_url}/docs")
        say(
            f"  central MQTT broker: 127.0.0.1:{mqtt_port}; home brokers: "
            + ", ".join(f"127.0.0.1:{b.port}" for b in self.local_brokers)
        )
        say(f"  caregivers are notified at: {notify[0]}")
        say(f"  press a button by hand: anxin-sim press --port {self.local_brokers[0].port}")

    def _start_speaker(self, home: SimHome) -> None:
        """Each home speaks: into --speech-dir as WAV files, else through the sound card when there is one."""
        settings = home.gateway.settings
        if self.options.speech_dir is not None:
            cfg = SpeakerConfig(output_dir=self.options.speech_dir)
        elif AlsaPlayer().check() is None:
            cfg = SpeakerConfig()
        else:
            if home is self.homes[0]:
                say("  no sound card: the homes' prompts are printed only (--speech-dir DIR writes them as WAV)")
            return
        speaker = build_speaker(settings, cfg, prefix=f"{settings.gateway_id}-")
        speaker.start()
        self.speakers.append(speaker)
        where = f"WAV files in {self.options.speech_dir}" if self.options.speech_dir else "the sound card"
        say(f"  home {settings.gateway_id} speaks through {where}")

    def _mktemp(self) -> str:
        self._tmp = tempfile.TemporaryDirectory(prefix="anxin-demo-")
        return self._tmp.name

    def _start_receiver(self) -> str:
        self.receiver = NotificationReceiver(on_receive=self._caregiver_phone)
        self.receiver.start()
        return self.receiver.url("/caregiver/{code}")

    def _caregiver_phone(self, item: Received) -> None:
        say(f"[caregiver phone {item.path}] {item.doc.get('title', '')}")
        if item.token and self.server:
            say(f"[caregiver phone] the caregiver's page: {self.server.settings.base_url}/c/{item.token}")
        delay = self.options.auto_ack_after
        if item.token and delay is not None and self.server:
            threading.Timer(delay, self._tap_ack, args=(item.token,)).start()

    def _tap_ack(self, token: str) -> None:
        assert self.server is not None
        url = f"{self.server.settings.base_url}/api/v1/links/{token}/ack"
        try:
            r = httpx.post(url, timeout=5)
            say(f"[caregiver phone] tapped 'acknowledged — on my way': HTTP {r.status_code}")
        except httpx.HTTPError as exc:
            say(f"[caregiver phone] could not acknowledge: {exc}")

    def _home_action(self, home: SimHome, topic: str, payload: bytes) -> None:
        home.actions.append((topic, payload))
        try:
            doc = json.loads(payload)
            say(f"[home {home.gateway_id} {doc.get('action')}] {doc.get('text') or doc.get('state')}")
        except ValueError:
            pass

    def press(self, home: int = 0) -> None:
        """Press the SOS button of one home."""
        say(f"[home {self.homes[home].gateway_id}] the resident presses the SOS button")
        self.homes[home].button.press()

    def low_glucose(self, home: int = 0) -> None:
        """The diabetic resident's meter reads 2.8 mmol/L before dinner."""
        say(f"[home {self.homes[home].gateway_id}] the glucose meter reads 2.8 mmol/L")
        NativeDevice("glucometer", lambda t, p: self.homes[home].devices_link.publish(t, p, 1)).glucose(
            2.8, "before_meal"
        )

    def fall(self, home: int = 0) -> None:
        """The fall radar in the bedroom reports a fall; nobody answers the home's question."""
        say(
            f"[home {self.homes[home].gateway_id}] the fall radar reports a fall; nobody cancels "
            "(the caregiver is called when the cancel window runs out)"
        )
        FallRadar("fall-radar", "MIR-HE200-TY", lambda t, p: self.homes[home].devices_link.publish(t, p, 1)).fall()

    def high_bp(self, home: int = 0, repeat_after: float = 5.0) -> None:
        """A very high blood pressure, then the repeat the home asks for confirms it."""
        device = NativeDevice("bp-monitor", lambda t, p: self.homes[home].devices_link.publish(t, p, 1))
        say(f"[home {self.homes[home].gateway_id}] the blood-pressure monitor reads 192/114 mmHg")
        device.blood_pressure(192, 114, 88)

        def repeat() -> None:
            say(f"[home {self.homes[home].gateway_id}] the repeat reads 188/112 mmHg")
            device.blood_pressure(188, 112, 86)

        threading.Timer(repeat_after, repeat).start()

    def stop(self) -> None:
        """Stop everything, homes first."""
        for speaker in self.speakers:
            speaker.stop()
        for home in self.homes:
            home.stop()
        for broker in self.local_brokers:
            broker.stop()
        if self.server:
            self.server.stop()
        if self.receiver:
            self.receiver.stop()
        if self._tmp:
            self._tmp.cleanup()


# Ninety days of home blood pressure: R001 treated hypertension drifting up, R002 low pressure (the doctor's
# pages flag both), any further home an ordinary one.
BP_PROFILES = {
    "R001": bp_history.Profile(systolic=146, diastolic=88, drift_per_week=0.6),
    "R002": bp_history.Profile(systolic=94, diastolic=58, morning_surge=4),
}


def seed_pressures(session: Session, today: date, days: int = 90) -> int:
    """Store the demo residents' blood-pressure history up to yesterday; the caller commits."""
    added = 0
    for seed, r in enumerate(session.scalars(select(Resident).order_by(Resident.code))):
        profile = BP_PROFILES.get(r.code, bp_history.Profile())
        rows = bp_history.history(today - timedelta(days=days), days, profile, ZoneInfo("Asia/Shanghai"), seed)
        added += bp_history.store(session, r.id, f"gw-{r.code.lower()}", rows)
    return added


def run_demo(options: DemoOptions) -> int:
    """Run until --exit-after passes or the user interrupts."""
    for name in ("server", "gateway"):
        logging.getLogger(name).setLevel(logging.INFO)
    if options.data_dir is not None:
        try:
            options.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"anxin-sim: cannot use --data-dir {options.data_dir}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if options.scenario == "cluster":  # three NATS nodes, two ingest processes, a gateway failing over
        from firmware_sim.cluster_story import run_cluster

        return run_cluster(options.data_dir, say, options.notify, options.port, options.exit_after, done)
    demo = Demo(options)
    try:
        demo.start()
        if options.scenario == "sos":
            threading.Timer(3.0, demo.press).start()
        elif options.scenario == "hypo":
            threading.Timer(3.0, demo.low_glucose).start()
        elif options.scenario == "fall":
            threading.Timer(3.0, demo.fall).start()
        elif options.scenario == "bp":
            threading.Timer(3.0, demo.high_bp).start()
        done.wait(options.exit_after)
    except (DatabaseUnavailable, PortInUse) as exc:
        print(f"anxin-sim: {exc}", file=sys.stderr)
        return 2
    finally:
        demo.stop()
    say("demo stopped")
    return 0
