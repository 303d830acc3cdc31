"""Which partitions this ingest process should take or give up: pure, no I/O, time passed in.

The leases live in the JetStream key-value bucket `anxin_ingest` (server/stream_lease_board.py
reads and writes them): `owner.p<P>` holds the id of the process reading partition P, `member.<id>`
marks a live process. Every key expires after the bucket's TTL (~5 s) unless refreshed, so a killed
process's partitions are free again within seconds. Each process aims at ceil(partitions / members):
it takes free partitions up to that share and gives up what it holds beyond it — only after it has
stopped fetching them and settled what it fetched, so no gateway is ingested by two processes.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

OWNER, MEMBER = "owner.p", "member."


def owner_key(partition: int) -> str:
    """The lease key of one partition."""
    return f"{OWNER}{partition}"


def member_key(process_id: str) -> str:
    """The liveness key of one process."""
    return f"{MEMBER}{process_id}"


@dataclass(frozen=True)
class View:
    """The bucket as read once: live members, and each leased partition's owner."""

    members: frozenset[str]
    owners: Mapping[int, str]

    @staticmethod
    def parse(entries: Mapping[str, str], partitions: int) -> View:
        """From the bucket's keys and values (expired keys are absent)."""
        members = frozenset(k[len(MEMBER) :] for k in entries if k.startswith(MEMBER))
        owners: dict[int, str] = {}
        for key, value in entries.items():
            tail = key[len(OWNER) :]
            if key.startswith(OWNER) and tail.isdigit() and int(tail) < partitions:
                owners[int(tail)] = value
        return View(members, owners)


@dataclass(frozen=True)
class Plan:
    """What to do now: take these free partitions, give up these of ours."""

    take: tuple[int, ...] = ()
    release: tuple[int, ...] = ()


def share(partitions: int, members: int) -> tuple[int, int]:
    """The fewest and the most partitions each live process aims at: floor and ceil of the even share."""
    n = max(1, members)
    return partitions // n, math.ceil(partitions / n)


def plan(me: str, partitions: int, view: View, mine: frozenset[int]) -> Plan:
    """Take free partitions up to our share, release what is beyond it (the highest numbers first).

    `mine`: what this process holds and fetches now. While another live process holds fewer than
    the floor share (it just started), nobody above the floor keeps more or takes more: one each is
    given up until it has its share. A partition leased to us in the bucket but not held (a restart
    with the same id) counts as free for us. Free partitions are tried from a place that depends on
    our id, so processes starting together seldom race for the same keys.
    """
    members = view.members | {me}
    low, high = share(partitions, len(members))
    held = Counter(view.owners.values())
    starving = any(held[m] < low for m in members if m != me)
    if len(mine) > high:
        return Plan(release=tuple(sorted(mine)[high:]))
    if starving and len(mine) > low:
        return Plan(release=(max(mine),))
    free = [p for p in range(partitions) if p not in mine and view.owners.get(p, me) == me]
    start = zlib.crc32(me.encode()) % partitions
    free.sort(key=lambda p: (p - start) % partitions)
    room = (low if starving else high) - len(mine)
    return Plan(take=tuple(free[: max(0, room)]))


def unowned(partitions: int, view: View) -> list[int]:
    """Partitions nobody reads now."""
    return [p for p in range(partitions) if p not in view.owners]


def expired(refreshed_at: Mapping[int, float], now: float, ttl_s: float, margin_s: float = 1.0) -> list[int]:
    """Our partitions whose lease we could not refresh in time: another process may take them any moment.

    Stop fetching them before the bucket lets them go (`margin_s` earlier), so two processes never
    read one partition at once.
    """
    return sorted(p for p, at in refreshed_at.items() if now - at >= ttl_s - margin_s)


@dataclass(frozen=True)
class Health:
    """Whether this process's stream intake is sound, and if not, why (zh-CN first, then English)."""

    ok: bool
    problem: str = ""


def health(
    connected: bool,
    mine: int,
    view: View | None,
    partitions: int,
    since_start_s: float,
    unread: int = 0,
    error: str = "",
) -> Health:
    """Unhealthy when NATS is unreachable, or this process holds nothing while partitions go unread.

    `unread`: messages in a partition past `partitions` (the cluster's mapping has more): nobody reads them.
    `error`: why the last connection attempt failed, when it did.
    """
    if not connected:
        why = f" ({error})" if error else ""
        return Health(False, f"未连接 NATS，告警与读数无法入库 / not connected to NATS: nothing is ingested{why}")
    if unread:
        return Health(
            False,
            f"流中有 {unread} 条消息所在分区无人读取：nats_partitions 小于集群的映射分区数 / {unread} message(s) "
            f"in partitions no consumer reads: nats_partitions ({partitions}) is less than the cluster's mapping",
        )
    if view is None or since_start_s < 10.0:  # the first lease rounds are still running
        return Health(True)
    missing = unowned(partitions, view)
    if missing and mine == 0:
        return Health(
            False,
            f"本进程未持有分区，另有 {len(missing)} 个分区无人读取 / this process holds no partition "
            f"while {len(missing)} partition(s) are read by nobody: {missing[:8]}",
        )
    return Health(True)
