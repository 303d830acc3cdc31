"""The outbox's group buffer: readings, events and meta values of grouped local messages wait here for one
commit (synchronous=NORMAL); what a refused group commit lost is remembered for a `store_failed` gap record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from anxin import protocol
from gateway.outbox_db import LANE_ORDER, Entry, Row, ranges

# A row as inserted: seq, lane order, lane name, ts, mono, body (JSON), source message key.
Staged = tuple[int, int, str, float, "float | None", str, "str | None"]


def staged_rows(seqs: Sequence[int], rows: Sequence[Row], src: str | None) -> tuple[list[Staged], list[Entry]]:
    """The rows as inserted, and the entries the uplink may send from memory once they are committed (not
    an alarm: its body may be annotated later, so it is always read from the table)."""
    staged: list[Staged] = []
    fresh: list[Entry] = []
    for s, (lane, ts, mono, body) in zip(seqs, rows, strict=True):
        text = protocol.body_text(body)  # as encode_batch writes it: the uplink sends it as is
        staged.append((s, LANE_ORDER[lane], lane, ts, mono, text, src))
        if lane != "alarm":
            fresh.append(Entry(s, lane, ts, mono, body, text))
    return staged, fresh


class GroupBuffer:
    """What waits for the group commit, and what the disk refused of earlier groups."""

    __slots__ = ("fresh", "lost", "meta", "refused", "rows")

    def __init__(self) -> None:
        self.rows: list[Staged] = []
        self.fresh: list[Entry] = []  # those of `rows` the uplink may send from memory once committed
        self.meta: dict[str, str] = {}
        self.lost = 0  # buffered entries dropped because their group commit failed (the disk refused)
        # (seq, ts) of those not yet reported to the server in a `store_failed` gap record.
        self.refused: list[tuple[int, float]] = []

    def __bool__(self) -> bool:
        return bool(self.rows or self.meta)

    def stage(self, rows: list[Staged], fresh: list[Entry]) -> None:
        self.rows.extend(rows)
        self.fresh.extend(fresh)

    def take(self) -> tuple[list[Staged], dict[str, str], list[Entry]]:
        """Everything buffered, leaving the buffer empty."""
        taken = self.rows, self.meta, self.fresh
        self.rows, self.meta, self.fresh = [], {}, []
        return taken

    def refuse(self, rows: list[Staged]) -> None:
        """A group the disk refused: its entries are lost, and will be named in a gap record."""
        self.lost += len(rows)
        self.refused.extend((row[0], row[3]) for row in rows)

    def refused_gap(self) -> tuple[int, dict[str, Any]] | None:
        """(how many refused entries it names, the `store_failed` gap body), or None when nothing waits."""
        if not self.refused:
            return None
        refused = sorted(self.refused)
        seqs = [s for s, _ in refused]
        times = [t for _, t in refused]
        gap = protocol.GapBody(
            "store_failed",
            tuple((a, b) for a, b in ranges(seqs)),
            len(seqs),
            min(times),
            max(times),
            note="readings and events the disk refused to store",
        ).to_wire()
        return len(seqs), gap
