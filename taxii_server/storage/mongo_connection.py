"""The MongoDB connection of one hub process, and the one place driver errors become StorageUnavailable.

Owns: reading the storage URL (database name from its path), the driver options (majority write concern,
journaled; majority read concern; retryable writes; timeouts of a few seconds, well below gunicorn's worker
timeout, so an unreachable or electing replica set gives a 503 quickly), one client per process (opened
lazily, so a gunicorn worker opens its own after fork) and translating driver errors. Must not: know what
is stored (mongo.py, mongo_records.py) or let a pymongo exception escape.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import MongoClient, WriteConcern
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import ConfigurationError, PyMongoError
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
        return self._db()[name]

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate every driver error into StorageUnavailable (→ 503 with Retry-After), keeping the cause."""
        try:
            yield
        except PyMongoError as exc:
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else "no detail"
