"""The supervised loop every long-running part uses: a failing step is counted and the loop goes on."""

from __future__ import annotations

import queue
import threading

from anxin.loop import Loop


def test_a_failing_step_is_counted_and_the_loop_keeps_running() -> None:
    seen: list[int] = []
    done = threading.Event()

    def step() -> None:
        seen.append(len(seen))
        if len(seen) == 2:
            raise ValueError("one bad round")
        if len(seen) >= 4:
            done.set()

    loop = Loop("test", step, interval_s=0.001)
    loop.start()
    assert done.wait(5)
    loop.stop()
    assert loop.errors == 1
    assert len(seen) >= 4
    assert not loop.is_alive()


def test_stop_wakes_a_step_blocked_on_its_queue() -> None:
    items: queue.Queue[object] = queue.Queue()
    got: list[object] = []

    def step() -> None:
        item = items.get()
        if item is not None:
            got.append(item)

    loop = Loop("queue", step, wake=lambda: items.put(None))
    loop.start()
    items.put("sos")
    loop.stop()
    assert got == ["sos"]
    assert not loop.is_alive()


def test_alive_at_moves_with_each_step_and_wait_is_cut_short_by_stop() -> None:
    now = [100.0]
    loop = Loop("clock", lambda: None, monotonic=lambda: now[0])
    now[0] = 250.0
    loop.run_once()
    assert loop.alive_at == 250.0
    loop.stop()
    assert loop.stopping
    assert loop.wait(60) is True


def test_a_step_failing_every_time_pauses_between_tries_instead_of_spinning() -> None:
    tries: list[float] = []

    def broken() -> None:
        tries.append(0.0)
        raise OSError("port gone the same way every time")

    loop = Loop("broken", broken, after_error_s=0.2)
    loop.start()
    loop.wait(0.5)
    loop.stop()
    assert 1 <= len(tries) <= 10  # about one try per 0.2 s; spinning would make thousands
    assert loop.errors == len(tries)
