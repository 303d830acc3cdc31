"""The home link reads its socket in large chunks (anxin/paho_client.py ReadBuffered): every byte reaches paho
in order, however paho asks for it, and paho's loop is told when bytes wait in memory."""

from __future__ import annotations

import socket

import pytest

from anxin.paho_client import ReadBuffered, make_client, raw_socket


def test_bytes_come_out_in_order_whatever_sizes_paho_asks_for() -> None:
    a, b = socket.socketpair()
    with a, b:
        packets = [bytes([0x30, 5]) + b"t/abc" for _ in range(3)] + [b"\x40\x02\x00\x01"]
        a.sendall(b"".join(packets))
        buffered = ReadBuffered(b)
        got = [buffered.recv(1), buffered.recv(1), buffered.recv(5)]
        assert got == [b"\x30", b"\x05", b"t/abc"]
        assert buffered.pending() == len(b"".join(packets)) - 7, "paho's loop must not wait in select()"
        rest = b""
        while buffered.pending():
            rest += buffered.recv(3)
        assert b"".join(got) + rest == b"".join(packets)
        b.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing more yet: as the socket says it
            buffered.recv(1)
        a.close()
        b.setblocking(True)
        assert buffered.recv(1) == b"", "the end of the connection reaches paho"


def test_everything_else_is_the_socket_itself() -> None:
    a, b = socket.socketpair()
    with a, b:
        buffered = ReadBuffered(b)
        assert buffered.fileno() == b.fileno() and raw_socket(buffered) is b and raw_socket(b) is b


def test_every_client_reads_through_it() -> None:
    client = make_client("t")
    assert client.loop_read.func.__name__ == "read_buffered"  # type: ignore[attr-defined]
