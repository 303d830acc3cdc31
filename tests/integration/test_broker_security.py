"""The central broker as deployed: TLS, a password per gateway, and an ACL confining each to its own topics."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anxin import protocol
from anxin.mqtt import BrokerAddress, MqttLink, make_client
from anxin.ports import free_port, wait_for_port
from tests.conftest import MOSQUITTO
from tests.integration.certs import Certs, make_certs
from tests.integration.harness import start_server, wait_until

pytestmark = pytest.mark.integration

ACL = Path(__file__).resolve().parents[2] / "examples" / "mosquitto" / "acl"
PASSWORDS = {"anxin-server": "server-pw", "gw-1": "gw1-pw", "gw-2": "gw2-pw"}


class SecureBroker:
    """Mosquitto with only a TLS listener, the example ACL and a password file."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.certs: Certs = make_certs(workdir)
        passwd = workdir / "passwd"
        for i, (user, pw) in enumerate(PASSWORDS.items()):
            subprocess.run(["mosquitto_passwd", *(["-c"] if i == 0 else []), "-b", str(passwd), user, pw], check=True)
        passwd.chmod(0o644)
        shutil.copy(ACL, workdir / "acl")
        (workdir / "acl").chmod(0o644)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            # Stay the user running the tests: pytest's temporary folders are private to it.
            "user root\nper_listener_settings false\nallow_anonymous false\n"
            f"password_file {passwd}\nacl_file {workdir / 'acl'}\npersistence false\n"
            f"listener {self.port} 127.0.0.1\ncafile {self.certs.ca}\ncertfile {self.certs.cert}\n"
            f"keyfile {self.certs.key}\ntls_version tlsv1.2\n"
        )
        self.log = workdir / "mosquitto.log"
        with open(self.log, "wb") as log:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, timeout=10):
            raise RuntimeError(f"mosquitto did not start: {self.log.read_text()}")

    def address(self, user: str, password: str | None = None, ca: Path | None = None) -> BrokerAddress:
        """Credentials of one account, verifying the broker against the test CA."""
        return BrokerAddress("127.0.0.1", self.port, user, password or PASSWORDS[user], str(ca or self.certs.ca))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[SecureBroker]:
    tmp_path.chmod(0o755)  # Mosquitto may run as its own user
    b = SecureBroker(tmp_path)
    yield b
    b.stop()


class Client:
    """A connected link that records what it receives."""

    def __init__(self, name: str, address: BrokerAddress, subs: list[str] | None = None) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.link = MqttLink(make_client(name), address, self._on, [(s, 1) for s in subs or []])
        self.link.start()

    def _on(self, topic: str, payload: bytes) -> None:
        with self.lock:
            self.got.append((topic, payload))

    def topics(self) -> list[str]:
        with self.lock:
            return [t for t, _ in self.got]


def test_each_gateway_is_confined_to_its_own_topics_over_tls(broker: SecureBroker) -> None:
    server = Client("srv", broker.address("anxin-server"), ["anxin/v1/gw/+/up"])
    gw1 = Client("gw-1", broker.address("gw-1"), ["anxin/v1/gw/gw-1/cmd", "anxin/v1/gw/gw-2/cmd"])
    gw2 = Client("gw-2", broker.address("gw-2"), ["anxin/v1/gw/gw-2/cmd"])
    try:
        for c in (server, gw1, gw2):
            assert c.link.wait_connected(10), broker.log.read_text()
        time.sleep(0.5)  # subscriptions settle
        gw1.link.publish(protocol.up_topic("gw-1"), b"mine", 1)
        gw1.link.publish(protocol.up_topic("gw-2"), b"forged", 1)  # denied by the ACL: silently dropped
        server.link.publish(protocol.cmd_topic("gw-2"), b"for gw-2 only", 1)
        assert wait_until(lambda: server.topics() and gw2.topics(), 10)
        time.sleep(1.0)  # anything wrongly delivered would arrive by now
        assert server.got == [("anxin/v1/gw/gw-1/up", b"mine")]
        assert gw2.got == [("anxin/v1/gw/gw-2/cmd", b"for gw-2 only")]
        assert gw1.got == [], "gw-1 cannot read another home's commands"
    finally:
        for c in (server, gw1, gw2):
            c.link.stop()


def test_wrong_password_plain_tcp_and_an_unknown_ca_are_refused(broker: SecureBroker, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    rogue_ca = make_certs(other).ca
    tries = [
        Client("bad-pw", broker.address("gw-1", "guess")),
        Client("no-tls", BrokerAddress("127.0.0.1", broker.port, "gw-1", PASSWORDS["gw-1"])),
        Client("bad-ca", broker.address("gw-1", ca=rogue_ca)),
    ]
    try:
        time.sleep(3)
        assert [c.link.connected.is_set() for c in tries] == [False, False, False]
    finally:
        for c in tries:
            c.link.stop()


def test_the_server_ingests_and_acknowledges_over_tls_with_its_account(broker: SecureBroker, tmp_path: Path) -> None:
    srv_addr = broker.address("anxin-server")
    server = start_server(
        tmp_path, BrokerAddress("127.0.0.1", broker.port, "anxin-server", PASSWORDS["anxin-server"], srv_addr.tls_ca)
    )
    gw = Client("gw-1", broker.address("gw-1"), ["anxin/v1/gw/gw-1/ack"])
    try:
        assert gw.link.wait_connected(10) and server.link.wait_connected(10)
        time.sleep(0.5)
        event = protocol.UplinkEvent(1, "reading", time.time(), {"metric": "heart_rate", "values": {"bpm": 61}})
        gw.link.publish(
            protocol.up_topic("gw-1"),
            protocol.encode_batch(protocol.UplinkBatch("gw-1", "boot", (event,), time.time())),
            1,
        )
        assert wait_until(lambda: gw.got, 15), "no acknowledgement over TLS"
        assert protocol.decode_ack(gw.got[0][1]).seqs == (1,)
    finally:
        gw.link.stop()
        server.stop()
