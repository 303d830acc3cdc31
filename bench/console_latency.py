"""How long from an SOS press until the alarm is on the duty console's screen, in headless Chromium.

`python -m bench.console_latency [--presses N]`: real Mosquitto brokers (home and central), a
simulated home, the server, and a signed-in console page; each press is timed until its row is in
the page's DOM, pushed by server-sent events (no reload). Each alarm is resolved before the next press.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port
from firmware_sim.installation import DEMO_PASSWORD, build_home, demo_provision, gateway_settings
from server import alarms as desk
from server.db.models import Alarm, IngestedEvent
from server.provision import apply
from server.runtime import build_runtime
from server.settings import ServerSettings
from server.web.render import aware

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


def mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], BrokerAddress]:
    """A real Mosquitto on a free loopback port."""
    port = free_port()
    conf = workdir / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_for_port(port, timeout=10):
        raise RuntimeError("mosquitto did not start")
    return proc, BrokerAddress("127.0.0.1", port)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def measure(presses: int) -> dict[str, list[float]]:
    """Press the button `presses` times; seconds from press to row on screen, and from commit to row."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="anxin-bench-console-"))
    procs = []
    try:
        home_proc, home_addr = mosquitto(work)
        central_proc, central_addr = mosquitto(work)
        procs += [home_proc, central_proc]
        server = build_runtime(
            ServerSettings(
                port=free_port(),
                embedded_broker=False,
                mqtt=central_addr,
                database_url=f"sqlite:///{work}/server.db",
                secret_key="bench-secret-of-the-stack",
            )
        )
        server.start()
        with server.services.sessions() as s, s.begin():
            apply(s, demo_provision(1, []))
        home = build_home(gateway_settings("gw-r001", "R001", home_addr, central_addr, work / "gw"))
        home.start()
        to_screen, commit_to_screen = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{server.settings.base_url}/console/login")
            page.fill("#username", "duty")
            page.fill("#password", DEMO_PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector("body[data-connected='1']", state="attached", timeout=15_000)
            for _ in range(presses):
                with server.services.sessions() as s:
                    known = {a for (a,) in s.query(Alarm.id)}
                pressed = time.time()
                home.button.press()
                row = page.wait_for_selector("#queue tr[data-alarm-id]", timeout=30_000)
                shown = time.time()
                alarm_id = int(row.get_attribute("data-alarm-id") or 0)
                assert alarm_id not in known, "the row on screen is not the new alarm"
                with server.services.sessions() as s, s.begin():
                    alarm = s.get(Alarm, alarm_id)
                    committed = (
                        s.query(IngestedEvent)
                        .filter_by(gateway_id=alarm.gateway_id, seq=alarm.gateway_seq)
                        .one()
                        .received_at
                    )
                    desk.resolve(s, alarm_id, "bench", "false_alarm", None, server.services.clock())
                to_screen.append(shown - pressed)
                commit_to_screen.append(shown - aware(committed).timestamp())
                page.wait_for_selector("#queue tr[data-alarm-id]", state="detached", timeout=30_000)
                time.sleep(0.3)
            browser.close()
        home.stop()
        server.stop()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(5)
        shutil.rmtree(work, ignore_errors=True)
    return {"press_to_screen": to_screen, "commit_to_screen": commit_to_screen}


def main() -> None:
    """Run and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.console_latency")
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    result = measure(args.presses)
    print(
        f"machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; presses: {args.presses}\n"
    )
    print("| interval | median | p95 | max |\n|---|---|---|---|")
    for name, values in result.items():
        ms = [v * 1000 for v in values]
        print(
            f"| {name.replace('_', ' ')} | {statistics.median(ms):.0f} ms | {percentile(ms, 0.95):.0f} ms "
            f"| {max(ms):.0f} ms |"
        )


if __name__ == "__main__":
    main()
