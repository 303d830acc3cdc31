"""A serial port whose read fails in a way the read loop does not expect must back off and be reported down,
as an open failure is — not be reopened back to back (review of issue 23, branch t23-checks: the port now runs
on anxin.loop.Loop, which repeats a failing step at once; each reopen also tells the worker "bridge up")."""

from __future__ import annotations

import logging
import termios
import time

from gateway.transports.serial_port import SerialTransport


class BrokenPort:
    """Opens fine; its read fails with termios.error, which is not an OSError (a driver's own error)."""

    in_waiting = 0

    def read(self, _n: int) -> bytes:
        raise termios.error(5, "Input/output error")

    def close(self) -> None:
        pass


def test_a_port_that_fails_while_read_backs_off_and_is_reported_down(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.CRITICAL)  # the loop logs every failed step with its traceback
    opens: list[float] = []
    states: list[bool] = []

    def opener(_url: str, **_kw: object) -> BrokenPort:
        opens.append(time.monotonic())
        return BrokenPort()

    port = SerialTransport("loop://", 9600, lambda _b: None, states.append, opener=opener, min_backoff=0.2)
    port.start()
    time.sleep(0.5)
    port.stop()
    assert len(opens) <= 5, f"reopened {len(opens)} times in 0.5 s: no backoff after a failed read"
    assert False in states, "the bridge was never reported down"
    assert states.count(True) <= 5, f"{states.count(True)} 'bridge up' items queued for the gateway worker"
