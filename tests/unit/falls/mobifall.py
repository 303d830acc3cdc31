"""MobiFall on this machine, and recordings written in its layout from synthetic traces, for the fall tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gateway.falls.recordings import STANDARD_GRAVITY

REPO = Path(__file__).resolve().parents[3]


def dataset_dir() -> Path | None:
    """ANXIN_MOBIFALL_DIR, else ../shared/datasets/mobifall next to the repository (or a worktree's parent)."""
    if os.environ.get("ANXIN_MOBIFALL_DIR"):
        return Path(os.environ["ANXIN_MOBIFALL_DIR"])
    for parent in REPO.parents:
        candidate = parent / "shared" / "datasets" / "mobifall"
        if candidate.is_dir():
            return candidate
    return None


HEADER = (
    "#Acceleration force along the x y z axes (including gravity).\n#timestamp(ns),x,y,z(m/s^2)\n"
    "#Activity: {code}\n#Subject ID: {subject}\n\n@DATA\n"
)


def write_trial(root: Path, subject: int, kind: str, code: str, trial: int, xyz: np.ndarray, seed: int) -> Path:
    """Write a trace the way the phone logged it: irregular ~87 Hz timestamps in ns, m/s²."""
    rng = np.random.default_rng(seed)
    grid = np.arange(len(xyz)) / 50.0
    t = np.cumsum(rng.uniform(0.6, 1.4, int(grid[-1] * 87)) / 87)
    t = t[t <= grid[-1]]
    ms2 = np.column_stack([np.interp(t, grid, xyz[:, i]) for i in range(3)]) * STANDARD_GRAVITY
    path = root / f"sub{subject}" / kind / code / f"{code}_acc_{subject}_{trial}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(
        f"{int(1e12 + ts * 1e9)}, {x:.6f}, {y:.6f}, {z:.6f}\n" for ts, (x, y, z) in zip(t, ms2, strict=False)
    )
    path.write_text(HEADER.format(code=code, subject=subject) + lines)
    return path
