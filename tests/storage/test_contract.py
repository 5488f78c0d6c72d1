"""The storage contract (storage/base.py), written once and run against every backend (tests/support/backends.py;
the `store` fixture is in conftest.py, the shared test data in tests/support/contract.py).
`pytest -k mongo` selects exactly the MongoDB runs.
"""

from __future__ import annotations

import threading
import uuid

import orjson
import pytest

from taxii_server.errors import Conflict
from taxii_server.model import (
    Credential,
    NewVersion,
    ObjectFilter,
    ObjectScope,
    Organisation,
    Status,
    StatusDetail,
)
from taxii_server.storage.base import Store
from taxii_server.timestamps import parse_us
from tests.support.contract import COLL, SHARED, T0, count_versions, ind, ts, version


def walk(store: Store, scope: ObjectScope, flt: ObjectFilter, limit: int = 2) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    cursor = None
    for _ in range(1000):
        page = store.query(scope, flt, cursor, limit)
        seen += [(i.id, i.version) for i in page.items]
        if not page.more:
            return seen
        cursor = page.last_cursor
    raise AssertionError("paging did not end")


def test_date_added_is_unique_and_strictly_increasing_within_and_across_batches(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(i), ts(1)) for i in range(5)], T0)
    store.add_versions(SHARED, "org-a", False, [version(ind(i), ts(1)) for i in range(5, 9)], T0)
    added = [i.date_added_us for i in store.query(SHARED, ObjectFilter(), None, 100).items]
    assert len(added) == 9
    assert added == sorted(set(added))


def test_date_added_never_goes_backwards_when_the_clock_does(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    store.add_versions(SHARED, "org-a", False, [version(ind(2), ts(1))], T0 - 10_000_000)
    first, second = store.query(SHARED, ObjectFilter(), None, 10).items
    assert second.date_added_us > first.date_added_us


def test_exact_duplicate_is_reported_and_stored_once(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    result = store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0 + 1)
    assert [r.outcome for r in result] == ["duplicate"]
    assert count_versions(store, COLL) == 1


def test_same_version_with_different_content_is_a_conflict_and_not_stored(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    result = store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1), name="changed")], T0 + 1)
    assert [r.outcome for r in result] == ["conflict"]
    only = store.query(SHARED, ObjectFilter(), None, 10).items
    assert [orjson.loads(i.raw).get("name") for i in only] == [None]


def test_an_object_without_version_gets_its_date_added_as_version_and_is_immutable(store: Store) -> None:
    sco = "ipv4-addr--" + str(uuid.UUID(int=7, version=4))
    [first] = store.add_versions(SHARED, "org-a", False, [version(sco, None, value="198.51.100.1")], T0)
    [again] = store.add_versions(SHARED, "org-a", False, [version(sco, None, value="198.51.100.1")], T0 + 5)
    [other] = store.add_versions(SHARED, "org-a", False, [version(sco, None, value="198.51.100.2")], T0 + 9)
    [row] = store.query(SHARED, ObjectFilter(version_keywords=frozenset({"all"})), None, 10).items
    assert (first.outcome, again.outcome, other.outcome) == ("added", "duplicate", "conflict")
    assert row.version == first.version == again.version
    assert parse_us(row.version) == row.date_added_us


def test_only_the_first_adder_may_add_new_versions_in_a_shared_collection(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    [hijack] = store.add_versions(SHARED, "org-b", False, [version(ind(1), ts(2))], T0 + 1)
    [analyst] = store.add_versions(SHARED, "hub", True, [version(ind(1), ts(3))], T0 + 2)
    [owner] = store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(4))], T0 + 3)
    assert (hijack.outcome, analyst.outcome, owner.outcome) == ("not_owner", "added", "added")


def test_an_exact_duplicate_from_another_organisation_is_a_duplicate_not_a_refusal(store: Store) -> None:
    sco = "ipv4-addr--" + str(uuid.UUID(int=8, version=4))
    store.add_versions(SHARED, "org-a", False, [version(sco, None, value="198.51.100.1"), version(ind(1), ts(1))], T0)
    again = store.add_versions(SHARED, "org-b", False, [version(sco, None, value="198.51.100.1"),
                                                        version(ind(1), ts(1))], T0 + 1)
    changed = store.add_versions(SHARED, "org-b", False, [version(sco, None, value="198.51.100.9"),
                                                          version(ind(1), ts(2))], T0 + 2)
    assert [r.outcome for r in again] == ["duplicate", "duplicate"]
    assert [r.outcome for r in changed] == ["not_owner", "not_owner"]
    assert count_versions(store, COLL) == 2


def test_partitioned_collections_keep_one_namespace_per_organisation(store: Store) -> None:
    writes = ObjectScope(COLL, partitioned=True)
    a = store.add_versions(writes, "org-a", False, [version(ind(1), ts(1))], T0)
    b = store.add_versions(writes, "org-b", False, [version(ind(1), ts(1), name="b's copy")], T0 + 1)
    assert [r.outcome for r in a + b] == ["added", "added"]
    seen_by_a = store.query(ObjectScope(COLL, True, "org-a"), ObjectFilter(), None, 10).items
    seen_by_analyst = store.query(ObjectScope(COLL, True, None), ObjectFilter(), None, 10).items
    assert [orjson.loads(i.raw).get("name") for i in seen_by_a] == [None]
    assert len(seen_by_analyst) == 2
    assert not store.object_exists(ObjectScope(COLL, True, "org-c"), ind(1))


def test_default_query_returns_the_latest_version_by_modified_not_by_arrival(store: Store) -> None:
    store.add_versions(SHARED, "o", False, [version(ind(1), ts(3))], T0)
    store.add_versions(SHARED, "o", False, [version(ind(1), ts(2))], T0 + 1)
    [row] = store.query(SHARED, ObjectFilter(), None, 10).items
    assert row.version == ts(3)


@pytest.mark.parametrize(
    ("keywords", "instants", "expected"),
    [
        ({"first"}, (), {ts(1)}),
        ({"last"}, (), {ts(3)}),
        ({"first", "last"}, (), {ts(1), ts(3)}),
        ({"all"}, (), {ts(1), ts(2), ts(3)}),
        (set(), (parse_us(ts(2)),), {ts(2)}),
        ({"first", "last"}, (parse_us(ts(2)),), {ts(1), ts(2), ts(3)}),
    ],
)
def test_version_keywords_select_per_object(
    store: Store, keywords: set[str], instants: tuple[int, ...], expected: set[str]
) -> None:
    store.add_versions(SHARED, "o", False, [version(ind(1), ts(d)) for d in (1, 2, 3)], T0)
    store.add_versions(SHARED, "o", False, [version(ind(2), ts(9))], T0 + 10)
    flt = ObjectFilter(ids=(ind(1),), version_keywords=frozenset(keywords), version_instants=instants)
    assert {v for _, v in walk(store, SHARED, flt)} == expected


def test_version_keywords_apply_after_added_after(store: Store) -> None:
    for d in (1, 2, 3):
        store.add_versions(SHARED, "o", False, [version(ind(1), ts(d))], T0 + d)
    first_added = store.query(SHARED, ObjectFilter(version_keywords=frozenset({"all"})), None, 1).items[0]
    flt = ObjectFilter(added_after_us=first_added.date_added_us, version_keywords=frozenset({"first"}))
    assert walk(store, SHARED, flt) == [(ind(1), ts(2))]


def test_latest_spec_version_is_the_default_and_an_explicit_one_is_honoured(store: Store) -> None:
    ident = "identity--" + str(uuid.UUID(int=3, version=4))
    store.add_versions(SHARED, "o", False, [version(ident, ts(5), spec="2.0")], T0)
    store.add_versions(SHARED, "o", False, [version(ident, ts(1), spec="2.1")], T0 + 1)
    default_all = ObjectFilter(version_keywords=frozenset({"all"}))
    assert walk(store, SHARED, default_all) == [(ident, ts(1))]
    assert walk(store, SHARED, ObjectFilter(spec_versions=("2.0",))) == [(ident, ts(5))]
    both = ObjectFilter(spec_versions=("2.0", "2.1"))
    assert walk(store, SHARED, both) == [(ident, ts(5))]


def test_type_and_id_filters_combine(store: Store) -> None:
    mal = "malware--" + str(uuid.UUID(int=11, version=4))
    store.add_versions(SHARED, "o", False, [version(ind(1), ts(1)), version(mal, ts(1))], T0)
    assert walk(store, SHARED, ObjectFilter(types=("malware",))) == [(mal, ts(1))]
    assert walk(store, SHARED, ObjectFilter(types=("indicator",), ids=(mal,))) == []
    assert len(walk(store, SHARED, ObjectFilter(types=("indicator", "malware")))) == 2


def test_keyset_pages_return_every_version_once_in_date_added_order(store: Store) -> None:
    store.add_versions(SHARED, "o", False, [version(ind(i), ts(1 + i % 3)) for i in range(23)], T0)
    seen = walk(store, SHARED, ObjectFilter(), limit=4)
    assert [i for i, _ in seen] == [ind(i) for i in range(23)]


def test_delete_without_versions_removes_all_and_frees_the_id(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(d)) for d in (1, 2)], T0)
    removed = store.delete(SHARED, ind(1), ObjectFilter(version_keywords=frozenset({"all"})))
    assert removed == 2
    assert not store.object_exists(SHARED, ind(1))
    [again] = store.add_versions(SHARED, "org-b", False, [version(ind(1), ts(3))], T0 + 5)
    assert again.outcome == "added"


def test_delete_of_one_version_keeps_the_others(store: Store) -> None:
    store.add_versions(SHARED, "o", False, [version(ind(1), ts(d)) for d in (1, 2, 3)], T0)
    store.delete(SHARED, ind(1), ObjectFilter(version_keywords=frozenset(), version_instants=(parse_us(ts(2)),)))
    remaining = walk(store, SHARED, ObjectFilter(version_keywords=frozenset({"all"})))
    assert remaining == [(ind(1), ts(1)), (ind(1), ts(3))]


def test_delete_in_a_partition_touches_only_that_partition(store: Store) -> None:
    writes = ObjectScope(COLL, partitioned=True)
    store.add_versions(writes, "org-a", False, [version(ind(1), ts(1))], T0)
    store.add_versions(writes, "org-b", False, [version(ind(1), ts(1))], T0 + 1)
    every = ObjectFilter(version_keywords=frozenset({"all"}))
    assert store.delete(ObjectScope(COLL, True, "org-a"), ind(1), every) == 1
    assert store.object_exists(ObjectScope(COLL, True, "org-b"), ind(1))


def test_the_owner_is_the_first_adder_per_partition_and_goes_with_the_last_version(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    store.add_versions(SHARED, "org-b", True, [version(ind(1), ts(2))], T0 + 1)
    inbox = ObjectScope(COLL, partitioned=True)
    store.add_versions(inbox, "org-b", False, [version(ind(2), ts(1))], T0 + 2)
    assert store.object_owner(SHARED, ind(1)) == "org-a"
    assert store.object_owner(ObjectScope(COLL, True, "org-b"), ind(2)) == "org-b"
    assert store.object_owner(ObjectScope(COLL, True, "org-a"), ind(2)) is None
    store.delete(SHARED, ind(1), ObjectFilter(version_keywords=frozenset({"all"})))
    assert store.object_owner(SHARED, ind(1)) is None


def test_first_writers_name_each_collections_first_adder_outside_the_inboxes(store: Store) -> None:
    other = ObjectScope("c0ffee00-0000-4000-8000-000000000002")
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    store.add_versions(other, "org-b", False, [version(ind(1), ts(2)), version(ind(3), ts(1))], T0 + 1)
    store.add_versions(ObjectScope(COLL, partitioned=True), "org-c", False, [version(ind(2), ts(1))], T0 + 2)
    assert store.first_writers([ind(1), ind(2), ind(3), ind(4)]) == {
        ind(1): {COLL: "org-a", other.collection_id: "org-b"}, ind(3): {other.collection_id: "org-b"}}
    assert store.first_writers([]) == {}


def test_statuses_round_trip_and_expire(store: Store) -> None:
    status = Status(str(uuid.uuid4()), "api1", COLL, "org-a", T0,
                    successes=(StatusDetail(ind(1), ts(1)),), failures=(StatusDetail("", "", "bad"),))
    store.save_status(status)
    assert store.get_status(status.id) == status
    assert store.purge_statuses(T0 + 1) == 1
    assert store.get_status(status.id) is None


def test_organisations_are_unique(store: Store) -> None:
    org = Organisation("org-a", "A", "gas", ("member",), "2021-01-01T00:00:00.000000Z")
    store.add_organisation(org)
    with pytest.raises(Conflict):
        store.add_organisation(org)
    assert store.get_organisation("org-a") == org
    assert store.list_organisations() == [org]


def test_credentials_are_found_by_hash_until_revoked(store: Store) -> None:
    store.add_organisation(Organisation("org-a", "A", "gas", ("member", "analyst"), "t"))
    cred = Credential("key-1", "org-a", "poller", "2021-01-01T00:00:00.000000Z")
    store.add_credential(cred, "ab" * 32)
    found = store.find_credential("ab" * 32)
    assert found is not None and found[0] == cred and found[1].roles == ("member", "analyst")
    assert store.revoke_credential("key-1", "2021-02-01T00:00:00.000000Z")
    assert store.find_credential("ab" * 32) is None
    assert store.list_credentials("org-a")[0].revoked == "2021-02-01T00:00:00.000000Z"
    assert not store.revoke_credential("key-1", "later")


def test_passwords_are_stored_per_organisation(store: Store) -> None:
    store.add_organisation(Organisation("org-a", "A", "gas", ("member",), "t"))
    assert store.get_password("org-a") is None
    store.set_password("org-a", "scrypt$hash")
    assert store.get_password("org-a") == "scrypt$hash"


def test_meta_values_are_created_once(store: Store) -> None:
    assert store.get_or_create_meta("k", "first") == "first"
    assert store.get_or_create_meta("k", "second") == "first"


def test_concurrent_duplicate_posts_store_one_copy(store: Store) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        outcomes.extend(r.outcome for r in store.add_versions(SHARED, "o", False, [version(ind(1), ts(1))], T0))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["added", "duplicate", "duplicate", "duplicate"]
    assert count_versions(store, COLL) == 1


def _dates(store: Store, scope: ObjectScope) -> dict[str, int]:
    page = store.query(scope, ObjectFilter(version_keywords=frozenset({"all"})), None, 1000)
    return {f"{i.id} {i.version}": i.date_added_us for i in page.items}


def test_each_commits_last_date_added_is_on_a_whole_millisecond_and_the_next_commit_after_it(store: Store) -> None:
    """OpenCTI keeps X-TAXII-Date-Added-Last truncated to milliseconds: the end of every commit must be one."""
    seen: set[str] = set()
    previous_end = -1
    n = 0
    for size, now in ((1, T0 + 1), (3, T0 + 2), (5, T0 + 999), (2, T0 + 1000), (4, T0 + 1000), (1, T0 + 7_000_123)):
        results = store.add_versions(SHARED, "org-a", False, [version(ind(n + i), ts(1)) for i in range(size)], now)
        n += size
        assert [r.outcome for r in results] == ["added"] * size
        dates = _dates(store, SHARED)
        mine = sorted(d for key, d in dates.items() if key not in seen)
        seen |= set(dates)
        assert len(mine) == size and mine[-1] % 1000 == 0, mine
        assert mine[0] > previous_end and len(set(mine)) == size
        previous_end = mine[-1]


def test_an_unversioned_object_ending_a_commit_moves_with_its_date_added(store: Store) -> None:
    sco = NewVersion("ipv4-addr--" + str(uuid.UUID(int=7, version=4)), "ipv4-addr", None, None, "2.1",
                     b'{"type":"ipv4-addr","id":"ipv4-addr--00000000-0000-4000-8000-000000000007","value":"1.2.3.4"}')
    [result] = store.add_versions(SHARED, "org-a", False, [sco], T0 + 17)
    [item] = store.query(SHARED, ObjectFilter(), None, 10).items
    assert item.date_added_us == T0 + 1000 and parse_us(item.version) == item.date_added_us
    assert result.version == item.version


@pytest.mark.parametrize("resent", [
    b'{"name": "x", "modified": "2021-01-01T00:00:00.000Z", "id": "%s", "type": "indicator"}',
    b'{\n  "type": "indicator",\n  "id": "%s",\n  "modified": "2021-01-01T00:00:00.000Z",\n  "name": "x"\n}',
], ids=["reordered", "pretty-printed"])
def test_a_version_sent_again_in_another_serialisation_is_a_duplicate(store: Store, resent: bytes) -> None:
    oid = ind(1)
    first = version(oid, ts(1), name="x")
    assert [r.outcome for r in store.add_versions(SHARED, "org-a", False, [first], T0)] == ["added"]
    again = NewVersion(oid, "indicator", ts(1), parse_us(ts(1)), "2.1", resent % oid.encode())
    assert [r.outcome for r in store.add_versions(SHARED, "org-a", False, [again], T0 + 1)] == ["duplicate"]
    assert len(store.query(SHARED, ObjectFilter(), None, 10).items) == 1


@pytest.mark.parametrize("value", [b'"y"', b"1", b"true", b"[1]"])
def test_the_same_id_and_version_with_another_value_is_still_a_conflict(store: Store, value: bytes) -> None:
    oid = ind(2)
    sent = b'{"type":"indicator","id":"%s","modified":"2021-01-01T00:00:00.000Z","name":%s}'
    store.add_versions(SHARED, "org-a", False, [NewVersion(oid, "indicator", ts(1), parse_us(ts(1)), "2.1",
                                                          sent % (oid.encode(), b"1.0"))], T0)
    other = NewVersion(oid, "indicator", ts(1), parse_us(ts(1)), "2.1", sent % (oid.encode(), value))
    assert [r.outcome for r in store.add_versions(SHARED, "org-a", False, [other], T0 + 1)] == ["conflict"]
