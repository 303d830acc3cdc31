"""`anxin-sim`: the demo, and one subcommand per device to act by hand."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from firmware_sim.device_cli import add_device_commands
from firmware_sim.health_cli import add_health_commands
from firmware_sim.mqtt_devices import SOS_PAYLOADS, SosButton
from firmware_sim.traces import TRACES


def _demo(args: argparse.Namespace) -> int:
    from firmware_sim.demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            homes=args.homes,
            notify=args.notify,
            scenario=args.scenario,
            exit_after=args.exit_after,
            port=args.port,
            mqtt_port=args.mqtt_port,
            data_dir=args.data_dir,
            speech_dir=args.speech_dir,
        )
    )


def _local_link(args: argparse.Namespace) -> MqttLink:
    link = MqttLink(make_client(f"anxin-sim-{args.command}"), BrokerAddress(args.host, args.port), lambda t, p: None)
    link.start()
    if not link.wait_connected(5):
        raise SystemExit(f"anxin-sim: no MQTT broker at {args.host}:{args.port}")
    return link


def _press(args: argparse.Namespace) -> int:
    link = _local_link(args)
    payload = SosButton(args.name, args.model, lambda t, p: link.publish(t, p, 1).wait_for_publish(5)).press()
    print(f"published zigbee2mqtt/{args.name} {payload}")
    link.stop()
    return 0


def _wearable(args: argparse.Namespace) -> int:
    from firmware_sim.wearable import Wearable, from_mobifall, native_topic
    from gateway.falls.errors import FallsError

    if args.mobifall:
        try:
            xyz = from_mobifall(args.mobifall, args.rate)
        except FallsError as exc:
            raise SystemExit(f"anxin-sim: {exc}") from exc
    else:
        xyz = TRACES[args.trace](rate_hz=args.rate, seed=args.seed)
    link = _local_link(args)
    wearable = Wearable(
        args.name, lambda t, p: link.publish(t, p, 1).wait_for_publish(5), args.rate, args.chunk, args.unit
    )
    print(f"streaming {len(xyz) / args.rate:.1f} s of acceleration on {native_topic(args.name)}")
    sent = wearable.stream(xyz, speed=args.speed)
    link.stop()
    print(f"sent {sent} messages")
    return 0


def _modem(args: argparse.Namespace) -> int:
    from firmware_sim.gsm_modem import run_modem

    return run_modem(args.fail, f"cms:{args.fail_code}" if args.fail_code else "silent", args.exit_after)


def _add_broker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="the home's local MQTT broker")
    p.add_argument("--port", type=int, default=1883)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="anxin-sim", description="Anxin device and installation simulator")
    parser.add_argument("--log-level", default="WARNING")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a whole simulated installation on embedded defaults")
    demo.add_argument("--homes", type=int, default=1)
    demo.add_argument("--notify", help="apprise URL every demo caregiver is notified at (e.g. json://host:port/path)")
    demo.add_argument(
        "--scenario",
        choices=["sos", "fall", "bp", "hypo", "cluster"],
        help="3 s after start, sos: press an SOS button; fall: the fall radar reports a fall nobody "
        "cancels; bp: a very high blood pressure, confirmed by a repeat; hypo: the glucose meter reads "
        "2.8 mmol/L; cluster: three NATS nodes and two ingest processes, node 1 and one ingest process "
        "killed between two SOS presses (needs nats-server; --exit-after counts from the story's end)",
    )
    demo.add_argument("--exit-after", type=float, help="stop by itself after this many seconds")
    demo.add_argument("--port", type=int, default=8000, help="web port (a free one is taken if busy)")
    demo.add_argument("--mqtt-port", type=int, default=1883, help="central MQTT port (a free one if busy)")
    demo.add_argument("--data-dir", type=Path, help="keep the demo's databases here (default: a temp dir)")
    demo.add_argument(
        "--speech-dir",
        type=Path,
        help="write every prompt each home speaks as "
        "<gateway>-NNNN-<priority>-<key>.wav here (default: speak through the sound card, if any)",
    )
    demo.set_defaults(func=_demo)
    press = sub.add_parser("press", help="press a zigbee2mqtt SOS button on a home's local broker")
    _add_broker_args(press)
    press.add_argument("--name", default="sos-button")
    press.add_argument("--model", default="TS0215A_sos", choices=sorted(SOS_PAYLOADS))
    press.set_defaults(func=_press)
    wear = sub.add_parser("wearable", help="stream a wearable's acceleration (synthetic or a MobiFall file)")
    _add_broker_args(wear)
    wear.add_argument("--name", default="wearable")
    src = wear.add_mutually_exclusive_group()
    src.add_argument("--trace", default="fall", choices=sorted(TRACES))
    src.add_argument("--mobifall", type=Path, help="a MobiFall *_acc_*.txt file to replay")
    wear.add_argument("--rate", type=float, default=50.0, help="samples per second")
    wear.add_argument("--chunk", type=float, default=1.0, help="seconds of samples per message")
    wear.add_argument("--unit", default="g", choices=["g", "m/s2"])
    wear.add_argument("--speed", type=float, default=1.0, help="1 = real time, 0 = as fast as possible")
    wear.add_argument("--seed", type=int, default=0, help="noise seed of synthetic traces")
    wear.set_defaults(func=_wearable)
    modem = sub.add_parser("modem", help="a GSM modem on a pseudo-terminal; prints each SMS it is asked to send")
    modem.add_argument("--fail", type=int, default=0, help="fail the first N sends")
    modem.add_argument("--fail-code", type=int, default=500, help="+CMS ERROR code of those failures (0: no answer)")
    modem.add_argument("--exit-after", type=float, help="stop by itself after this many seconds")
    modem.set_defaults(func=_modem)
    add_device_commands(sub, _add_broker_args)
    add_health_commands(sub, _add_broker_args)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `anxin-sim` and `python -m firmware_sim`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))
