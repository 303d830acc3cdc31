"""`anxin-sim` subcommands for the chronic-condition devices: a glucose meter, pulse oximeter, scale or
thermometer over native JSON (MQTT), or behind a BLE-to-UART bridge on a pseudo-terminal (`ble-gatt`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from firmware_sim.device_cli import _link, _until_stopped
from firmware_sim.health_devices import (
    GLUCOSE,
    PLX_CONTINUOUS,
    PLX_SPOT,
    TEMPERATURE,
    WEIGHT,
    GattBridge,
    GlucoseSample,
    OximeterSample,
    TemperatureSample,
    Weighing,
)
from firmware_sim.native_devices import NativeDevice
from firmware_sim.serial_devices import PtyPort

KINDS = ("glucose", "spo2", "weight", "temperature")


def _native(args: argparse.Namespace) -> int:
    link, publish = _link(args)
    dev = NativeDevice(args.name, publish)
    doc = {
        "glucose": lambda: dev.glucose(args.value, args.meal),
        "spo2": lambda: dev.spo2(args.value, args.pulse),
        "weight": lambda: dev.weight(args.value),
        "temperature": lambda: dev.body_temperature(args.value),
    }[args.command]()
    print(f"published anxin/dev/{args.name} {doc}")
    link.stop()
    return 0


def _relay(bridge: GattBridge, kind: str, value: float, i: int, split: int) -> str:
    now = datetime.now().replace(microsecond=0)
    if kind == "glucose":
        meal = ("fasting", "after_meal", "before_meal", "bedtime")[i % 4]
        bridge.glucose(GlucoseSample(i, value, now, meal), split)
        return f"glucose {value:g} mmol/L ({meal}), sequence {i}"
    if kind == "spo2":
        bridge.send(PLX_SPOT, OximeterSample(value, 72, now).spot_check(), split)
        return f"SpO2 {value:g} %"
    if kind == "spo2-continuous":
        bridge.send(PLX_CONTINUOUS, OximeterSample(value, 72).continuous(), split)
        return f"SpO2 {value:g} % (continuous)"
    if kind == "weight":
        bridge.send(WEIGHT, Weighing(value, now).measurement(), split)
        return f"weight {value:g} kg"
    bridge.send(TEMPERATURE, TemperatureSample(value, now).measurement(), split)
    return f"temperature {value:g} °C"


def _serial_health(args: argparse.Namespace) -> int:
    port = PtyPort(args.path).plug()
    bridge = GattBridge(port)
    print(
        f"{args.device} bridge on {args.path}; configure the gateway with `serial: [{{port: {args.path}, "
        f"family: ble-gatt, device: <name>}}]`; Ctrl-C stops",
        flush=True,
    )

    def act(i: int) -> None:
        if args.faults and i % 3 == 1:
            port.write(b"\x00\xffnoise\xc0")
            bridge.bad_crc(GLUCOSE, b"\x00")
        print("sent " + _relay(bridge, args.device, args.value, i, 3 if args.faults else 1), flush=True)

    _until_stopped(args.every, act)
    port.unplug()
    return 0


def add_health_commands(
    sub: argparse._SubParsersAction, add_broker_args: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Register the chronic-condition device subcommands on `anxin-sim`."""
    defaults = {"glucose": 6.2, "spo2": 95.0, "weight": 68.0, "temperature": 36.8}
    for kind in KINDS:
        p = sub.add_parser(kind, help=f"a native Wi-Fi {kind} device sends one measurement")
        add_broker_args(p)
        p.add_argument(
            "--name",
            default={"glucose": "glucometer", "spo2": "oximeter", "weight": "scale", "temperature": "thermometer"}[
                kind
            ],
        )
        p.add_argument(
            "--value",
            type=float,
            default=defaults[kind],
            help="mmol/L, %%, kg or °C" if kind != "glucose" else "mmol/L",
        )
        if kind == "glucose":
            p.add_argument("--meal", choices=["before_meal", "after_meal", "fasting", "casual", "bedtime"])
        if kind == "spo2":
            p.add_argument("--pulse", type=float, default=72)
        p.set_defaults(func=_native)
    s = sub.add_parser(
        "serial-health", help="a BLE glucose meter, oximeter, scale or thermometer bridge on a pseudo-terminal at PATH"
    )
    s.add_argument("path", type=Path)
    s.add_argument(
        "--device", default="glucose", choices=["glucose", "spo2", "spo2-continuous", "weight", "temperature"]
    )
    s.add_argument("--value", type=float, default=6.2, help="mmol/L, %%, kg or °C")
    s.add_argument("--every", type=float, default=10.0, help="seconds between measurements")
    s.add_argument("--faults", action="store_true", help="split frames, add garbage and bad CRCs")
    s.set_defaults(func=_serial_health)
