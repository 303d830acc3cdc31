"""What the fault tests wait for and check after each fault: the path is up, everything published has
settled, and nothing was lost, repeated or overtaken by the backlog."""

from __future__ import annotations

import time

from tests.faults.conftest import Installation
from tests.faults.procs import Stored, stored
from tests.integration.harness import wait_until

SETTLE_S = 120.0  # generous: the machine is shared; nothing here measures speed


def caught_up(inst: Installation) -> None:
    """Wait until the gateway has stored everything published so far (it may lag on a loaded machine):
    an alarm it has not seen yet cannot overtake anything."""
    d = inst.devices
    d.flush()
    assert wait_until(lambda: inst.gateway.holds(d.presses, d.readings[-1]), SETTLE_S, 0.2), inst.gateway.log()


def settled_high_seq(inst: Installation) -> int:
    """The highest sequence number the server holds once it has committed what it received before the cut
    (ingest works through a queue, so a commit can follow the cut by a moment)."""
    last, same_since = -1, time.monotonic()
    while time.monotonic() - same_since < 1.5:
        high = stored(inst.server).high_seq()
        if high != last:
            last, same_since = high, time.monotonic()
        time.sleep(0.1)
    return last


def ready(inst: Installation) -> None:
    """The whole path works: a probe reading reaches the server's database.

    Probes are not counted: until the gateway first subscribes, the home broker has no session to
    keep them in (that is installation, not operation)."""
    for probe in range(-1, -61, -1):
        inst.devices.link.publish("zigbee2mqtt/climate-1", f'{{"humidity": {probe}}}'.encode(), 1)
        if wait_until(lambda: any(n < 0 for n in stored(inst.server).humidity), 1.0):
            return
    raise AssertionError(f"the gateway never delivered a probe\n{inst.gateway.log()}\n{inst.server.log()}")


def settled(inst: Installation) -> Stored:
    """Wait until everything published has been stored or reported thinned."""
    d = inst.devices
    d.flush()

    def done() -> bool:
        st = stored(inst.server)
        return len(st.lane("alarm")) >= d.presses and len(st.humidity) + st.thinned() >= len(set(d.readings))

    assert wait_until(done, SETTLE_S, 0.2), f"not everything arrived\n{inst.gateway.log()}\n{inst.server.log()}"
    time.sleep(1.0)  # let late duplicates arrive, so the exactly-once checks below can fail
    return stored(inst.server)


def assert_nothing_lost(st: Stored, inst: Installation, thinned_from: list[int] | None = None) -> None:
    """Exactly once, in order, and every sequence number received or accounted for."""
    d = inst.devices
    dups = {n: c for n, c in st.humidity.items() if c > 1}
    assert not dups, f"readings stored more than once: {dict(list(dups.items())[:10])}"
    missing = sorted(set(d.readings) - set(st.humidity))
    if thinned_from is None:
        assert not missing, f"{len(missing)} readings lost, e.g. {missing[:10]}"
        assert st.thinned() == 0
    else:
        # Thinning also takes the button's battery readings (one per press): count those too.
        status = st.metric("device_status")
        assert len(missing) + d.presses - status == st.thinned() > 0, (
            f"every thinned reading must be in a gap record, and only those: {len(missing)} readings and "
            f"{d.presses - status} battery readings missing, {st.thinned()} reported thinned"
        )
        assert missing == thinned_from[: len(missing)], "the oldest readings must be thinned first"
    alarms = st.lane("alarm")
    assert len(alarms) == d.presses, f"{len(alarms)} alarms stored for {d.presses} presses"
    seqs = [s for _i, s, _l, _b in alarms]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"alarms out of order or repeated: {seqs}"
    every = [s for _i, s, _l, _b in st.rows]
    assert len(every) == len(set(every))
    covered = set(every)
    for _i, _s, _l, body in st.lane("gap"):
        for a, b in body["ranges"]:
            covered.update(range(a, b + 1))
    holes = sorted(set(range(1, max(every) + 1)) - covered)
    assert not holes, f"sequence numbers neither stored nor accounted for by a gap record: {holes[:20]}"


def assert_alarms_first(st: Stored, after_seq: int, outage_alarms: int) -> None:
    """The first `outage_alarms` alarms raised during the outage were committed before any reading
    stored after `after_seq` (the highest number the server had when the outage began)."""
    backlog = [i for i, seq, lane, _b in st.rows if lane == "reading" and seq > after_seq]
    alarms = sorted(st.lane("alarm"), key=lambda r: r[1])[:outage_alarms]
    assert len(alarms) == outage_alarms and backlog
    assert max(i for i, _s, _l, _b in alarms) < min(backlog), "a reading from the backlog was delivered before an alarm"
