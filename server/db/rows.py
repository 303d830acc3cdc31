"""What SQLAlchemy's typing leaves out: how many rows an UPDATE or DELETE touched."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rowcount(result: Result[Any]) -> int:
    """Rows matched by the UPDATE or DELETE that gave `result` (compare-and-set checks read it).

    `Session.execute` is typed as returning a plain `Result`; for DML it is a `CursorResult`, which has the count.
    """
    return int(cast(CursorResult[Any], result).rowcount or 0)
