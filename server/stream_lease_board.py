"""The partition leases' I/O: the JetStream key-value bucket `anxin_ingest` (the logic: server/stream_leases.py).

Every write that claims or keeps a lease is a compare-and-set on the key's last revision, so two
processes can never both believe they hold one partition: a lost race is an error here, not a
second owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from server.stream_leases import View, member_key, owner_key

log = logging.getLogger(__name__)


class LeaseBoard:
    """This process's view and writes of the bucket (`kv`: a nats-py KeyValue, passed in)."""

    def __init__(self, kv: Any, me: str, partitions: int, js: Any, bucket: str) -> None:
        self.kv = kv
        self.me = me
        self.partitions = partitions
        self.js = js  # the same JetStream context as kv's: the bucket's stream is asked which keys it holds
        self.stream, self.prefix = f"KV_{bucket}", f"$KV.{bucket}."
        self.revisions: dict[int, int] = {}  # our leases' last revisions: the next refresh's compare-and-set

    async def read(self) -> View:
        """Live members and owners; also announces us.

        The keys come from the bucket stream's subject counts (one request to the stream's leader), their
        values from one get each, all at once. Not a watcher: a watcher is an ephemeral consumer made per
        read, and after a node's loss making one kept timing out for minutes while gets still answered.
        """
        await self.kv.put(member_key(self.me), b"1")
        info = await self.js.stream_info(self.stream, subjects_filter=f"{self.prefix}>")
        keys = [subject.removeprefix(self.prefix) for subject in (info.state.subjects or {})]
        values = await asyncio.gather(*(self._value(key) for key in keys))
        return View.parse({k: v for k, v in zip(keys, values, strict=True) if v is not None}, self.partitions)

    async def _value(self, key: str) -> str | None:
        """A key's value, or None when it was deleted or has expired meanwhile."""
        from nats.js.errors import KeyDeletedError, KeyNotFoundError

        try:
            entry = await self.kv.get(key)
        except (KeyNotFoundError, KeyDeletedError):
            return None
        return None if entry.value is None else entry.value.decode(errors="replace")

    async def take(self, partition: int) -> bool:
        """Claim a free partition; False when another process was quicker."""
        from nats.js.errors import KeyWrongLastSequenceError

        try:
            self.revisions[partition] = await self.kv.create(owner_key(partition), self.me.encode())
        except KeyWrongLastSequenceError:
            return self._mine_already(partition, await self._owner(partition))
        return True

    async def refresh(self, partition: int) -> bool:
        """Keep a lease for another TTL; False when it is no longer ours (it expired and was taken)."""
        from nats.js.errors import KeyWrongLastSequenceError

        try:
            self.revisions[partition] = await self.kv.update(
                owner_key(partition), self.me.encode(), last=self.revisions[partition]
            )
        except KeyWrongLastSequenceError:
            self.revisions.pop(partition, None)
            return False
        return True

    async def release(self, partition: int) -> None:
        """Give a partition up (after its fetched messages are settled)."""
        revision = self.revisions.pop(partition, None)
        if revision is not None:
            from nats.js.errors import KeyWrongLastSequenceError

            with contextlib.suppress(KeyWrongLastSequenceError):  # expired meanwhile and taken: not ours
                await self.kv.delete(owner_key(partition), last=revision)

    async def leave(self) -> None:
        """Say we are gone (a clean stop), so the others rebalance at once."""
        await self.kv.delete(member_key(self.me))

    async def _owner(self, partition: int) -> tuple[str, int] | None:
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self.kv.get(owner_key(partition))
        except KeyNotFoundError:
            return None
        return (entry.value or b"").decode(errors="replace"), entry.revision

    def _mine_already(self, partition: int, owner: tuple[str, int] | None) -> bool:
        """A lease still in the bucket under our own id (we restarted within the TTL): ours again."""
        if owner is not None and owner[0] == self.me:
            self.revisions[partition] = owner[1]
            return True
        return False
