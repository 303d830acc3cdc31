"""A GB/T 42195-2022 assessment scored by hand: docs/residents.md, the scoring tests and the care pages use it."""

from __future__ import annotations

EXAMPLE = {
    "B1.1": 3,
    "B1.2": 2,
    "B1.3": 1,
    "B1.4": 2,
    "B1.5": 2,
    "B1.6": 3,
    "B1.7": 3,
    "B1.8": 2,  # 18
    "B2.1": 3,
    "B2.2": 2,
    "B2.3": 2,
    "B2.4": 1,  # 8
    "B3.1": 3,
    "B3.2": 2,
    "B3.3": 4,
    "B3.4": 2,
    "B3.5": 3,
    "B3.6": 3,
    "B3.7": 1,
    "B3.8": 0,
    "B3.9": 2,  # 20
    "B4.1": 1,
    "B4.2": 1,
    "B4.3": 2,
    "B4.4": 1,
    "B4.5": 3,  # 8
}
