"""`anxin-gateway`: run one home's gateway, or decode device input for installers."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from gateway.config import load_settings
from gateway.errors import ConfigError


def _run(args: argparse.Namespace) -> int:
    from gateway.runtime import build_runtime

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"anxin-gateway: {exc}")
        return 2
    runtime = build_runtime(settings)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    runtime.start()
    done.wait()
    runtime.stop()
    return 0


def _eval_falls(args: argparse.Namespace) -> int:
    from gateway.falls.report import run

    return run(args.dir, as_json=args.json, loso=args.loso)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="anxin-gateway", description="Anxin home gateway")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one home's gateway")
    run.add_argument("--config", type=Path, required=True, help="gateway YAML file")
    run.set_defaults(func=_run)
    falls = sub.add_parser("eval-falls", help="replay MobiFall-layout recordings through the fall detector")
    falls.add_argument("dir", type=Path, help="directory with sub<S>/<FALLS|ADL>/<CODE>/*_acc_*.txt")
    falls.add_argument("--json", action="store_true", help="end with one JSON line of the totals")
    falls.add_argument("--loso", action="store_true", help="fit thresholds leave-one-subject-out and judge each "
                       "subject with thresholds fitted without them")
    falls.set_defaults(func=_eval_falls)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `anxin-gateway` and `python -m gateway`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))
