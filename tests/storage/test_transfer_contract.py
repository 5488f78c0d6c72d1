"""The bulk-transfer part of the storage contract (export, import, migration), run on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from taxii_server.model import (
    AuditEntry,
    Credential,
    ObjectFilter,
    ObjectScope,
    Organisation,
    Publication,
    Status,
    StatusDetail,
    Submission,
    SubmissionContent,
)
from taxii_server.storage.base import Store, TransferOwner, TransferVersion
from tests.support.contract import COLL, SHARED, T0, count_versions, ind, ts, version

OTHER = "c0ffee00-0000-4000-8000-000000000002"
EVERY = ObjectFilter(version_keywords=frozenset({"all"}))


def transfer_version(n: int, date_added: int, partition: str = "", by: str = "org-a") -> TransferVersion:
    return TransferVersion(date_added, partition, by, ind(n), "indicator", ts(1), 1609459200000000, "2.1",
                           b'{"id":"%s","modified":"%s","type":"indicator"}' % (ind(n).encode(), ts(1).encode()))


def test_exported_versions_carry_date_added_partition_and_adder_in_order(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1)), version(ind(2), ts(1))], T0)
    inbox = ObjectScope(OTHER, partitioned=True)
    store.add_versions(inbox, "org-b", False, [version(ind(3), ts(2))], T0)
    first = store.export_versions(COLL, None, 1)
    rest = store.export_versions(COLL, first[-1].date_added_us, 10)
    assert [v.id for v in first + rest] == [ind(1), ind(2)]
    assert first[0].date_added_us < rest[0].date_added_us
    [boxed] = store.export_versions(OTHER, None, 10)
    assert (boxed.partition, boxed.added_by, boxed.version) == ("org-b", "org-b", ts(2))
    assert store.transfer_collections() == sorted([COLL, OTHER])


def test_imported_versions_keep_their_date_added_and_are_served(store: Store) -> None:
    stored = store.import_versions(COLL, [transfer_version(1, T0 + 5), transfer_version(2, T0 + 9)])
    assert stored == 2
    page = store.query(SHARED, ObjectFilter(), None, 10)
    assert [(i.id, i.date_added_us) for i in page.items] == [(ind(1), T0 + 5), (ind(2), T0 + 9)]


def test_importing_the_same_versions_again_stores_nothing(store: Store) -> None:
    batch = [transfer_version(1, T0 + 5), transfer_version(2, T0 + 9)]
    store.import_versions(COLL, batch)
    assert store.import_versions(COLL, batch) == 0
    assert count_versions(store, COLL) == 2


def test_adds_after_an_import_get_a_later_date_added(store: Store) -> None:
    store.import_versions(COLL, [transfer_version(1, T0 + 1_000_000)])
    store.add_versions(SHARED, "org-a", False, [version(ind(2), ts(1))], T0)  # the clock is behind the import
    added = [i.date_added_us for i in store.query(SHARED, ObjectFilter(), None, 10).items]
    assert added[0] == T0 + 1_000_000 and added[1] > added[0]


def test_an_object_without_version_stays_immutable_after_import(store: Store) -> None:
    sco = "ipv4-addr--00000000-0000-4000-8000-000000000007"
    store.add_versions(SHARED, "org-a", False, [version(sco, None, value="198.51.100.1")], T0)
    exported = store.export_versions(COLL, None, 10)
    store.erase_everything()
    store.import_versions(COLL, exported)
    [again] = store.add_versions(SHARED, "org-a", False, [version(sco, None, value="198.51.100.2")], T0 + 9)
    assert again.outcome == "conflict"
    assert store.export_versions(COLL, None, 10) == exported


def test_owners_round_trip_and_still_guard_new_versions(store: Store) -> None:
    store.import_versions(COLL, [transfer_version(1, T0)])
    store.import_owners(COLL, [TransferOwner("", ind(1), "org-a"), TransferOwner("", ind(2), "org-c")])
    assert store.export_owners(COLL, None, 1) == [TransferOwner("", ind(1), "org-a")]
    assert store.export_owners(COLL, ("", ind(1)), 10) == [TransferOwner("", ind(2), "org-c")]
    [hijack] = store.add_versions(SHARED, "org-b", False, [version(ind(1), ts(5))], T0 + 1)
    assert hijack.outcome == "not_owner"


def test_accounts_round_trip_with_hashes_and_revocations(store: Store) -> None:
    org = Organisation("org-a", "A", "gas", ("member", "analyst"), "2021-01-01T00:00:00.000000Z")
    store.import_organisation(org, "scrypt$h")
    store.import_organisation(org, "scrypt$h2")  # replaces
    live = Credential("k1", "org-a", "poller", "2021-01-02T00:00:00.000000Z")
    dead = Credential("k2", "org-a", "old", "2021-01-01T00:00:00.000000Z", "2021-01-03T00:00:00.000000Z")
    store.import_credential(live, "aa" * 32)
    store.import_credential(dead, "bb" * 32)
    assert store.list_organisations() == [org]
    assert store.get_password("org-a") == "scrypt$h2"
    assert store.export_credentials() == [(dead, "bb" * 32), (live, "aa" * 32)]
    assert store.find_credential("bb" * 32) is None


def test_statuses_export_in_id_order_in_pages(store: Store) -> None:
    statuses = [Status(f"s{n}", "api1", COLL, "org-a", T0 + n, successes=(StatusDetail(ind(n), ts(1)),))
                for n in (3, 1, 2)]
    for s in statuses:
        store.save_status(s)
    first = store.export_statuses(None, 2)
    assert [s.id for s in first] == ["s1", "s2"]
    assert store.export_statuses("s2", 2) == [statuses[0]]


def test_meta_is_exported_and_replaced_on_import(store: Store) -> None:
    store.get_or_create_meta("paging_key", "old")
    store.import_meta("paging_key", "new")
    assert store.export_meta()["paging_key"] == "new"


def test_hub_records_round_trip(store: Store) -> None:
    sub = Submission("sub-1", "org-a", T0, "http", "message/rfc822", "converted", "amber")
    store.import_submission(sub, SubmissionContent(b"raw", b"[]", b"{}"))
    store.import_submission(sub, SubmissionContent(b"raw2", b"[]", b"{}"))  # replaces
    assert store.list_submissions() == [sub]
    assert store.get_submission_content("sub-1") == SubmissionContent(b"raw2", b"[]", b"{}")
    pub = Publication("pub-1", "n", "d", "green", (COLL,), ("sub-1",), None, "desk", None, "published", T0)
    store.save_publication(pub, b"{}")
    assert store.list_publications() == [pub]


def test_audit_entries_are_exported_in_order_and_imported_once(store: Store) -> None:
    entries = [AuditEntry(f"a{n}", T0 + (5 - n), "desk", "publish", f"p{n}") for n in range(5)]
    store.import_audit(entries[:3])
    store.import_audit(entries)  # the first three again: skipped
    assert store.export_audit(None, 2) == entries[:2]
    assert store.export_audit("a1", 10) == entries[2:]


def _objects(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)


def _accounts(store: Store) -> None:
    store.add_organisation(Organisation("org-a", "A", "gas", ("member",), "t"))
    store.add_credential(Credential("k1", "org-a", "", "t"), "cc" * 32)


def _statuses(store: Store) -> None:
    store.save_status(Status("s1", "api1", COLL, "org-a", T0))


def _audit(store: Store) -> None:
    store.add_audit(AuditEntry("a1", T0, "desk", "publish", "p1"))


@pytest.mark.parametrize("fill", [_objects, _accounts, _statuses, _audit])
def test_erase_everything_leaves_an_empty_hub_with_its_schema(store: Store, fill: Any) -> None:
    fill(store)
    store.get_or_create_meta("paging_key", "k")
    store.erase_everything()
    assert store.transfer_collections() == []
    assert store.list_organisations() == [] and store.export_credentials() == []
    assert store.export_statuses(None, 10) == [] and store.export_audit(None, 10) == []
    assert "paging_key" not in store.export_meta()
    store.initialise()  # the schema is still there
    assert store.query(SHARED, EVERY, None, 10).items == ()
