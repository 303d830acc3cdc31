"""`anxin-server`: run the server, or import a provisioning file."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from anxin.mqtt import MqttError
from server.db.migrate import MigrationError
from server.errors import DatabaseUnavailable, PortInUse, ProvisionError
from server.permissions import ROLES
from server.settings import ServerSettings


def settings_from(args: argparse.Namespace) -> ServerSettings:
    """Flags override ANXIN_* environment variables, which override defaults."""
    flags: dict[str, Any] = {k: v for k, v in vars(args).items() if k in ServerSettings.model_fields and v is not None}
    # --mqtt-host and --mqtt-port are fields of `mqtt`; the other fields of it keep their ANXIN_MQTT_* values
    broker = {k: v for k in ("host", "port") if (v := getattr(args, f"mqtt_{k}", None)) is not None}
    if broker:
        flags["mqtt"] = broker
    return ServerSettings(**flags)


def tune_gc() -> None:
    """Keep Python's cycle collector from eating the ingest thread.

    Every uplink batch allocates a few hundred objects, so with the default threshold (700) the
    collector ran about 230 times a second under full ingest, each time walking the whole heap:
    a fifth of the process's time (measured in docs/performance.md). What exists after start-up
    (modules, the ORM's registry, compiled statements) is frozen out of its reach, and it runs
    once every 50,000 net allocations. Ingest makes almost no reference cycles, so memory stays flat.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def _run(args: argparse.Namespace) -> int:
    from server.runtime import build_runtime
    from server.secret_key import SecretKeyError

    settings = settings_from(args)
    try:
        runtime = build_runtime(settings)
        runtime.start()
    except (PortInUse, MigrationError, SecretKeyError, DatabaseUnavailable) as exc:
        print(f"anxin-server: {exc}", file=sys.stderr)
        return 2
    except MqttError as exc:  # e.g. a TLS file that is not there; workers already run: stop them
        print(f"anxin-server: {exc}", file=sys.stderr)
        runtime.stop()
        return 2
    tune_gc()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(
        f"Anxin server running: web UI and API at {settings.base_url} (OpenAPI: {settings.base_url}/docs), "
        f"MQTT at {settings.mqtt.host}:{settings.mqtt.port}",
        flush=True,
    )
    done.wait()
    runtime.stop()
    return 0


def _database(args: argparse.Namespace) -> Any:
    """A session factory on the configured database, its schema created or checked."""
    from server.db.session import create_schema, make_engine, session_factory

    engine = make_engine(settings_from(args).database_url)
    create_schema(engine)
    return session_factory(engine)


def _import(args: argparse.Namespace) -> int:
    from server import audit
    from server.gateway_credentials import CredentialsError, issue_missing
    from server.provision import import_file
    from server.services import utc_now

    try:
        with _database(args)() as s, s.begin():
            counts = import_file(s, args.file)
            passwords = issue_missing(s)
            audit.record(s, audit.CLI, "provision.import", utc_now(), "file", str(args.file)[:128], after=counts)
    except (ProvisionError, CredentialsError, DatabaseUnavailable) as exc:
        print(f"anxin-server: {exc}", file=sys.stderr)
        return 2
    print("imported " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if passwords:  # shown once: only their hashes are kept
        print(
            "central broker passwords of the new gateways (shown once; `anxin-server gateway add ID` "
            "prints a gateway's whole configuration and a new password):"
        )
        for gw_id, password in passwords.items():
            print(f"  {gw_id}: {password}")
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from server.db.models import Gateway, Resident
    from server.gateway_credentials import CredentialsError, check_gateway_id, gateway_yaml, issue, revoke

    sessions = _database(args)
    try:
        with sessions() as s, s.begin():
            if args.action == "revoke":
                revoke(s, args.gateway_id)
                print(
                    f"gateway {args.gateway_id} can no longer log in to the central broker "
                    "(Mosquitto: run broker-config again and reload it)"
                )
                return 0
            check_gateway_id(args.gateway_id)
            gw = s.get(Gateway, args.gateway_id) or Gateway(id=args.gateway_id, state="unknown")
            if args.resident:
                resident = s.query(Resident).filter_by(code=args.resident).one_or_none()
                if resident is None:
                    raise CredentialsError(f"no resident {args.resident!r}")
                gw.resident_id = resident.id
            s.add(gw)
            s.flush()
            password = issue(s, gw)
            print(gateway_yaml(s, gw, password, args.broker_host, args.broker_port), end="")
    except CredentialsError as exc:
        print(f"anxin-server: {exc}", file=sys.stderr)
        return 2
    return 0


def _broker_config(args: argparse.Namespace) -> int:
    from server.gateway_credentials import write_mosquitto

    settings = settings_from(args)
    if not settings.mqtt.password:
        print("anxin-server: set ANXIN_MQTT_PASSWORD to the server's broker password first", file=sys.stderr)
        return 2
    with _database(args)() as s:
        written = write_mosquitto(
            s,
            args.mosquitto,
            settings.mqtt.password,
            args.gateway_port,
            args.server_port,
            args.server_bind,
            args.mounted_at,
        )
    print(
        "wrote "
        + ", ".join(map(str, written))
        + " (run mosquitto -c DIR/anxin.conf, or copy its lines into your mosquitto.conf)"
    )
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ProvisionError("the two passwords differ")
    return first


def _create_user(args: argparse.Namespace) -> int:
    from server import audit
    from server.auth import AuthError, upsert_staff
    from server.db.session import create_schema, make_engine, session_factory
    from server.services import utc_now

    settings = settings_from(args)
    try:
        password = _read_password(args)
        engine = make_engine(settings.database_url)
        create_schema(engine)
        with session_factory(engine)() as s, s.begin():
            upsert_staff(
                s, args.username, args.staff_role, args.display_name, password, language=args.language, phone=args.phone
            )
            audit.record(
                s, audit.CLI, "staff.create_user", utc_now(), "staff", args.username, after={"role": args.staff_role}
            )
    except (ProvisionError, AuthError, DatabaseUnavailable) as exc:
        print(f"anxin-server: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username} ({args.staff_role}) saved")
    return 0


def _account(args: argparse.Namespace) -> int:
    from server import audit
    from server.auth import AuthError, set_active, set_password, staff_by_username
    from server.db.session import create_schema, make_engine, session_factory
    from server.services import utc_now

    settings = settings_from(args)
    try:
        password = _read_password(args) if args.command == "reset-password" else None
        engine = make_engine(settings.database_url)
        create_schema(engine)
        with session_factory(engine)() as s, s.begin():
            row = staff_by_username(s, args.username)
            before = {"active": row.active}
            if password is not None:
                set_password(row, password)
            else:
                set_active(row, args.command == "enable-user")
            audit.record(
                s, audit.CLI, f"staff.{args.command}", utc_now(), "staff", args.username, before, {"active": row.active}
            )
    except (ProvisionError, AuthError) as exc:
        print(f"anxin-server: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username}: {args.command} done (their sessions have ended)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="anxin-server", description="Anxin central server")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default sqlite:///anxin.db; env ANXIN_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the API, ingest, alarm desk and notifier")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--public-url", help="URL people use to reach the server (for links in messages)")
    run.add_argument("--role", choices=["all", "ingest", "api"])
    run.add_argument("--mqtt-host")
    run.add_argument("--mqtt-port", type=int)
    run.add_argument("--mqtt-shared-group", help="share uplink ingest between processes ($share/<group>/...)")
    run.add_argument(
        "--no-embedded-broker",
        dest="embedded_broker",
        action="store_const",
        const=False,
        help="use an external broker (Mosquitto, EMQX) instead of the embedded one",
    )
    run.set_defaults(func=_run)
    imp = sub.add_parser("import", help="provision residents, caregivers, gateways and devices from YAML")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_import)
    gw = sub.add_parser("gateway", help="gateway broker credentials: add (or renew) prints the gateway's YAML")
    gw.add_argument("action", choices=["add", "revoke"])
    gw.add_argument("gateway_id")
    gw.add_argument("--resident", help="the resident code the gateway serves")
    gw.add_argument("--broker-host", default="127.0.0.1", help="the central broker as the gateway reaches it")
    gw.add_argument("--broker-port", type=int, default=1883)
    gw.set_defaults(func=_gateway)
    bc = sub.add_parser("broker-config", help="write Mosquitto's password file and ACL from the provisioned gateways")
    bc.add_argument("--mosquitto", type=Path, required=True, metavar="DIR")
    bc.add_argument("--gateway-port", type=int, default=1883, help="listener for gateways (client id = username)")
    bc.add_argument("--server-port", type=int, default=1884, help="listener for the server processes only")
    bc.add_argument("--server-bind", default="127.0.0.1", help="address of the server listener (internal only)")
    bc.add_argument("--mounted-at", help="where the broker sees DIR (e.g. /mosquitto/config inside a container)")
    bc.set_defaults(func=_broker_config)
    from server.nats_setup import add_parser as add_nats_config

    add_nats_config(sub)  # `nats-config`: the NATS cluster's files (server/nats_setup.py)
    user = sub.add_parser("create-user", help="create or update a staff account (password from a prompt or stdin)")
    user.add_argument("username")
    user.add_argument("--role", dest="staff_role", choices=list(ROLES), default="staff")
    user.add_argument("--display-name")
    user.add_argument("--language", choices=["zh-CN", "en"], default="zh-CN")
    user.add_argument("--phone")
    user.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    user.set_defaults(func=_create_user)
    for name, text in (
        ("disable-user", "disable an account (its sessions end at once)"),
        ("enable-user", "enable a disabled account"),
        ("reset-password", "set a new password (prompt or stdin); the account's sessions end"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("username")
        cmd.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
        cmd.set_defaults(func=_account)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `anxin-server` and `python -m server`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))
