"""A MongoDB client for tests that has transactions the way a replica set has them, as far as the store relies on
them: mongomock underneath, `hello` answering as a replica-set member, and sessions whose `with_transaction`
keeps every write of the callback or none (a snapshot of every collection, restored when the callback or the
commit fails).

It also holds the store to a replica set's rules: during a transaction, an operation made without the
transaction's session is recorded in `outside` (on a real server it would escape the transaction), and a
duplicate-key error aborts the transaction as the server does (the commit then fails). `transient` makes the
next commits fail with a TransientTransactionError (a write conflict), which `with_transaction` answers by
running the callback again. What it cannot show is concurrency: write conflicts between real writers and
snapshot reads need a real replica set (TAXII_HUB_TEST_MONGO_URI, `make test-mongo`).
"""

from __future__ import annotations

import collections
import copy
from collections.abc import Callable
from typing import Any

import mongomock
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

_DUPLICATE_KEY = 11000


class ReplicaSetMock:
    def __init__(self, transient: int = 0) -> None:
        self.mock = mongomock.MongoClient()
        self.transient = transient
        self.active: FakeSession | None = None
        self.outside: list[str] = []  # operations made without the session while a transaction ran
        self.attempts = 0
        self.commits = 0
        self.admin = _Admin()

    def get_database(self, name: str, **options: Any) -> _Database:
        return _Database(self, self.mock.get_database(name, **options))

    def start_session(self) -> FakeSession:
        return FakeSession(self)

    def close(self) -> None:
        self.mock.close()

    def _snapshot(self) -> dict[tuple[str, str], collections.OrderedDict[Any, Any]]:
        server = self.mock._store
        return {(db, name): copy.deepcopy(store._documents)
                for db, database in server._databases.items() for name, store in database._collections.items()}

    def _restore(self, snapshot: dict[tuple[str, str], collections.OrderedDict[Any, Any]]) -> None:
        server = self.mock._store
        for db, database in server._databases.items():
            for name, store in database._collections.items():
                store._documents = snapshot.get((db, name), collections.OrderedDict())


class _Admin:
    def command(self, name: str) -> dict[str, Any]:
        if name != "hello":
            raise NotImplementedError(name)
        return {"isWritablePrimary": True, "setName": "rs0", "logicalSessionTimeoutMinutes": 30}


class FakeSession:
    def __init__(self, server: ReplicaSetMock) -> None:
        self.server = server
        self.aborted = False

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def with_transaction(self, callback: Callable[[FakeSession], Any], **options: Any) -> Any:
        while True:
            self.server.attempts += 1
            snapshot = self.server._snapshot()
            self.server.active, self.aborted = self, False
            try:
                result = callback(self)
                if self.aborted:
                    raise OperationFailure("Transaction was aborted (a duplicate key inside it)", 251)
                if self.server.transient > 0:
                    self.server.transient -= 1
                    raise OperationFailure("WriteConflict", 112, {"errorLabels": ["TransientTransactionError"]})
            except BaseException as exc:
                self.server._restore(snapshot)
                if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
                    continue
                raise
            finally:
                self.server.active = None
            self.server.commits += 1
            return result


class _Database:
    def __init__(self, server: ReplicaSetMock, database: Any) -> None:
        self.client = server
        self._server = server
        self._database = database

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._server, self._database[name])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


class _Collection:
    def __init__(self, server: ReplicaSetMock, collection: Any) -> None:
        self._server = server
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)

        def call(*args: Any, session: Any = None, **kwargs: Any) -> Any:
            active = self._server.active
            if active is not None and session is not active:
                self._server.outside.append(f"{self._collection.name}.{name}")
            try:
                return method(*args, **kwargs)
            except (DuplicateKeyError, BulkWriteError) as exc:
                duplicate = isinstance(exc, DuplicateKeyError) or any(
                    e.get("code") == _DUPLICATE_KEY for e in exc.details.get("writeErrors", []))
                if active is not None and duplicate:
                    active.aborted = True
                raise

        return call
