"""Dead letters: what ingest cannot accept is kept with its reason, counted and logged — never silently dropped."""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy.orm import Session, sessionmaker

from server.db.models import DeadLetter
from server.home_text import for_log

log = logging.getLogger(__name__)


class DeadLetters:
    """Writes dead letters, in their own transaction (`keep`) or in the caller's (`add`)."""

    def __init__(self, sessions: sessionmaker[Session], counters: Counter[str]) -> None:
        self.sessions = sessions
        self.counters = counters

    def keep(self, topic: str, gw: str | None, seq: int | None, reason: str, payload: bytes) -> None:
        """Keep a message we cannot accept, count it and say so."""
        with self.sessions() as s, s.begin():
            self.add(s, topic, gw, seq, reason, payload.decode("utf-8", errors="replace"))

    def add(self, s: Session, topic: str, gw: str | None, seq: int | None, reason: str, text: str) -> None:
        """The same, inside the caller's transaction."""
        self.counters["dead_letters"] += 1
        log.warning("dead letter from %s: %s", for_log(topic), for_log(reason, 300))
        # Whatever the bytes were, the record must fit (PostgreSQL text holds no NUL), or it fails the drain.
        s.add(
            DeadLetter(
                topic=topic[:256],
                gateway_id=gw if gw is None else gw[:64],
                seq=seq,
                reason=reason.replace("\x00", ""),
                payload=text[:65536].replace("\x00", ""),
            )
        )
