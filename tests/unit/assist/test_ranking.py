"""The provider suggestion on hand-made data: category, district, load and ratings, in that weight."""

from __future__ import annotations

from server.assist.ranking import Candidate, rank, smoothed_rating


def c(
    pid: int,
    name: str,
    cats: tuple[str, ...] = ("meals",),
    district: str | None = "东城区",
    capacity: int = 4,
    load: int = 0,
    rating_sum: int = 0,
    ratings: int = 0,
) -> Candidate:
    return Candidate(pid, name, cats, district, capacity, load, rating_sum, ratings)


def names(candidates: list[Candidate], category: str = "meals", district: str | None = "东城区") -> list[str]:
    return [s.candidate.name for s in rank(candidates, category, district)]


def test_only_providers_serving_the_category_with_room_are_suggested() -> None:
    assert names([c(1, "cleaner", cats=("cleaning",)), c(2, "full", load=4), c(3, "cook")]) == ["cook"]


def test_the_same_district_outweighs_a_lighter_load_and_better_ratings() -> None:
    # Near: half full, mean 3 over 4 ratings. Far: empty, five 5-star ratings.
    near = c(1, "near", load=2, rating_sum=12, ratings=4)
    far = c(2, "far", district="西城区", rating_sum=25, ratings=5)
    ranked = rank([far, near], "meals", "东城区")
    assert [s.candidate.name for s in ranked] == ["near", "far"]
    # Hand-computed: near 0.5 + 0.3 * 0.5 + 0.2 * (smoothed (12 + 7) / 6 = 3.1667 - 1) / 4 = 0.7583
    #                far  0   + 0.3 * 1   + 0.2 * (smoothed (25 + 7) / 7 = 4.5714 - 1) / 4 = 0.4786
    assert [s.score for s in ranked] == [0.7583, 0.4786]


def test_within_a_district_the_lighter_load_wins_then_the_better_rating_then_the_name() -> None:
    assert names([c(1, "busy", load=3), c(2, "free")]) == ["free", "busy"]
    assert names([c(1, "poor", rating_sum=4, ratings=2), c(2, "good", rating_sum=10, ratings=2)]) == ["good", "poor"]
    assert names([c(1, "乙"), c(2, "甲")]) == sorted(["乙", "甲"])


def test_a_new_provider_starts_from_the_prior_not_from_zero_or_five() -> None:
    assert smoothed_rating(0, 0) == 3.5
    assert smoothed_rating(5, 1) == (5 + 7) / 3  # one 5-star rating does not make a 5-star provider
    # One bad rating does not sink a newcomer below one with an average record.
    assert names([c(1, "unlucky", rating_sum=1, ratings=1), c(2, "average", rating_sum=30, ratings=10)]) == [
        "average",
        "unlucky",
    ]


def test_a_resident_without_a_district_is_matched_on_load_and_ratings_alone() -> None:
    ranked = rank([c(1, "a", load=1), c(2, "b")], "meals", None)
    assert [s.candidate.name for s in ranked] == ["b", "a"] and not any(s.same_district for s in ranked)
