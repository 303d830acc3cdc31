"""What every scenario shares: the result record, percentiles, the machine, the table, the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


class BenchError(RuntimeError):
    """A scenario could not run (a part did not start, a run did not finish)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A figure the issue asks us to meet, and whether this run met it."""

    name: str
    value: float
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        """True when the measured value is on the right side of the limit."""
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


@dataclass
class Result:
    """One run of one scenario: figures, rows for the table, targets and anchors."""

    scenario: str
    quick: bool
    metrics: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The record written to bench/results/<scenario>.json."""
        doc = asdict(self)
        doc["targets"] = [{**asdict(t), "met": t.met} for t in self.targets]
        return doc


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of a list of samples (nearest-rank); zeros when empty."""
    if not samples:
        return {"n": 0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    s = sorted(samples)

    def rank(p: float) -> float:
        return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]

    return {"n": len(s), "p50": rank(50), "p90": rank(90), "p99": rank(99), "max": s[-1], "mean": sum(s) / len(s)}


def _lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def machine() -> dict[str, Any]:
    """The machine the numbers came from, and how busy it was when the run started."""
    import psutil

    return {
        "cpu": _lscpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "mosquitto": _mosquitto_version(),
    }


def _mosquitto_version() -> str:
    from tests.mosquitto import MOSQUITTO

    try:
        out = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return "missing"
    return out.splitlines()[0].replace("mosquitto version ", "") if out else "unknown"


def fmt(value: Any) -> str:
    """A number as the tables show it."""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of dict rows (the keys of the first row are the columns)."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False))
    body = ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def render(result: Result) -> str:
    """The human-readable report of one run."""
    m = result.machine
    out = [
        f"== {result.scenario}{' (quick)' if result.quick else ''} — {m.get('cpu')}, {m.get('cores')} cores, "
        f"load {m.get('load_1m')} at start, {result.duration_s:.0f} s",
        table(result.rows),
    ]
    if result.targets:
        out.append("targets:")
        out += [
            f"  {'MET ' if t.met else 'MISS'} {t.name}: {fmt(t.value)} {t.unit} "
            f"({'≥' if t.higher_is_better else '≤'} {fmt(t.limit)})"
            for t in result.targets
        ]
    if result.anchors:
        out.append("anchors:")
        out += [f"  {a}" for a in result.anchors]
    out += [f"note: {n}" for n in result.notes]
    return "\n".join(out)


def save(result: Result, directory: Path = RESULTS) -> Path:
    """Write the result JSON; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result.scenario}.json"
    path.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class Stopwatch:
    """Elapsed seconds since creation, on the monotonic clock."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds so far."""
        return time.perf_counter() - self.t0


def log(msg: str) -> None:
    """Progress on stderr, so that --json output on stdout stays clean."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)
