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
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "@DATA") + 1
    except StopIteration as exc:
        raise RecordingError(f"{path}: no @DATA line") from exc
    rows = [line for line in lines[start:] if line.strip()]
    try:
        data = np.array([[float(v) for v in line.split(",")] for line in rows], dtype=np.float64)
    except ValueError as exc:
        raise RecordingError(f"{path}: bad sample line: {exc}") from exc
    if data.ndim != 2 or data.shape[1] != 4 or len(data) < 2:
        raise RecordingError(f"{path}: expected at least two `timestamp_ns, x, y, z` lines")
    # The phone logs out of order now and then and repeats timestamps: sort and keep the first of each.
    order = np.argsort(data[:, 0], kind="stable")
    data = data[order]
    keep = np.concatenate(([True], np.diff(data[:, 0]) > 0))
    data = data[keep]
    t = (data[:, 0] - data[0, 0]) / 1e9
    return Recording(path, int(match["subject"]), match["code"], int(match["trial"]), t,
                     data[:, 1:] / STANDARD_GRAVITY)


def find_recordings(root: Path) -> list[Path]:
    """Every accelerometer file under a MobiFall-layout directory, in a stable order."""
    if not root.is_dir():
        raise RecordingError(f"{root}: not a directory")
    paths = sorted(root.glob("sub*/*/*/*_acc_*.txt"))
    if not paths:
        raise RecordingError(f"{root}: no MobiFall accelerometer files (sub<S>/<FALLS|ADL>/<CODE>/*_acc_*.txt)")
    return paths
