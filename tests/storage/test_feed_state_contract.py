"""The feeds' content version: it moves on every addition and removal in the scope, and only then."""

from __future__ import annotations

from taxii_server.model import ObjectFilter, ObjectScope
from taxii_server.storage.base import Store
from tests.support.contract import COLL, T0, version

SHARED = ObjectScope(COLL)


def test_an_addition_changes_the_content_version(store: Store) -> None:
    empty = store.content_version(SHARED)
    assert store.content_version(SHARED) == empty
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    one = store.content_version(SHARED)
    assert one != empty and store.content_version(SHARED) == one
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-02T00:00:00.000Z")], T0 + 1)
    assert store.content_version(SHARED) not in (empty, one)


def test_a_removal_changes_it_even_when_the_newest_version_stays(store: Store) -> None:
    store.add_versions(SHARED, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z"),
                                                version("indicator--b", "2021-01-01T00:00:00.000Z")], T0)
    before = store.content_version(SHARED)
    assert store.delete(SHARED, "indicator--a", ObjectFilter(version_keywords=frozenset({"all"}))) == 1
    assert store.content_version(SHARED) != before


def test_an_inbox_members_version_ignores_other_members_additions(store: Store) -> None:
    inbox = ObjectScope(COLL, partitioned=True)
    own = ObjectScope(COLL, partitioned=True, owner="org-a")
    store.add_versions(inbox, "org-a", False, [version("indicator--a", "2021-01-01T00:00:00.000Z")], T0)
    mine, everyone = store.content_version(own), store.content_version(inbox)
    store.add_versions(inbox, "org-b", False, [version("indicator--b", "2021-01-01T00:00:00.000Z")], T0 + 1)
    assert store.content_version(own) == mine
    assert store.content_version(inbox) != everyone
