"""The feeds' change marker: it moves on every addition and removal in the scope, and only then; it is read in
one look-up of a marker the writes keep, never by counting or scanning the collection."""

from __future__ import annotations

from taxii_server.model import ContentVersion, ObjectFilter, ObjectScope
from taxii_server.storage.base import Store, TransferVersion
from tests.support.contract import COLL, T0, version

SHARED = ObjectScope(COLL)


def test_an_addition_changes_the_content_version(store: Store) -> None:
    empty = store.content_version(SHARED)
    assert empty == ContentVersion("", None) and store.content_version(SHARED) == empty
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    one = store.content_version(SHARED)
    assert one.tag != empty.tag and store.content_version(SHARED) == one
    assert one.changed_us == store.newest_date_added(SHARED)
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-02T00:00:00.000Z")], T0 + 1)
    two = store.content_version(SHARED)
    assert two.tag not in (empty.tag, one.tag) and two.changed_us == store.newest_date_added(SHARED)


def test_a_duplicate_changes_nothing(store: Store) -> None:
    v = version("indicator--a", "2021-01-01T00:00:00.000Z")
    store.add_versions(SHARED, "org-a", False, [v], T0)
    before = store.content_version(SHARED)
    store.add_versions(SHARED, "org-a", False, [v], T0 + 5)
    assert store.content_version(SHARED) == before


def test_a_removal_changes_it_even_when_the_newest_version_stays(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z"),
                                                version("indicator--b", "2021-01-01T00:00:00.000Z")], T0)
    before = store.content_version(SHARED)
    assert store.delete(SHARED, "indicator--a", ObjectFilter(version_keywords=frozenset({"all"}))) == 1
    after = store.content_version(SHARED)
    assert after.tag != before.tag
    assert after.changed_us is not None and before.changed_us is not None and after.changed_us >= before.changed_us


def test_an_inbox_members_version_ignores_other_members_additions(store: Store) -> None:
    inbox = ObjectScope(COLL, partitioned=True)
    own = ObjectScope(COLL, partitioned=True, owner="org-a")
    store.add_versions(inbox, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    mine, everyone = store.content_version(own), store.content_version(inbox)
    store.add_versions(inbox, "org-b", False, [version("indicator--b", "2021-01-01T00:00:00.000Z")], T0 + 1)
    assert store.content_version(own) == mine
    assert store.content_version(inbox).tag != everyone.tag
    assert store.content_version(ObjectScope(COLL, partitioned=True, owner="org-b")).tag not in ("", mine.tag)


def test_a_bulk_import_and_an_erase_move_it_and_never_repeat_an_earlier_tag(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    [exported] = store.export_versions(COLL, None, 10)
    first = store.content_version(SHARED)
    store.erase_everything()
    assert store.content_version(SHARED) == ContentVersion("", None)
    store.import_versions(COLL, [exported])
    again = store.content_version(SHARED)
    assert again.tag not in ("", first.tag) and again.changed_us == exported.date_added_us
    assert isinstance(exported, TransferVersion)


def test_reading_it_does_not_read_the_collection(store: Store) -> None:
    """The marker is kept at write time: its cost does not depend on what the collection holds."""
    store.add_versions(SHARED, "org-a", False,
                       [version(f"indicator--{n}", "2021-01-01T00:00:00.000Z") for n in range(50)], T0)
    before = store.content_version(SHARED)
    if hasattr(store, "_coll"):  # MongoDB: no count and no scan of object_versions
        versions = store._coll("object_versions")
        calls: list[str] = []
        for name in ("count_documents", "find", "find_one", "aggregate"):
            original = getattr(versions, name)
            setattr(versions, name, lambda *a, _n=name, _o=original, **k: (calls.append(_n), _o(*a, **k))[1])
        store._coll = lambda name, _c=store._coll: versions if name == "object_versions" else _c(name)
        assert store.content_version(SHARED) == before and calls == []
    else:  # SQLite: one look-up by primary key, whatever the size
        with store._read() as conn:  # type: ignore[attr-defined]
            plan = conn.execute("EXPLAIN QUERY PLAN SELECT token, n, changed_us FROM feed_state "
                                "WHERE collection_id = ? AND part = ?", (COLL, "*")).fetchall()
        assert "object_versions" not in str(plan) and "PRIMARY KEY" in str(plan)
        assert store.content_version(SHARED) == before


def test_a_store_written_before_the_markers_existed_gets_them_when_it_starts(store: Store) -> None:
    inbox = ObjectScope(COLL, partitioned=True)
    store.add_versions(inbox, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    store.add_versions(inbox, "org-b", False, [version("indicator--b", "2021-01-01T00:00:00.000Z")], T0 + 1)
    if hasattr(store, "_coll"):  # as a store written by an earlier version holds no markers
        store._coll("feed_state").delete_many({})
    else:
        with store._write() as conn:  # type: ignore[attr-defined]
            conn.execute("DELETE FROM feed_state")
    assert store.content_version(inbox) == ContentVersion("", None)
    store.initialise()
    for scope in (inbox, ObjectScope(COLL, partitioned=True, owner="org-a")):
        seeded = store.content_version(scope)
        assert seeded.tag != "" and seeded.changed_us == store.newest_date_added(scope)
    before = store.content_version(inbox)
    store.initialise()  # only once: markers that exist are left alone
    assert store.content_version(inbox) == before
