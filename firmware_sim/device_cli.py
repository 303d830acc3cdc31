"""`anxin-sim` subcommands that play one device by hand: over MQTT, or on a pseudo-terminal."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from firmware_sim.mqtt_devices import FallRadar
from firmware_sim.native_devices import NativeDevice
from firmware_sim.serial_devices import BpmBridge, BpMeasurement, PtyPort, RflinkDongle


def _link(args: argparse.Namespace) -> tuple[MqttLink, Callable[[str, bytes], object]]:
    link = MqttLink(make_client(f"anxin-sim-{args.command}"), BrokerAddress(args.host, args.port), lambda t, p: None)
    link.start()
    if not link.wait_connected(5):
        raise SystemExit(f"anxin-sim: no MQTT broker at {args.host}:{args.port}")
    return link, lambda t, p: link.publish(t, p, 1).wait_for_publish(5)


def _fall(args: argparse.Namespace) -> int:
    link, publish = _link(args)
    doc = FallRadar(args.name, args.model, publish).fall(args.state)
    print(f"published zigbee2mqtt/{args.name} {doc}")
    link.stop()
    return 0


def _bp(args: argparse.Namespace) -> int:
    link, publish = _link(args)
    doc = NativeDevice(args.name, publish).blood_pressure(args.systolic, args.diastolic, args.pulse)
    print(f"published anxin/dev/{args.name} {doc}")
    link.stop()
    return 0


def _until_stopped(every: float, act: Callable[[int], None]) -> None:
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    i = 0
    while not done.wait(every if i else 0.5):
        act(i)
        i += 1


def _plug(path: Path) -> PtyPort:
    try:
        return PtyPort(path).plug()
    except OSError as exc:
        raise SystemExit(f"anxin-sim: cannot create the device path {path}: {exc.strerror or exc}") from exc


def _serial_bpm(args: argparse.Namespace) -> int:
    port = _plug(args.path)
    bridge = BpmBridge(port)
    print(
        f"blood-pressure bridge on {args.path}; configure the gateway with `serial: [{{port: {args.path}, "
        f"family: ble-bpm, device: <name>}}]`; Ctrl-C stops",
        flush=True,
    )

    def act(i: int) -> None:
        m = BpMeasurement(118 + i % 25, 76 + i % 12, None, 64 + i % 20, datetime.now().replace(microsecond=0))
        if args.faults and i % 3 == 1:
            bridge.garbage()
            bridge.bad_crc(m)
        bridge.measure(m, split=3 if args.faults else 1)
        print(f"sent {m.systolic:g}/{m.diastolic:g} mmHg, pulse {m.pulse:g}", flush=True)

    _until_stopped(args.every, act)
    port.unplug()
    return 0


def _serial_rflink(args: argparse.Namespace) -> int:
    port = _plug(args.path)
    dongle = RflinkDongle(port)
    dongle.banner()
    print(
        f"RFLink dongle on {args.path}: pendant {args.protocol} ID={args.id} SWITCH={args.switch} pressed "
        f"every {args.every:g} s; Ctrl-C stops",
        flush=True,
    )
    _until_stopped(args.every, lambda i: dongle.press(args.protocol, args.id, args.switch))
    port.unplug()
    return 0


def add_device_commands(
    sub: argparse._SubParsersAction, add_broker_args: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Register the per-device subcommands on `anxin-sim`."""
    fall = sub.add_parser("fall", help="a zigbee2mqtt fall radar reports a fall")
    add_broker_args(fall)
    fall.add_argument("--name", default="fall-radar")
    fall.add_argument("--model", default="MIR-HE200-TY", choices=["MIR-HE200-TY", "FDS315"])
    fall.add_argument("--state", default="fall", help="fall, maybe_fall, none (FDS315: also low_posture)")
    fall.set_defaults(func=_fall)
    bp = sub.add_parser("bp", help="a native Wi-Fi blood-pressure monitor sends a measurement")
    add_broker_args(bp)
    bp.add_argument("--name", default="bp-monitor")
    bp.add_argument("--systolic", type=float, default=128)
    bp.add_argument("--diastolic", type=float, default=82)
    bp.add_argument("--pulse", type=float, default=70)
    bp.set_defaults(func=_bp)
    sbpm = sub.add_parser("serial-bpm", help="a BLE blood-pressure bridge on a pseudo-terminal at PATH")
    sbpm.add_argument("path", type=Path)
    sbpm.add_argument("--every", type=float, default=10.0, help="seconds between measurements")
    sbpm.add_argument("--faults", action="store_true", help="split frames, add garbage and bad CRCs")
    sbpm.set_defaults(func=_serial_bpm)
    srf = sub.add_parser("serial-rflink", help="an RFLink dongle on a pseudo-terminal at PATH")
    srf.add_argument("path", type=Path)
    srf.add_argument("--every", type=float, default=10.0, help="seconds between pendant presses")
    srf.add_argument("--protocol", default="EV1527")
    srf.add_argument("--id", default="0a2b3c")
    srf.add_argument("--switch", default="01")
    srf.set_defaults(func=_serial_rflink)
