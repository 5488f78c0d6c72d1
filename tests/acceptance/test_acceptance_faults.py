"""Acceptance case FAULT-02 on SQLite (spec/security.md §3.2, §5): a locked or full database gives a TAXII error
with Retry-After quickly, stores nothing of the refused request, and the same app serves again once the fault
is gone, without a restart. (FAULT-02 on MongoDB: tests/web/test_storage_unavailable.py; FAULT-01:
tests/e2e/test_e2e_kill.py.)

Decided here: a full database is 507 Insufficient Storage with Retry-After (StorageFull): the client may
retry later, and operators can tell "out of space" from "busy" (503) in their logs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from taxii_server.errors import StorageFull
from taxii_server.model import Status
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.acceptance_hub import CA, A, AcceptanceHub, build, objects_path, valid
from tests.support.hubtest import MT, ROOT

ANSWER_WITHIN_S = 5.0


def _is_retryable_error(response: Any, status: int) -> bool:
    body = orjson.loads(response.data)
    return (response.status_code == status and int(response.headers["Retry-After"]) > 0
            and response.headers["Content-Type"] == MT and body["http_status"] == str(status))


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@contextmanager
def held(path: Path, exclusive_mode: bool = False) -> Iterator[None]:
    """Another process's connection holding the write lock (BEGIN EXCLUSIVE); with `exclusive_mode`, holding the
    whole file (locking_mode=EXCLUSIVE, as an operator's sqlite3 shell or a copy tool can), so readers wait too."""
    with closing(sqlite3.connect(path, isolation_level=None, timeout=5)) as other:
        if exclusive_mode:
            other.execute("PRAGMA locking_mode = EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")
        if exclusive_mode:
            other.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fault-test', 'x')")
        try:
            yield
        finally:
            other.execute("ROLLBACK")


@pytest.fixture
def default_hub(tmp_path: Path) -> Iterator[AcceptanceHub]:
    """The production busy timeout (SQLiteStore's default)."""
    built = build(tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def quick_hub(tmp_path: Path) -> Iterator[AcceptanceHub]:
    built = build(tmp_path, lambda path: SQLiteStore(path, busy_timeout_ms=200))
    yield built
    built.store.close()


def test_fault_02_a_write_locked_database_is_a_503_within_5_s_and_readers_go_on(default_hub: AcceptanceHub) -> None:
    acc = default_hub
    before = acc.post(CA, [valid()])
    with held(acc.store.path):
        refused, took = _timed(lambda: acc.post(CA, [valid()]))
        read, read_took = _timed(lambda: acc.get(objects_path(CA)))
    assert took <= ANSWER_WITHIN_S
    assert _is_retryable_error(refused, 503)
    assert read.status_code == 200  # WAL: readers are not blocked by a writer
    assert read_took < 1.0  # recording the read in the poll history waits at most 250 ms for the lock
    assert [o["id"] for o in acc.stored(CA)] == [before.json["successes"][0]["id"]]
    assert acc.status_count() == 1
    assert acc.post(CA, [valid()]).status_code == 202  # released: served again, no restart


def test_fault_02_a_database_held_exclusively_is_a_503_within_5_s_for_reads_too(default_hub: AcceptanceHub) -> None:
    acc = default_hub
    acc.store.close()  # the hub's connection is opened again by the next request, while the file is held
    with held(acc.store.path, exclusive_mode=True):
        refused, took = _timed(lambda: acc.get(objects_path(CA)))
    assert took <= ANSWER_WITHIN_S
    assert _is_retryable_error(refused, 503)
    assert acc.get(objects_path(CA)).status_code == 200


WRITES = [
    ("POST", objects_path(CA), {"objects": [valid()]}),
    ("DELETE", objects_path(CA) + "indicator--6f0c2a6e-0000-4000-8000-000000000000/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=["add-objects", "delete-object"])
def test_fault_02_every_write_endpoint_answers_503_while_locked(
    quick_hub: AcceptanceHub, method: str, path: str, body: Any
) -> None:
    with held(quick_hub.store.path):
        response = quick_hub.request(method, path, A, orjson.dumps(body) if body else None)
    assert _is_retryable_error(response, 503)


def test_fault_02_readers_waiting_on_a_locked_database_answer_concurrently(quick_hub: AcceptanceHub) -> None:
    """Several requests blocked at once each get their own 503; none hangs past the bound."""
    quick_hub.store.close()
    answers: list[int] = []

    def ask() -> None:
        answers.append(quick_hub.get(objects_path(CA)).status_code)

    with held(quick_hub.store.path, exclusive_mode=True):
        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(ANSWER_WITHIN_S)
    assert answers == [503] * 4


# -- disk full ---------------------------------------------------------------------------------------------

class LimitedStore(SQLiteStore):
    """A store whose database may not grow beyond `max_pages` pages (PRAGMA max_page_count, per connection)."""

    max_pages: int | None = None

    def _conn(self) -> sqlite3.Connection:
        conn = super()._conn()
        conn.execute(f"PRAGMA max_page_count = {self.max_pages or 1_073_741_823}")
        return conn

    def pages(self) -> int:
        return int(self._conn().execute("PRAGMA page_count").fetchone()[0])


class StatusFailsStore(SQLiteStore):
    """The disk fills up between an envelope's objects and its status (the next write fails)."""

    fail_status = False

    def save_status(self, status: Status) -> None:
        if self.fail_status:
            raise StorageFull("the database is full (injected)")
        super().save_status(status)


def test_fault_02_a_full_database_is_a_507_stores_nothing_and_recovers(tmp_path: Path) -> None:
    acc = build(tmp_path, LimitedStore)
    store = acc.store
    assert isinstance(store, LimitedStore)
    kept = acc.post(CA, [valid()]).json["successes"][0]["id"]
    statuses = acc.status_count()
    store.max_pages = store.pages()
    big = [valid(description="d" * 3000) for _ in range(15)]
    refused = acc.post(CA, big)
    assert _is_retryable_error(refused, 507)
    assert [o["id"] for o in acc.stored(CA)] == [kept]  # readers unaffected; nothing of the envelope
    assert acc.status_count() == statuses
    store.max_pages = None  # space freed
    assert acc.post(CA, big).json["success_count"] == 15
    store.close()


def test_fault_02_objects_are_not_kept_when_their_status_cannot_be_stored(tmp_path: Path) -> None:
    acc = build(tmp_path, StatusFailsStore)
    assert isinstance(acc.store, StatusFailsStore)
    acc.store.fail_status = True
    response = acc.post(CA, [valid(), valid()])
    assert _is_retryable_error(response, 507)
    acc.store.fail_status = False
    assert acc.stored(CA) == []
    assert acc.get(f"/{ROOT}/collections/{CA}/manifest/").json == {}
    acc.store.close()
