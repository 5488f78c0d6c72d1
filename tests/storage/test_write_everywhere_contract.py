"""One envelope into several collections, all or nothing (`Feeds.add_everywhere`, what publishing uses), on every
backend: a per-object failure in a later collection, a storage failure mid-way or a failure of the caller's
own records leaves no object of the write in any collection.

Where the store is transactional (SQLite; MongoDB on a replica set: `mongo-server` when TAXII_HUB_TEST_MONGO_URI
names one, and `mongo-replica-set-mock`, tests/support/mongotx.py) it is one transaction: a failure mid-way
also leaves no status and none of the caller's records. Without transactions (mongomock, like a standalone
server) the versions added are deleted again and the statuses stay. The failures are injected: a store that
loses the database at its n-th write of objects (`FailingStore`), or caller's records that fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxii_server.errors import StorageUnavailable
from taxii_server.feeds import Torn
from taxii_server.model import Status
from taxii_server.storage.base import Store
from taxii_server.storage.mongo import MongoStore
from tests.support.backends import BACKENDS
from tests.support.everywhere import (
    ANALYST,
    FIRST,
    SECOND,
    audit_entry,
    envelope,
    feeds_on,
    held,
    indicator,
)
from tests.support.mongotx import ReplicaSetMock

REPLICA_SET_MOCK = "mongo-replica-set-mock"


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.mongo] if "mongo" in name else [])
                        for name in [*sorted(BACKENDS), REPLICA_SET_MOCK]])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The contract's backends, and MongoDB with transactions as a replica set has them (mongomock underneath)."""
    if request.param == REPLICA_SET_MOCK:
        server = ReplicaSetMock()
        made: Store = MongoStore(lambda: server, "taxii_hub_contract")  # type: ignore[arg-type,return-value]
    else:
        made = BACKENDS[request.param](tmp_path)
    made.initialise()
    yield made
    if isinstance(made, MongoStore) and request.param == "mongo-server":
        made._db().client.drop_database(made.database_name)
    made.close()


class FailingStore:
    """The store, except that the `fail_at`-th add_versions call raises as an unreachable database would; it
    remembers the statuses saved through it."""

    def __init__(self, store: Store, fail_at: int) -> None:
        self._store = store
        self._calls = 0
        self._fail_at = fail_at
        self.statuses: list[str] = []

    def add_versions(self, *args: Any, **kwargs: Any) -> Any:
        self._calls += 1
        if self._calls == self._fail_at:
            raise StorageUnavailable("the database went away")
        return self._store.add_versions(*args, **kwargs)

    def save_status(self, status: Status) -> None:
        self.statuses.append(status.id)
        self._store.save_status(status)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


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




def test_a_storage_failure_mid_way_loses_the_statuses_in_a_transaction_and_keeps_them_without(store: Store) -> None:
    """A transaction (SQLite, a MongoDB replica set) loses what it wrote; a standalone MongoDB takes the objects
    back and keeps the statuses, which say what was accepted before the failure."""
    failing = FailingStore(store, fail_at=2)
    with pytest.raises(StorageUnavailable):
        feeds_on(failing).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1)))
    assert held(store, FIRST) == held(store, SECOND) == []
    (first,) = failing.statuses  # the first collection's objects and status were written, then the write failed
    saved = store.get_status(first)
    if store.transactional:
        assert saved is None
    else:
        assert saved is not None and [d.id for d in saved.successes] == [indicator(1)["id"]]


def test_a_failure_of_the_callers_records_mid_way_leaves_no_object_and_in_a_transaction_no_record(
    store: Store,
) -> None:
    failing = FailingStore(store, fail_at=0)

    def records() -> None:
        store.add_audit(audit_entry(1))  # one record written, then the next fails
        raise StorageUnavailable("the publication could not be saved")

    with pytest.raises(StorageUnavailable):
        feeds_on(failing).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1)), then=records)
    assert held(store, FIRST) == held(store, SECOND) == []
    if store.transactional:
        assert [store.get_status(s) for s in failing.statuses] == [None, None]
        assert store.list_audit() == []
    else:  # without transactions a record the caller wrote stays: the caller's own records are its to undo
        assert [e.id for e in store.list_audit()] == ["audit-1"]


def test_the_callers_records_are_kept_with_the_objects(store: Store) -> None:
    feeds_on(store).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1)),
                                   then=lambda: store.add_audit(audit_entry(1)))
    assert [e.id for e in store.list_audit()] == ["audit-1"]
    assert held(store, FIRST) == held(store, SECOND) == [indicator(1)["id"]]


def test_the_same_object_twice_in_one_write_is_stored_once(store: Store) -> None:
    statuses = feeds_on(store).add_everywhere(ANALYST, [FIRST], envelope(indicator(1), indicator(1)))
    assert [(d.id, d.message) for d in statuses[0].successes] == [(indicator(1)["id"], None),
                                                                   (indicator(1)["id"], "already present")]
    assert held(store, FIRST) == [indicator(1)["id"]]
