"""What only the MongoDB backend has: its indexes, its concerns and timeouts, driver-error translation, and the
date_added watermark that keeps pollers from missing objects when several writers commit out of order.

Every test here runs on mongomock (marked `mongo`, so `pytest -k mongo` selects them); faults and interleavings
are injected through the constructor (a failing client, a clock, a hook between allocation and insert).
"""

from __future__ import annotations

import os
from typing import Any

import mongomock
import pytest
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from taxii_server.errors import ConfigError, Conflict, StorageUnavailable
from taxii_server.model import ObjectFilter, Organisation, Status
from taxii_server.storage import open_store
from taxii_server.storage.mongo import INDEXES, MongoStore
from taxii_server.storage.mongo_clock import DEFAULT_LEASE_S
from taxii_server.storage.mongo_connection import parse_url
from tests.support.contract import COLL, SHARED, T0, count_versions, ind, ts, version
from tests.support.mongofake import FaultyClient, Switch

pytestmark = pytest.mark.mongo

DB = "taxii_hub_test"
EVERYTHING = ObjectFilter(version_keywords=frozenset({"all"}))


def mongomock_store(client: Any, **options: Any) -> MongoStore:
    store = MongoStore(lambda: client, DB, **options)
    store.initialise()
    return store


def ids(store: MongoStore, after: int | None = None) -> list[str]:
    return [i.id for i in store.query(SHARED, EVERYTHING, after, 100).items]


# -- configuration -------------------------------------------------------------------------------------------


def test_the_storage_url_picks_the_mongodb_backend_and_names_the_database_without_connecting() -> None:
    store = open_store("mongodb://db1.example,db2.example,db3.example/taxii_hub?replicaSet=rs0")
    assert isinstance(store, MongoStore)
    assert store.database_name == "taxii_hub"


def test_a_url_without_a_database_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="name the database"):
        open_store("mongodb://db1.example/?replicaSet=rs0")


def test_timeouts_default_to_a_few_seconds_and_the_url_may_override_them() -> None:
    _, defaults = parse_url("mongodb://db1.example/taxii_hub")
    _, tuned = parse_url("mongodb://db1.example/taxii_hub?timeoutMS=8000")
    assert defaults["timeoutMS"] <= 5000 and defaults["serverSelectionTimeoutMS"] <= 3000
    assert defaults["retryWrites"] is True
    assert "timeoutMS" not in tuned


class RecordingClient:
    """Remembers the options the store opens its database with."""

    def __init__(self) -> None:
        self.real = mongomock.MongoClient()
        self.options: dict[str, Any] = {}

    def get_database(self, name: str, **options: Any) -> Any:
        self.options = options
        return self.real.get_database(name, **options)


def test_writes_are_majority_and_journaled_and_reads_majority() -> None:
    client = RecordingClient()
    mongomock_store(client)
    assert client.options["write_concern"].document == {"w": "majority", "j": True}
    assert client.options["read_concern"].level == "majority"


# -- indexes and schema --------------------------------------------------------------------------------------


def test_initialise_creates_every_index_and_is_idempotent() -> None:
    client = mongomock.MongoClient()
    store = mongomock_store(client)
    store.initialise()
    for collection, keys, unique in INDEXES:
        info = {tuple(v["key"]): v.get("unique", False) for v in client[DB][collection].index_information().values()}
        assert info.get(tuple(keys)) == unique, (collection, keys)


def test_version_documents_are_unique_per_collection_partition_id_and_version() -> None:
    client = mongomock.MongoClient()
    store = mongomock_store(client)
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    [doc] = client[DB]["object_versions"].find()
    with pytest.raises(DuplicateKeyError):
        client[DB]["object_versions"].insert_one({k: v for k, v in doc.items() if k != "_id"} | {"d": T0 + 99})


def test_a_database_written_by_a_newer_hub_is_refused() -> None:
    store = mongomock_store(mongomock.MongoClient())
    store.import_meta("schema_version", "99")
    with pytest.raises(ConfigError, match="newer than this taxii-hub"):
        store.initialise()


# -- driver errors -------------------------------------------------------------------------------------------

DRIVER_ERRORS = [
    ServerSelectionTimeoutError("No replica set members match selector"),
    NotPrimaryError("not primary"),
    AutoReconnect("connection reset"),
    NetworkTimeout("timed out"),
    OperationFailure("operation exceeded time limit", code=50),
    ConnectionFailure("connection refused"),
]
OPERATIONS = {
    "query": lambda s: s.query(SHARED, ObjectFilter(), None, 10),
    "add": lambda s: s.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0),
    "delete": lambda s: s.delete(SHARED, ind(1), EVERYTHING),
    "status": lambda s: s.get_status("s1"),
    "credential": lambda s: s.find_credential("ab" * 32),
    "meta": lambda s: s.get_or_create_meta("paging_key", "k"),
}


@pytest.mark.parametrize("error", DRIVER_ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_driver_errors_become_storage_unavailable_with_the_cause_kept(error: Exception, operation: str) -> None:
    switch = Switch()
    store = mongomock_store(FaultyClient(switch))
    switch.error = error
    with pytest.raises(StorageUnavailable) as caught:
        OPERATIONS[operation](store)
    assert caught.value.__cause__ is error
    assert caught.value.retry_after > 0


def test_the_store_recovers_by_itself_when_the_database_returns() -> None:
    switch = Switch()
    store = mongomock_store(FaultyClient(switch))
    switch.error = ServerSelectionTimeoutError("primary stepped down")
    with pytest.raises(StorageUnavailable):
        store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    switch.error = None
    [result] = store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    assert result.outcome == "added"


def test_a_client_that_cannot_be_created_is_storage_unavailable() -> None:
    def refuse() -> Any:
        raise ConnectionFailure("no route to host")

    with pytest.raises(StorageUnavailable, match="no route to host"):
        MongoStore(refuse, DB).get_status("s1")


def test_a_duplicate_key_on_an_organisation_is_a_conflict() -> None:
    store = mongomock_store(mongomock.MongoClient())
    org = Organisation("org-a", "A", "gas", ("member",), "t")
    store.add_organisation(org)
    with pytest.raises(Conflict):
        store.add_organisation(org)


def test_a_meta_value_created_concurrently_by_another_process_wins() -> None:
    switch = Switch()
    real = mongomock.MongoClient()
    store = mongomock_store(FaultyClient(switch, real))
    switch.before[("meta", "insert_one")] = lambda: real[DB]["meta"].insert_one({"_id": "k", "value": "theirs"})
    assert store.get_or_create_meta("k", "mine") == "theirs"


def test_a_bulk_error_other_than_a_duplicate_is_storage_unavailable() -> None:
    switch = Switch()
    store = mongomock_store(FaultyClient(switch))

    def fail() -> None:
        raise BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "validation"}],
                              "writeConcernErrors": [], "nInserted": 0})

    switch.before[("object_versions", "insert_many")] = fail
    with pytest.raises(StorageUnavailable, match="BulkWriteError"):
        store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)


def test_an_unacknowledged_majority_write_is_storage_unavailable() -> None:
    switch = Switch()
    store = mongomock_store(FaultyClient(switch))

    def fail() -> None:
        raise BulkWriteError({"writeErrors": [], "nInserted": 1,
                              "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}]})

    switch.before[("object_versions", "insert_many")] = fail
    with pytest.raises(StorageUnavailable):
        store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)


# -- date_added across several writers -----------------------------------------------------------------------


def test_a_reader_never_passes_a_date_added_still_being_written() -> None:
    """Writer A allocates first; B allocates later, and commits while A is still writing. A reader then
    must not see B's version yet: moving its cursor past it would skip A's for ever."""
    client = mongomock.MongoClient()
    reader = mongomock_store(client)
    writer_b = mongomock_store(client)
    during: list[list[str]] = []

    def b_commits_first(collection_id: str, first: int, count: int) -> None:
        [b] = writer_b.add_versions(SHARED, "org-b", False, [version(ind(2), ts(1))], T0)
        assert b.outcome == "added"
        during.append(ids(reader))

    writer_a = mongomock_store(client, before_insert=b_commits_first)
    writer_a.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    assert during == [[]]
    page = reader.query(SHARED, EVERYTHING, None, 10).items
    assert [i.id for i in page] == [ind(1), ind(2)]
    assert page[0].date_added_us < page[1].date_added_us


def test_a_poller_that_paged_while_a_writer_was_slow_gets_its_object_next_time() -> None:
    client = mongomock.MongoClient()
    reader = mongomock_store(client)
    reader.add_versions(SHARED, "org-c", False, [version(ind(0), ts(1))], T0)
    cursor: list[int] = []

    def poll_meanwhile(collection_id: str, first: int, count: int) -> None:
        mongomock_store(client).add_versions(SHARED, "org-b", False, [version(ind(2), ts(1))], T0)
        page = reader.query(SHARED, EVERYTHING, None, 10).items
        cursor.append(page[-1].date_added_us)
        assert [i.id for i in page] == [ind(0)]

    mongomock_store(client, before_insert=poll_meanwhile).add_versions(
        SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    assert ids(reader, cursor[0]) == [ind(1), ind(2)]


def test_an_abandoned_write_holds_readers_back_only_until_its_lease_expires() -> None:
    client = mongomock.MongoClient()
    now = [1_000.0]

    def worker_killed(collection_id: str, first: int, count: int) -> None:
        raise KeyboardInterrupt  # stands for SIGKILL between allocation and insert

    crashing = mongomock_store(client, before_insert=worker_killed, wall_clock=lambda: now[0])
    other = mongomock_store(client, wall_clock=lambda: now[0])
    with pytest.raises(KeyboardInterrupt):
        crashing.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    other.add_versions(SHARED, "org-b", False, [version(ind(2), ts(1))], T0)
    assert ids(other) == []
    now[0] += DEFAULT_LEASE_S + 1
    assert ids(other) == [ind(2)]


def test_a_writer_that_lost_its_lease_re_dates_its_versions_above_what_readers_passed() -> None:
    client = mongomock.MongoClient()
    reader_clock = [1_000.0]
    reader = mongomock_store(client, wall_clock=lambda: reader_clock[0])
    passed: list[int] = []

    def stalled(collection_id: str, first: int, count: int) -> None:
        mongomock_store(client).add_versions(SHARED, "org-b", False, [version(ind(2), ts(1))], T0)
        reader_clock[0] += 10 * DEFAULT_LEASE_S  # to the reader, A's lease is long over: it reads past A
        page = reader.query(SHARED, EVERYTHING, None, 10).items
        assert [i.id for i in page] == [ind(2)]
        passed.append(page[-1].date_added_us)

    [a] = mongomock_store(client, before_insert=stalled, wall_clock=lambda: 1_000.0).add_versions(
        SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    assert a.outcome == "added"
    later = reader.query(SHARED, EVERYTHING, passed[0], 10).items
    assert [i.id for i in later] == [ind(1)]
    assert later[0].date_added_us > passed[0]


def test_a_writer_too_slow_to_start_inserting_gives_up_without_writing() -> None:
    client = mongomock.MongoClient()
    mono = [0.0]

    def paused(collection_id: str, first: int, count: int) -> None:
        mono[0] += DEFAULT_LEASE_S  # e.g. a long GC pause or a stopped VM

    slow = mongomock_store(client, before_insert=paused, monotonic=lambda: mono[0])
    with pytest.raises(StorageUnavailable, match="took too long"):
        slow.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    assert count_versions(slow, COLL) == 0


def test_concurrent_writers_get_distinct_increasing_ranges() -> None:
    client = mongomock.MongoClient()
    writers = [mongomock_store(client) for _ in range(3)]
    for n in range(12):
        writers[n % 3].add_versions(SHARED, "o", True, [version(ind(n), ts(1)), version(ind(n + 100), ts(1))], T0)
    added = [i.date_added_us for i in writers[0].query(SHARED, EVERYTHING, None, 100).items]
    assert len(added) == 24 and added == sorted(set(added))


# -- a real server -------------------------------------------------------------------------------------------

MONGO_URI = os.environ.get("TAXII_HUB_TEST_MONGO_URI", "")


@pytest.mark.skipif(not MONGO_URI, reason="TAXII_HUB_TEST_MONGO_URI is not set: the storage contract ran on "
                                          "mongomock only, not on a real MongoDB server (make test-mongo)")
def test_real_mongodb_server_is_a_replica_set_accepting_majority_writes() -> None:
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(MONGO_URI, serverSelectionTimeoutMS=5000)
    hello = client.admin.command("hello")
    assert hello.get("setName"), "retryable writes and majority reads need a replica set"
    store = MongoStore(lambda: client, f"taxii_hub_test_{os.getpid()}")
    try:
        store.initialise()
        store.save_status(Status("s1", "api1", COLL, "org-a", T0))
        assert store.get_status("s1") is not None
    finally:
        client.drop_database(store.database_name)
