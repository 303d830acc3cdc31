"""The cluster demo's story (`anxin-sim demo --scenario cluster`): SOS → caregiver told; node 1 and the
ingest-only process killed (kill -9) → the gateway moves to a live node and the web process reads every
partition; a second SOS → told once. The parts are in firmware_sim/cluster_demo.py."""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from anxin.ports import port_or_free
from firmware_sim.cluster_demo import ClusterDemo, Say
from firmware_sim.nats_cluster import NATS_SERVER, ClusterStartError

MISSING = (
    "集群演示需要 nats-server：sudo apt-get install nats-server（或运行 ./scripts/demo.sh --scenario cluster，"
    "它会安装）/ the cluster demo needs nats-server: sudo apt-get install nats-server (or run "
    "./scripts/demo.sh --scenario cluster, which installs it)"
)


def run_story(demo: ClusterDemo, stop: threading.Event) -> None:
    """SOS, failure, failover, SOS again; each step waits for the one before (or for Ctrl-C)."""
    say = demo.say
    if stop.wait(2) or not demo.press(1):
        say("第一次呼叫未送达看护人 / the first SOS did not reach the caregiver")
        return
    if stop.wait(4):  # the caregiver taps acknowledge on the phone meanwhile
        return
    demo.staff_close()
    demo.fail()
    if stop.wait(1):
        return
    told = demo.press(2)
    if demo.receiver is not None:
        stop.wait(5)  # a second notification of one press would come now
        say(f"[story] caregiver told {len(demo.told)} times for 2 presses (exactly once each: {len(demo.told) == 2})")
    elif not told:
        say("第二次呼叫未记录 / the second SOS was not recorded")


def run_cluster(
    data_dir: Path | None, say: Say, notify: str | None, port: int, exit_after: float | None, done: threading.Event
) -> int:
    """Run the cluster story; then stay up `exit_after` seconds more (None: until Ctrl-C)."""
    if not Path(NATS_SERVER).exists():
        print(f"anxin-sim: {MISSING}", file=sys.stderr)
        return 2
    web_port = port_or_free(port)
    if web_port != port:
        say(f"port {port} is busy; the demo's web server uses port {web_port} instead")
    with tempfile.TemporaryDirectory(prefix="anxin-cluster-demo-") as tmp:
        demo = ClusterDemo(data_dir or Path(tmp), say, notify, web_port)
        try:
            demo.start()
            say(f"Anxin cluster demo running: 1 home, data in {demo.data_dir}")
            run_story(demo, done)
            done.wait(exit_after)
        except ClusterStartError as exc:
            print(f"anxin-sim: {exc}", file=sys.stderr)
            return 2
        finally:
            demo.stop()
    say("demo stopped")
    return 0
