"""The SQLite connection of one hub process, and the one place sqlite3 errors become StorageUnavailable.

WAL journal, `busy_timeout`, `BEGIN IMMEDIATE` for every write transaction (so `date_added` is assigned under
the database's write lock, across processes), one connection per process and thread, opened lazily so that a
gunicorn worker opens its own after fork. The base class of every SQLite mixin (sqlite_*.py). Must not: know
what is stored, or let a sqlite3 error escape.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from ..errors import StorageFull, StorageUnavailable

T = TypeVar("T")


# Pages are read through the OS's page cache, shared by every connection and process, instead of being copied
# into each connection's 2 MiB cache: at a million submissions a submission's inserts and a correlation job's
# index reads otherwise miss that cache on most pages (POST /hub/v1/submissions p50 12.9 ms at 1M against
# 8.8 ms at 10k; with the map 4.9 ms, bench/correlation.py). Writes still go through the WAL.
MMAP_BYTES = 2**31 - 2**16


class SQLiteConnection:
    transactional = True  # atomic() is one BEGIN IMMEDIATE … COMMIT

    # 4 s: a write that finds the database locked answers 503 within 5 s (spec §3.2), below gunicorn's timeout.
    def __init__(self, path: Path, *, busy_timeout_ms: int = 4000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        except (sqlite3.Error, OSError) as exc:
            raise StorageUnavailable(f"cannot open the database: {exc}") from exc
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn()
        except sqlite3.Error as exc:
            raise unavailable(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        if getattr(self._local, "atomic", False):  # inside atomic(): its transaction commits or rolls back
            try:
                yield conn
            except sqlite3.Error as exc:
                raise unavailable(exc) from exc
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"database is busy: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise unavailable(exc) from exc
            raise

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """The writes made inside as one transaction: all of them are stored, or none."""
        with self._write():
            outer = getattr(self._local, "atomic", False)
            self._local.atomic = True
            try:
                yield
            finally:
                self._local.atomic = outer

    def atomically(self, work: Callable[[], T]) -> T:
        """`work` inside one transaction (base.ObjectStore.atomically): it runs once."""
        with self.atomic():
            return work()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None


def unavailable(exc: sqlite3.Error) -> StorageUnavailable:
    """SQLITE_FULL (disk full, or max_page_count reached) is told apart: waiting will not help, space will.
    SQLite has rolled the statement's transaction back by then, so nothing of the request stays."""
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return StorageFull(f"the database is full: {exc}")
    return StorageUnavailable(f"database error: {exc}")
