"""MongoDB's write across several collections in one transaction (mongo_connection.py `atomically`), on a client
with a replica set's transactions (tests/support/mongotx.py): every operation of the write carries the
transaction's session, a write conflict runs the whole write again and stores it once, no duplicate key is
provoked inside the transaction, and a server without transactions runs the write once, unprotected."""

from __future__ import annotations

import mongomock
import pytest

from taxii_server.model import AuditEntry, CollectionDef, ObjectFilter, ObjectScope
from taxii_server.storage.mongo import MongoStore
from tests.support.everywhere import ANALYST, FIRST, SECOND, envelope, feeds_on, indicator
from tests.support.mongotx import ReplicaSetMock

pytestmark = pytest.mark.mongo
EVERY = ObjectFilter(version_keywords=frozenset({"all"}), spec_versions=("2.0", "2.1"))


def on(server: ReplicaSetMock) -> MongoStore:
    made = MongoStore(lambda: server, "taxii_hub_tx")  # type: ignore[arg-type,return-value]
    made.initialise()
    return made


def versions(store: MongoStore, collection: CollectionDef) -> list[str]:
    return [v.id for v in store.query(ObjectScope(collection.id), EVERY, None, 100).items]


def entry(n: int) -> AuditEntry:
    return AuditEntry(f"audit-{n}", 1_767_225_600_000_000 + n, "desk", "publish", "publication-1")


def test_a_replica_set_is_transactional_and_a_server_without_hello_is_not() -> None:
    assert on(ReplicaSetMock()).transactional
    plain = mongomock.MongoClient()
    assert not MongoStore(lambda: plain, "taxii_hub_tx").transactional


def test_every_operation_of_a_write_everywhere_is_in_its_transaction() -> None:
    server = ReplicaSetMock()
    store = on(server)
    feeds_on(store).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1), indicator(2)),
                                   then=lambda: store.add_audit(entry(1)))
    assert server.outside == [] and (server.attempts, server.commits) == (1, 1)


def test_the_check_sees_an_operation_made_outside_the_transaction() -> None:
    server = ReplicaSetMock()
    store, elsewhere = on(server), on(server)  # another store object has no part in this thread's transaction
    feeds_on(store).add_everywhere(ANALYST, [FIRST], envelope(indicator(1)),
                                   then=lambda: elsewhere.add_audit(entry(1)))
    assert "audit.insert_one" in server.outside


def test_a_write_conflict_runs_the_whole_write_again_and_stores_it_once() -> None:
    server = ReplicaSetMock(transient=2)
    store = on(server)
    statuses = feeds_on(store).add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1), indicator(2)),
                                              then=lambda: store.add_audit(entry(1)))
    assert (server.attempts, server.commits) == (3, 1)
    assert [[d.message for d in s.successes] for s in statuses] == [[None, None], [None, None]]
    assert versions(store, FIRST) == versions(store, SECOND) == [indicator(1)["id"], indicator(2)["id"]]
    assert [e.id for e in store.list_audit()] == ["audit-1"]
    assert all(store.get_status(s.id) is not None for s in statuses)


def test_objects_and_owners_already_stored_provoke_no_duplicate_key_in_the_transaction() -> None:
    server = ReplicaSetMock()
    store = on(server)
    feeds = feeds_on(store)
    feeds.add_objects(ANALYST, "api1", FIRST.id, lambda: envelope(indicator(1)))  # outside any transaction
    statuses = feeds.add_everywhere(ANALYST, [FIRST, SECOND], envelope(indicator(1), indicator(2), indicator(2)))
    assert server.commits == 1 and server.outside == []
    assert [[d.message for d in s.successes] for s in statuses] == [["already present", None, "already present"],
                                                                    [None, None, "already present"]]
    assert versions(store, FIRST) == versions(store, SECOND) == [indicator(1)["id"], indicator(2)["id"]]
