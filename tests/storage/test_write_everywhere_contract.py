"""One envelope into several collections, all or nothing (`Feeds.add_everywhere`, what publishing uses), on every
backend: a per-object failure in a later collection, a storage failure mid-way or a failure of the caller's
own records leaves no object of the write in any collection (SQLite: one transaction rolled back; MongoDB: the
versions added are deleted again)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from taxii_server.catalog import Catalog
from taxii_server.errors import StorageUnavailable
from taxii_server.feeds import Feeds, Torn
from taxii_server.model import ApiRootDef, CollectionDef, ObjectFilter, ObjectScope, Principal
from taxii_server.paging import TokenSigner
from taxii_server.settings import DiscoverySettings
from taxii_server.storage.base import Store

ANALYST = Principal("desk", "hub", frozenset({"analyst"}))
FIRST = CollectionDef("11111111-1111-4111-8111-111111111111", "api1", "first", write=("role:analyst",),
                      read=("role:analyst",))
SECOND = CollectionDef("22222222-2222-4222-8222-222222222222", "api1", "second", write=("role:analyst",),
                       read=("role:analyst",))
EVERY = ObjectFilter(version_keywords=frozenset({"all"}), spec_versions=("2.0", "2.1"))
WHEN = "2026-01-05T00:00:00.000Z"


def indicator(n: int, name: str = "x") -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
            "created": WHEN, "modified": WHEN, "name": name, "pattern": "[ipv4-addr:value = '198.51.100.1']",
            "pattern_type": "stix", "valid_from": WHEN}


def envelope(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps({"objects": list(objects)})


class FailingStore:
    """The store, except that the `fail_at`-th add_versions call raises as an unreachable database would."""

    def __init__(self, store: Store, fail_at: int) -> None:
        self._store = store
        self._calls = 0
        self._fail_at = fail_at

    def add_versions(self, *args: Any, **kwargs: Any) -> Any:
        self._calls += 1
        if self._calls == self._fail_at:
            raise StorageUnavailable("the database went away")
        return self._store.add_versions(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def feeds_on(store: Any) -> Feeds:
    catalog = Catalog([FIRST, SECOND], {"api1": ApiRootDef("api1", "one")})
    return Feeds(catalog, store, TokenSigner(b"k" * 32), DiscoverySettings(title="t"))


def held(store: Store, collection: CollectionDef) -> list[str]:
    return [v.id for v in store.query(ObjectScope(collection.id), EVERY, None, 100).items]


def test_a_write_everywhere_lands_in_every_collection_and_then_runs(store: Store) -> None:
    ran: list[str] = []
    statuses = feeds_on(store).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1), indicator(2)),
                                              then=lambda: ran.append("records"))
    assert [len(s.successes) for s in statuses] == [2, 2] and ran == ["records"]
    assert held(store, FIRST) == held(store, SECOND) == [indicator(1)["id"], indicator(2)["id"]]


def test_a_per_object_failure_in_a_later_collection_leaves_nothing_anywhere(store: Store) -> None:
    feeds = feeds_on(store)
    earlier = feeds.add_objects(ANALYST, "api1", SECOND.id, lambda: envelope(indicator(2, "another content")))
    assert len(earlier.successes) == 1
    ran: list[str] = []
    with pytest.raises(Torn, match=f"{SECOND.id}: {indicator(2)['id']}: a different object") as refused:
        feeds.add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1), indicator(2)),
                             then=lambda: ran.append("records"))
    assert len(refused.value.failures) == 1
    assert held(store, FIRST) == [] and held(store, SECOND) == [indicator(2)["id"]] and ran == []


def test_a_storage_failure_mid_way_leaves_nothing_anywhere(store: Store) -> None:
    with pytest.raises(StorageUnavailable):
        feeds_on(FailingStore(store, fail_at=2)).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1)))
    assert held(store, FIRST) == held(store, SECOND) == []


def test_a_failure_of_the_callers_own_records_takes_the_objects_back(store: Store) -> None:
    def records() -> None:
        raise StorageUnavailable("the publication could not be saved")

    with pytest.raises(StorageUnavailable):
        feeds_on(store).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1)), then=records)
    assert held(store, FIRST) == held(store, SECOND) == []


def test_objects_already_there_stay_when_the_write_is_taken_back(store: Store) -> None:
    feeds = feeds_on(store)
    feeds.add_objects(ANALYST, "api1", FIRST.id, lambda: envelope(indicator(1)))
    feeds.add_objects(ANALYST, "api1", SECOND.id, lambda: envelope(indicator(2, "another content")))
    with pytest.raises(Torn):
        feeds.add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1), indicator(2), indicator(3)))
    assert held(store, FIRST) == [indicator(1)["id"]]  # a duplicate is not the write's to remove
    assert held(store, SECOND) == [indicator(2)["id"]]


