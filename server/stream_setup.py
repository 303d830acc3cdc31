"""The uplink stream's names and shape, and creating it (idempotently) at start.

Gateways publish MQTT `anxin/v1/gw/<gw>/up|state` to a NATS cluster's MQTT listener; the account's
subject mapping puts each gateway into one partition P for good: `anxin.up.<P>.<gw>.up|state`. One
stream, ANXIN_UP, holds them all; one durable pull consumer per partition, `ingest-p<P>`, is read by
whichever ingest process holds that partition's lease (server/stream_leases.py). Batches that carry
an alarm come on `anxin/v1/gw/<gw>/alarm`, mapped to `anxin.alarm.<P>.<gw>.alarm`: their own stream,
ANXIN_ALARM, with consumers `alarm-p<P>` read by the holder of partition P ahead of the readings, so an
alarm never waits in JetStream behind readings. The pure helpers here turn a subject back into the
MQTT topic Ingest knows; `ensure_stream` does the I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from anxin import protocol

log = logging.getLogger(__name__)

STREAM = "ANXIN_UP"
SUBJECTS = "anxin.up.>"
BUCKET = "anxin_ingest"  # partition leases and the live members (server/stream_leases.py)
LEASE_TTL_S = 5.0  # a lease not refreshed for this long is free again (the bucket's max age)
ACK_WAIT_S = 30.0
# A work queue: a message is gone once acked (after its commit). What is not acked within a day is
# dropped: every gateway resends what the server has not acknowledged end to end, so an older copy
# is never the only one; the bound keeps a long outage's resends from filling the nodes' disks.
MAX_AGE_S = 24 * 3600.0  # a message fetched and never settled is delivered again after this
# Fetched and not yet settled, per partition: what one process may hold in memory, and how far a
# partition's alarm can be behind its readings inside JetStream when this process is saturated.
MAX_ACK_PENDING = 512
KINDS = ("up", "state")


@dataclass(frozen=True)
class Source:
    """One stream of the uplink: its name, its subjects' first two tokens, its consumers and their bounds."""

    stream: str
    root: str  # subjects are `<root>.<P>.<gw>.<kind>`
    kinds: tuple[str, ...]
    consumer_prefix: str
    max_ack_pending: int
    fetch_batch: int

    @property
    def subjects(self) -> str:
        return f"{self.root}.>"


UP = Source(STREAM, "anxin.up", KINDS, "ingest-p", MAX_ACK_PENDING, 256)
# Alarms are few and each must go at once: a small window (a gateway resends what is not acknowledged,
# so a full window only delays), fetched by its own loop so readings never stand in front of one.
ALARM = Source("ANXIN_ALARM", "anxin.alarm", ("alarm",), "alarm-p", 32, 32)
SOURCES = (ALARM, UP)


class StreamSetupError(RuntimeError):
    """The stream exists in a shape this server cannot use and cannot change."""


def consumer_name(partition: int, source: Source = UP) -> str:
    """The durable pull consumer of one partition."""
    return f"{source.consumer_prefix}{partition}"


def partition_subject(partition: int, source: Source = UP) -> str:
    """What one partition's consumer reads."""
    return f"{source.root}.{partition}.>"


def mqtt_topic(subject: str, source: Source = UP) -> tuple[int, str] | None:
    """(partition, MQTT topic) of a stream subject `<root>.<P>.<gw>.<kind>`; None when it is not one."""
    parts = subject.split(".")
    if len(parts) != 5 or f"{parts[0]}.{parts[1]}" != source.root or parts[4] not in source.kinds:
        return None
    if not parts[2].isdigit() or not parts[3]:
        return None
    return int(parts[2]), f"{protocol.PREFIX}/{parts[3]}/{parts[4]}"


def replicas(wanted: int, cluster_size: int) -> int:
    """The stream's replicas: as many as wanted, never more than there are nodes."""
    return max(1, min(wanted, cluster_size))


async def ensure_stream(js: Any, partitions: int, wanted_replicas: int, cluster_size: int) -> None:
    """Create the streams, their consumers and the lease bucket, or leave them as they are (every process does this)."""
    n = replicas(wanted_replicas, cluster_size)
    for source in SOURCES:
        await _ensure(js, source, partitions, n)
    await js.create_key_value(bucket=BUCKET, ttl=LEASE_TTL_S, history=1, replicas=n)


async def _ensure(js: Any, source: Source, partitions: int, n: int) -> None:
    from nats.js import api
    from nats.js.errors import APIError, BadRequestError

    config = api.StreamConfig(
        name=source.stream,
        subjects=[source.subjects],
        storage=api.StorageType.FILE,
        num_replicas=n,
        retention=api.RetentionPolicy.WORK_QUEUE,
        discard=api.DiscardPolicy.OLD,
        max_age=MAX_AGE_S,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:  # it exists with another configuration (replicas, after the cluster grew)
        try:
            await js.update_stream(config)
        except APIError as exc:  # e.g. made by hand as a limits stream: its retention cannot change
            raise StreamSetupError(
                f"流 {source.stream} 已存在且其设置无法改为所需设置（工作队列、{n} 副本）：请在其消息入库后删除它再启动 / "
                f"stream {source.stream} exists with settings that cannot be changed to the ones needed (work queue, "
                f"{n} replicas): delete it once its messages are ingested, then start again ({exc.description})"
            ) from exc
        log.info("stream %s updated to %d replicas", source.stream, n)
    for p in range(partitions):
        consumer = api.ConsumerConfig(
            durable_name=consumer_name(p, source),
            filter_subject=partition_subject(p, source),
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_S,
            max_ack_pending=source.max_ack_pending,
            max_waiting=64,
        )
        try:
            await js.add_consumer(source.stream, consumer)
        except BadRequestError as exc:  # exists with other settings: keep it (its position is what matters)
            log.warning("consumer %s exists with other settings; kept as it is: %s", consumer_name(p, source), exc)
