"""Fixtures of the fault-injection suite: a home broker, a central broker, the server and the
gateway as real processes, and the home's devices."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_sim.gsm_modem import SimModem
from tests.conftest import Mosquitto
from tests.faults.procs import Devices, GatewayProc, ServerProc, devices


@dataclass
class Installation:
    """One home and the centre, every part a real process."""

    home: Mosquitto
    central: Mosquitto
    server: ServerProc
    gateway: GatewayProc
    devices: Devices
    acl: Path


ALLOW = "topic readwrite #\nuser gw-f1\ntopic readwrite #\n"  # the first block is for anonymous clients


def build(tmp_path: Path, acl_dir: Path, mosquitto_factory, **gateway_extra) -> Installation:
    acl = acl_dir / "central.acl"
    acl.write_text(ALLOW)
    acl.chmod(0o644)
    home = mosquitto_factory()
    central = mosquitto_factory(f"acl_file {acl}")
    server = ServerProc(tmp_path, central.address)
    gateway = GatewayProc(
        tmp_path, home.address, central.address, central_broker={"username": "gw-f1"}, **gateway_extra
    )
    return Installation(home, central, server, gateway, devices(home.address), acl)


@pytest.fixture
def make_installation(tmp_path: Path, mosquitto_factory) -> Iterator:
    """Build (and at the end tear down) an installation; the test starts the processes."""
    built: list[Installation] = []
    # Mosquitto started as root drops to the `mosquitto` user before reading its ACL file, and
    # pytest's tmp_path is private to us: the ACL lives in a directory that user can read.
    acl_dir = Path(tempfile.mkdtemp(prefix="anxin-acl-"))
    acl_dir.chmod(0o755)

    def make(**gateway_extra) -> Installation:
        inst = build(tmp_path, acl_dir, mosquitto_factory, **gateway_extra)
        built.append(inst)
        return inst

    yield make
    for inst in built:
        inst.devices.link.stop()
        inst.gateway.stop()
        inst.server.stop()
    shutil.rmtree(acl_dir, ignore_errors=True)


@pytest.fixture
def installation(make_installation) -> Installation:
    """Server and gateway running."""
    inst = make_installation()
    inst.server.start()
    inst.gateway.start()
    return inst


@pytest.fixture
def modem() -> Iterator[SimModem]:
    """The simulated GSM modem on a pseudo-terminal."""
    m = SimModem().start()
    yield m
    m.stop()
