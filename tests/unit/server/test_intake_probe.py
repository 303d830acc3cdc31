"""The intake probe's verdict with an injected clock: healthy while probes come back, dead (and one
reconnect per period) when they stop."""

from __future__ import annotations

from server.intake_probe import IntakeProbe, probe_topic


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_no_probe_back_means_dead_intake_and_a_reconnect_per_period():
    clock, sent, reconnects = Clock(), [], []
    probe = IntakeProbe(
        probe_topic("anxin-server-all-x"),
        lambda t, p, q: sent.append(t),
        lambda: reconnects.append(clock.t),
        interval_s=1,
        dead_after_s=10,
        monotonic=clock,
    )
    probe._started = probe._last_reconnect = clock.t
    probe.check()
    assert probe.healthy and sent == [probe.topic] and reconnects == []
    assert not probe.on_message("anxin/v1/gw/gw-1/up", b"x"), "an uplink message is not a probe"
    clock.t += 11
    probe.check()
    probe.check()
    assert not probe.healthy and reconnects == [111.0], "one reconnect, not one per probe"
    clock.t += 10
    probe.check()
    assert reconnects == [111.0, 121.0]
    assert probe.on_message(probe.topic, b"3") and probe.healthy and probe.seconds_silent() == 0
