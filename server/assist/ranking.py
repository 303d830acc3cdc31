"""Who should take a request: providers ranked by category, district, current load and past ratings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Weights of the suggestion (they add up to 1): being nearby matters most, then having room, then ratings.
W_DISTRICT, W_ROOM, W_RATING = 0.5, 0.3, 0.2
PRIOR_RATING, PRIOR_WEIGHT = 3.5, 2  # a new provider counts as two ratings of 3.5 (no unfair first impression)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A provider as the ranking sees it."""

    provider_id: int
    name: str
    categories: tuple[str, ...]
    district: str | None
    capacity: int
    load: int  # open jobs now
    rating_sum: int = 0
    ratings: int = 0


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ranked candidate with its score and the parts it was made of."""

    candidate: Candidate
    score: float
    same_district: bool
    rating: float


def smoothed_rating(rating_sum: int, ratings: int) -> float:
    """The mean rating pulled towards the prior while there are few ratings."""
    return (rating_sum + PRIOR_RATING * PRIOR_WEIGHT) / (ratings + PRIOR_WEIGHT)


def rank(candidates: Iterable[Candidate], category: str, district: str | None) -> list[Suggestion]:
    """Providers serving the category with room left, best first (ties by name)."""
    out = []
    for c in candidates:
        if category not in c.categories or c.capacity <= 0 or c.load >= c.capacity:
            continue
        near = district is not None and c.district == district
        rating = smoothed_rating(c.rating_sum, c.ratings)
        score = W_DISTRICT * near + W_ROOM * (1 - c.load / c.capacity) + W_RATING * (rating - 1) / 4
        out.append(Suggestion(c, round(score, 4), near, round(rating, 2)))
    return sorted(out, key=lambda s: (-s.score, s.candidate.name))
