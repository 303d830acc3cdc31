"""Reads accelerometer recordings in the MobiFall v2.0 layout (sub<S>/<FALLS|ADL>/<CODE>/<CODE>_acc_<S>_<T>.txt)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.falls.errors import RecordingError

STANDARD_GRAVITY = 9.80665  # m/s² per g
FALL_CODES = frozenset({"FOL", "FKL", "BSC", "SDL"})
_NAME = re.compile(r"^(?P<code>[A-Z]{3})_acc_(?P<subject>\d+)_(?P<trial>\d+)\.txt$")


@dataclass(frozen=True, slots=True)
class Recording:
    """One trial: where it came from, what was done, and its samples (seconds, g)."""

    path: Path
    subject: int
    code: str
    trial: int
    t: np.ndarray  # seconds from the first sample, strictly increasing
    xyz: np.ndarray  # shape (n, 3), in g

    @property
    def is_fall(self) -> bool:
        """True when the trial is one of the dataset's falls."""
        return self.code in FALL_CODES

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds."""
        return float(self.t[-1] - self.t[0]) if len(self.t) > 1 else 0.0

    @property
    def name(self) -> str:
        """A short label such as `sub3/FOL/2`."""
        return f"sub{self.subject}/{self.code}/{self.trial}"


def load_recording(path: Path) -> Recording:
    """Parse one MobiFall `_acc_` file; raises RecordingError with the reason."""
    match = _NAME.match(path.name)
    if not match:
        raise RecordingError(f"{path}: not a MobiFall accelerometer file name")
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise RecordingError(f"{path}: {exc}") from exc
    start = next((i + 1 for i, line in enumerate(lines) if line.strip() == "@DATA"), 0)
    rows = [line for line in lines[start:] if line.strip() and not line.lstrip().startswith(("#", "@"))]
    parsed, bad = [], 0
    for line in rows:
        try:
            values = [float(v) for v in line.split(",")]
        except ValueError:
            values = []
        if len(values) == 4 and all(np.isfinite(values)):
            parsed.append(values)
        else:
            bad += 1
    # a truncated last line or a stray glitch costs a sample, not the trial; a file of garbage is an error
    if len(parsed) < 2 or bad > 0.01 * len(rows):
        raise RecordingError(f"{path}: {bad} of {len(rows)} lines are not `timestamp_ns, x, y, z`")
    data = np.array(parsed, dtype=np.float64)
    # The phone logs out of order now and then and repeats timestamps: sort and keep the first of each.
    order = np.argsort(data[:, 0], kind="stable")
    data = data[order]
    keep = np.concatenate(([True], np.diff(data[:, 0]) > 0))
    data = data[keep]
    t = (data[:, 0] - data[0, 0]) / 1e9
    return Recording(path, int(match["subject"]), match["code"], int(match["trial"]), t, data[:, 1:] / STANDARD_GRAVITY)


def find_recordings(root: Path) -> list[Path]:
    """Every accelerometer file under a MobiFall-layout directory, in a stable order."""
    if not root.is_dir():
        raise RecordingError(f"{root}: not a directory")
    paths = sorted(root.glob("sub*/*/*/*_acc_*.txt"))
    if not paths:
        raise RecordingError(f"{root}: no MobiFall accelerometer files (sub<S>/<FALLS|ADL>/<CODE>/*_acc_*.txt)")
    return paths
