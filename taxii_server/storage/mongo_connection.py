"""The MongoDB connection of one hub process, and the one place driver errors become StorageUnavailable.

Owns: reading the storage URL (database name from its path), the driver options (majority write concern,
journaled; majority read concern; retryable writes; timeouts of a few seconds, well below gunicorn's worker
timeout, so an unreachable or electing replica set gives a 503 quickly), one client per process (opened
lazily, so a gunicorn worker opens its own after fork) and translating driver errors. Must not: know what
is stored (mongo.py, mongo_records.py) or let a pymongo exception escape.

Transactions (`atomically`): on a replica set or through mongos (`hello` says which, asked once) the work
runs in one multi-document transaction with pymongo's `with_transaction`, which retries the whole work on
TransientTransactionError (a write conflict with another writer, an election) and the commit on
UnknownTransactionCommitResult, within TRANSACTION_TIMEOUT_S. While it runs, every collection this thread
gets from `_coll` carries the transaction's session, and driver errors pass through `guard` untranslated, so
that `with_transaction` sees their labels; they are translated once, around the transaction. A standalone
server (or an in-process fake without sessions) has no transactions: `transactional` is False and the work
runs once, unprotected; the caller takes back what it wrote (feeds.py `add_everywhere`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import pymongo
from pymongo import MongoClient, WriteConcern
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import ConfigurationError, OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.uri_parser import parse_uri

from ..errors import ConfigError, StorageUnavailable

Doc = dict[str, Any]
ClientFactory = Callable[[], "MongoClient[Doc]"]

# Defaults an operator may override in the URL's query string (…?timeoutMS=8000). timeoutMS bounds a whole
# operation, retries and server selection included, and is sent to the server as maxTimeMS.
DRIVER_DEFAULTS: dict[str, Any] = {
    "serverSelectionTimeoutMS": 2000,
    "connectTimeoutMS": 2000,
    "timeoutMS": 3000,
    "retryWrites": True,
    "retryReads": True,
}
RETRY_AFTER_S = 5
# A transaction, its retries and its commit together: well below gunicorn's worker timeout.
TRANSACTION_TIMEOUT_S = 10.0
T = TypeVar("T")


def parse_url(url: str) -> tuple[str, dict[str, Any]]:
    """The database name and the driver options for a `mongodb://` or `mongodb+srv://` URL."""
    try:
        parsed = parse_uri(url, connect_timeout=2) if url.startswith("mongodb+srv://") else parse_uri(url)
    except (ConfigurationError, ValueError) as exc:
        raise ConfigError(f"storage.url: not a usable MongoDB URL: {exc}") from exc
    database = parsed.get("database")
    if not database:
        raise ConfigError("storage.url: name the database in the URL path, e.g. mongodb://host1,host2/taxii_hub")
    given = {str(k).lower() for k in parsed.get("options", {})}
    options = {k: v for k, v in DRIVER_DEFAULTS.items() if k.lower() not in given}
    return str(database), options


class MongoConnection:
    """One client per process and the database handle with the hub's read and write concerns."""

    def __init__(self, client_factory: ClientFactory, database: str) -> None:
        self._factory = client_factory
        self.database_name = database
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._client: MongoClient[Doc] | None = None
        self._database: Database[Doc] | None = None
        self._transactions: bool | None = None  # what `hello` said, once known
        self._in_transaction = threading.local()  # .session: this thread's transaction, while one runs

    def _db(self) -> Database[Doc]:
        pid = os.getpid()
        if self._database is not None and self._pid == pid:
            return self._database
        with self._lock:
            if self._database is None or self._pid != pid:
                with self.guard("connect to"):
                    client = self._factory()
                    self._client, self._pid = client, pid
                    self._database = client.get_database(
                        self.database_name,
                        write_concern=WriteConcern("majority", j=True),
                        read_concern=ReadConcern("majority"),
                    )
            return self._database

    def _coll(self, name: str) -> Collection[Doc]:
        collection = self._db()[name]
        session = self._session()
        return collection if session is None else cast("Collection[Doc]", _InSession(collection, session))

    def _session(self) -> ClientSession | None:
        session: ClientSession | None = getattr(self._in_transaction, "session", None)
        return session

    @property
    def transactional(self) -> bool:
        """Whether the server runs multi-document transactions: a replica set member or mongos (`hello`)."""
        if self._transactions is None:
            try:
                with self.guard("say what kind of server it is"):
                    hello = self._db().client.admin.command("hello")
            except NotImplementedError:  # a client that cannot even ask (an in-process fake) has none
                self._transactions = False
            except StorageUnavailable as exc:
                if not isinstance(exc.__cause__, OperationFailure):
                    raise  # unreachable: ask again next time
                self._transactions = False  # a server too old to know `hello` (< 4.4.2)
            else:
                self._transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
        return self._transactions

    def atomically(self, work: Callable[[], T]) -> T:
        """`work` as one transaction where the server has them (module docstring); else run once."""
        if self._session() is not None or not self.transactional:
            return work()

        def attempt(session: ClientSession) -> T:
            self._in_transaction.session = session
            try:
                return work()
            finally:
                self._in_transaction.session = None

        with self.guard("finish a transaction"), pymongo.timeout(TRANSACTION_TIMEOUT_S):
            with self._db().client.start_session() as session:
                return session.with_transaction(
                    attempt, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority", j=True))

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate every driver error into StorageUnavailable (→ 503 with Retry-After), keeping the cause.
        Inside a transaction the error passes unchanged: `with_transaction` decides from its labels."""
        try:
            yield
        except PyMongoError as exc:
            if self._session() is not None:
                raise
            raise StorageUnavailable(
                f"the database could not {doing} ({type(exc).__name__}): {_first_line(exc)}",
                retry_after=RETRY_AFTER_S,
            ) from exc

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            self._client = None
            self._database = None
            self._pid = None


class _InSession:
    """A collection whose every operation runs in the given session (a transaction): pymongo has no ambient
    session, so the session is added to each call."""

    def __init__(self, collection: Collection[Doc], session: ClientSession) -> None:
        self._collection = collection
        self._session = session

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)
        if isinstance(method, str):  # name, full_name
            return method

        def in_session(*args: Any, **kwargs: Any) -> Any:
            return method(*args, session=self._session, **kwargs)

        return in_session


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else "no detail"
