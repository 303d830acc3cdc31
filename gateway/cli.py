"""`anxin-gateway`: run one home's gateway, or decode device input for installers."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from anxin.mqtt import MqttError
from gateway.config import load_settings
from gateway.errors import ConfigError, GatewayError


def _serve(start: Callable[[], object], stop: Callable[[], object]) -> int:
    """Start a long-running part and stop it on SIGTERM or SIGINT."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        start()
    except MqttError as exc:  # e.g. a TLS file that is not there
        print(f"anxin-gateway: {exc}")
        stop()
        return 2
    done.wait()
    stop()
    return 0


def _run(args: argparse.Namespace) -> int:
    from gateway.runtime import build_runtime

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"anxin-gateway: {exc}")
        return 2
    try:
        runtime = build_runtime(settings)
    except GatewayError as exc:  # e.g. a data_dir that cannot be created
        print(f"anxin-gateway: {exc}")
        return 2
    return _serve(runtime.start, runtime.stop)


def _speaker(args: argparse.Namespace) -> int:
    from gateway.config import SpeakerConfig
    from gateway.home.bridge import build_speaker

    changes = {k: v for k, v in (("output_dir", args.output_dir), ("device", args.device)) if v is not None}
    try:
        settings = load_settings(args.config)
        cfg = (settings.speaker or SpeakerConfig()).model_copy(update=changes)
    except ConfigError as exc:
        print(f"anxin-gateway: {exc}")
        return 2
    speaker = build_speaker(settings, cfg)
    return _serve(speaker.start, speaker.stop)


def _decode(args: argparse.Namespace) -> int:
    from gateway.decode import Decoder, run

    try:
        settings = load_settings(args.config) if args.config else None
    except ConfigError as exc:
        print(f"anxin-gateway: {exc}", file=sys.stderr)
        return 2
    decoder = Decoder(args.format, settings, args.timezone, args.role, args.model)
    if args.file is None:
        rejected = run(decoder, sys.stdin, sys.stdout)
    else:
        try:
            with open(args.file, encoding="utf-8", errors="replace") as f:
                rejected = run(decoder, f, sys.stdout)
        except OSError as exc:
            print(f"anxin-gateway: cannot read {args.file}: {exc}", file=sys.stderr)
            return 2
    return 1 if rejected else 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="anxin-gateway", description="Anxin home gateway")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one home's gateway")
    run.add_argument("--config", type=Path, required=True, help="gateway YAML file")
    run.set_defaults(func=_run)
    speaker = sub.add_parser(
        "speaker",
        help="speak the home's `say` actions (espeak-ng through ALSA)",
        description="Subscribes to anxin/home/<gateway>/action on the home's broker and "
        "speaks each `say`, most urgent first; reports its health on anxin/home/<gateway>/"
        "speaker. `anxin-gateway run` starts it too when the configuration has `speaker:`.",
    )
    speaker.add_argument("--config", type=Path, required=True, help="gateway YAML file")
    speaker.add_argument(
        "--output-dir", type=Path, help="write each prompt as NNNN-<priority>-<key>.wav here instead of playing it"
    )
    speaker.add_argument("--device", help="ALSA device (as `aplay -L` lists it); default: the configured one")
    speaker.set_defaults(func=_speaker)
    decode = sub.add_parser(
        "decode",
        help="decode device input one message a line (what the gateway sees)",
        description="Reads `TOPIC JSON` lines (zigbee2mqtt, native), hex characteristic "
        "values (ble-bpm, ble-glucose, ble-glucose-context, ble-plx-spot, ble-plx-continuous, ble-weight, "
        "ble-temperature) or raw lines (rflink) and prints one JSON object per typed "
        'reading or event, or {"error": ...}. Exit status 1 when any line was rejected.',
    )
    decode.add_argument(
        "--format",
        required=True,
        choices=[
            "zigbee2mqtt",
            "native",
            "ble-bpm",
            "rflink",
            "ble-glucose",
            "ble-glucose-context",
            "ble-plx-spot",
            "ble-plx-continuous",
            "ble-weight",
            "ble-temperature",
        ],
    )
    decode.add_argument("file", nargs="?", type=Path, help="input file (default: standard input)")
    decode.add_argument("--config", type=Path, help="gateway YAML: use its devices (default: every name is known)")
    decode.add_argument("--timezone", default="Asia/Shanghai", help="the device clock's zone (ble-*)")
    decode.add_argument("--model", help="zigbee2mqtt model assumed for devices when no --config (e.g. FDS315)")
    decode.add_argument(
        "--role", help="role assumed for devices when no --config (default: the model's, else sos_button)"
    )
    decode.set_defaults(func=_decode)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `anxin-gateway` and `python -m gateway`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))
