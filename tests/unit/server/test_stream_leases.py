"""Partition leases: who takes and gives up which partitions, and when this process reports itself unhealthy."""

from __future__ import annotations

from server.stream_leases import View, expired, health, plan, share, unowned

P = 16


def view(owners: dict[int, str], *members: str) -> View:
    return View(frozenset(members) | frozenset(owners.values()), owners)


def settle(processes: list[str], rounds: int = 20) -> dict[str, set[int]]:
    """Every process plans in turn against the bucket as the others left it (takes and releases applied)."""
    held: dict[str, set[int]] = {p: set() for p in processes}
    for _ in range(rounds):
        for me in processes:
            owners = {part: who for who, parts in held.items() for part in parts}
            todo = plan(me, P, View(frozenset(processes), owners), frozenset(held[me]))
            held[me] -= set(todo.release)
            held[me] |= {t for t in todo.take if t not in owners}
    return held


def test_one_process_takes_every_partition() -> None:
    assert sorted(plan("a", P, View(frozenset({"a"}), {}), frozenset()).take) == list(range(P))


def test_two_processes_split_sixteen_partitions_eight_and_eight_and_none_twice() -> None:
    held = settle(["a", "b"])
    assert sorted(len(h) for h in held.values()) == [8, 8]
    assert held["a"].isdisjoint(held["b"]) and held["a"] | held["b"] == set(range(P))


def test_five_processes_each_get_a_share_none_left_empty() -> None:
    held = settle(["a", "b", "c", "d", "e"])
    assert sorted(len(h) for h in held.values()) == [3, 3, 3, 3, 4]
    assert set().union(*held.values()) == set(range(P))


def test_a_newcomer_gets_half_from_a_process_holding_all() -> None:
    old = frozenset(range(P))
    todo = plan("a", P, view(dict.fromkeys(range(P), "a"), "b"), old)
    assert len(todo.release) == 8 and not todo.take, "the old owner gives up beyond its share"
    nothing_free = plan("b", P, view(dict.fromkeys(range(P), "a"), "b"), frozenset())
    assert nothing_free.take == (), "the newcomer takes only what was released"


def test_a_dead_process_partitions_are_taken_once_its_leases_expire() -> None:
    # b died: its owner keys expired from the bucket, only a's remain.
    mine = frozenset(range(8))
    todo = plan("a", P, view(dict.fromkeys(mine, "a")), mine)
    assert sorted(todo.take) == list(range(8, P))


def test_a_partition_leased_by_another_live_process_is_never_taken() -> None:
    owners = {0: "b"}
    todo = plan("a", P, view(owners, "a"), frozenset())
    assert 0 not in todo.take


def test_shares() -> None:
    assert share(16, 1) == (16, 16)
    assert share(16, 3) == (5, 6)
    assert share(16, 0) == (16, 16)


def test_a_lease_not_refreshed_is_given_up_before_the_bucket_frees_it() -> None:
    assert expired({1: 100.0, 2: 103.5}, now=104.0, ttl_s=5.0) == [1]


def test_parse_ignores_keys_that_are_not_ours() -> None:
    v = View.parse({"owner.p3": "a", "owner.p99": "x", "owner.px": "y", "member.a": "1", "other": "z"}, P)
    assert v.members == {"a"} and dict(v.owners) == {3: "a"}
    assert unowned(P, v) == [p for p in range(P) if p != 3]


def test_health() -> None:
    all_owned = view(dict.fromkeys(range(P), "b"), "a")
    assert not health(False, 8, all_owned, P, 60).ok
    assert "NATS" in health(False, 8, all_owned, P, 60).problem
    assert health(True, 0, all_owned, P, 60).ok, "holding nothing is fine while every partition is read"
    orphans = view(dict.fromkeys(range(8), "b"), "a")
    assert not health(True, 0, orphans, P, 60).ok
    assert health(True, 0, orphans, P, 2).ok, "the first lease rounds are still running"
    assert health(True, 8, orphans, P, 60).ok


def test_messages_past_our_partitions_make_the_intake_unhealthy() -> None:
    all_owned = view(dict.fromkeys(range(P), "a"), "a")
    sick = health(True, P, all_owned, P, 60, unread=3)
    assert not sick.ok and "nats_partitions" in sick.problem
