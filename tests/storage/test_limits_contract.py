"""The rate-limit and poll-history part of the storage contract (ThrottleStore, PollStore), on every backend."""

from __future__ import annotations

import pytest

from taxii_server.model import ObjectScope, PollRecord
from taxii_server.storage.base import Store
from tests.support.contract import COLL, version

T0 = 1_700_000_000_000_000
SECOND = 1_000_000


def poll(n: int, org: str = "org-a", at: int | None = None, **kw: object) -> PollRecord:
    values: dict[str, object] = {"id": f"poll-{org}-{n}", "at_us": T0 + n if at is None else at, "org_id": org,
                                 "credential_id": "key-1", "api_root": "api1", "collection_id": COLL,
                                 "endpoint": "objects", "status": 200, "objects": 2, "versions": 3,
                                 "first_added_us": T0 - 10, "last_added_us": T0 - 1}
    values.update(kw)
    return PollRecord(**values)  # type: ignore[arg-type]


def test_a_new_bucket_starts_full_and_empties_after_its_capacity(store: Store) -> None:
    verdicts = [store.take_token("k", 1, 1.0, 3, T0) for _ in range(4)]
    assert [granted for granted, _ in verdicts] == [True, True, True, False]
    assert [tokens for _, tokens in verdicts] == [2.0, 1.0, 0.0, 0.0]


def test_a_bucket_refills_at_its_rate_up_to_its_capacity(store: Store) -> None:
    for _ in range(3):
        store.take_token("k", 1, 2.0, 3, T0)
    assert store.take_token("k", 1, 2.0, 3, T0 + SECOND // 2) == (True, 0.0)  # half a second: one token
    assert store.take_token("k", 1, 2.0, 3, T0 + 100 * SECOND) == (True, 2.0)  # never above the capacity


def test_a_refused_take_leaves_the_tokens_it_found(store: Store) -> None:
    for _ in range(2):
        store.take_token("k", 1, 1.0, 2, T0)
    granted, tokens = store.take_token("k", 1, 1.0, 2, T0 + SECOND // 4)
    assert not granted and tokens == pytest.approx(0.25)


def test_a_negative_cost_gives_tokens_back_but_not_above_capacity(store: Store) -> None:
    store.take_token("k", 1, 1.0, 2, T0)
    assert store.take_token("k", -1, 1.0, 2, T0) == (True, 2.0)
    assert store.take_token("k", -1, 1.0, 2, T0) == (True, 2.0)


def test_buckets_are_independent_per_key(store: Store) -> None:
    store.take_token("a", 1, 1.0, 1, T0)
    assert store.take_token("a", 1, 1.0, 1, T0)[0] is False
    assert store.take_token("b", 1, 1.0, 1, T0)[0] is True


def test_a_clock_behind_the_last_take_refills_nothing(store: Store) -> None:
    store.take_token("k", 1, 1.0, 1, T0 + SECOND)
    assert store.take_token("k", 1, 1.0, 1, T0)[0] is False


def test_idle_buckets_are_purged_once_they_would_be_full_again(store: Store) -> None:
    store.take_token("k", 1, 1.0, 5, T0)
    assert store.purge_buckets(T0 + SECOND) == 0
    assert store.purge_buckets(T0 + 10 * SECOND) == 1
    assert store.take_token("k", 1, 1.0, 5, T0 + 10 * SECOND) == (True, 4.0)


def test_polls_round_trip_newest_first_and_per_organisation(store: Store) -> None:
    records = [poll(1), poll(2, "org-b"), poll(3, credential_id=None, status=404, objects=0, versions=0,
                                                first_added_us=None, last_added_us=None, object_id="x--1")]
    for r in records:
        store.add_poll(r)
    assert store.list_polls(None, None, 10) == list(reversed(records))
    assert store.list_polls("org-a", None, 10) == [records[2], records[0]]
    assert store.list_polls("org-a", T0 + 2, 10) == [records[2]]
    assert store.list_polls(None, None, 1) == [records[2]]


def test_pruning_keeps_the_newest_per_organisation_and_drops_old_records(store: Store) -> None:
    for n in range(10):
        store.add_poll(poll(n))
    store.add_poll(poll(0, "org-b", at=T0 - 5 * SECOND))
    store.add_poll(poll(1, "org-b"))
    store.prune_polls("org-a", 4, T0 - SECOND)
    assert [r.id for r in store.list_polls("org-a", None, 100)] == [f"poll-org-a-{n}" for n in (9, 8, 7, 6)]
    assert [r.id for r in store.list_polls("org-b", None, 100)] == ["poll-org-b-1"]


def test_newest_date_added_is_taken_within_the_scope(store: Store) -> None:
    inbox = ObjectScope(COLL, partitioned=True)
    assert store.newest_date_added(ObjectScope(COLL)) is None
    store.add_versions(inbox, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    store.add_versions(inbox, "org-b", False, [version("indicator--b", "2021-01-01T00:00:00.000Z")], T0 + 5000)
    assert store.newest_date_added(ObjectScope(COLL, partitioned=True, owner="org-a")) == T0
    assert store.newest_date_added(ObjectScope(COLL, partitioned=True)) == T0 + 5000
